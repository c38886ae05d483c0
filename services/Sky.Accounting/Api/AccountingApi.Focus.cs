using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Api;

/// <summary>ExportFocus: a tenant's period as FOCUS 1.2 CSV, streamed in 64 KiB chunks (<see cref="Focus.FocusExportRpc"/>).</summary>
public sealed partial class AccountingApi
{
    public override Task ExportFocus(ExportFocusRequest request, IServerStreamWriter<ExportFocusResponse> responseStream, ServerCallContext context) =>
        focus.ExportAsync(request, context.GetCaller(), responseStream, context.CancellationToken);
}
