using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Api;

/// <summary>Usage: providers record what they meter themselves; everyone reads the usage they may see.</summary>
public sealed partial class AccountingApi
{
    public override Task<RecordUsageResponse> RecordUsage(RecordUsageRequest request, ServerCallContext context) =>
        records.RecordAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<ListUsageResponse> ListUsage(ListUsageRequest request, ServerCallContext context) =>
        usage.ListAsync(request, context.GetCaller(), context.CancellationToken);
}
