using Grpc.Core;
using Sky.Hosting.Identity;
using Sky.Transfer.Jobs;
using Sky.Transfer.V1;

namespace Sky.Transfer.Api;

/// <summary>gRPC adapter of sky.transfer.v1.Transfer: unpacks requests, calls the engine, packs responses.</summary>
public sealed class TransferApi(TransferEngine engine) : V1.Transfer.TransferBase
{
    public override Task<PlanTransferResponse> PlanTransfer(PlanTransferRequest request, ServerCallContext context) =>
        engine.PlanAsync(request.Spec, context.GetCaller(), context.CancellationToken);

    public override Task<StartTransferResponse> StartTransfer(StartTransferRequest request, ServerCallContext context) =>
        engine.StartAsync(request, context.GetCaller(), context.CancellationToken);

    public override async Task<GetTransferResponse> GetTransfer(GetTransferRequest request, ServerCallContext context) =>
        new() { Transfer = await engine.GetAsync(request.TransferId, context.GetCaller(), context.CancellationToken) };

    public override Task<ListTransfersResponse> ListTransfers(ListTransfersRequest request, ServerCallContext context) =>
        engine.ListAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<CancelTransferResponse> CancelTransfer(CancelTransferRequest request, ServerCallContext context) =>
        engine.CancelAsync(request.TransferId, context.GetCaller(), context.CancellationToken);

    public override async Task WatchTransfer(WatchTransferRequest request, IServerStreamWriter<WatchTransferResponse> responseStream, ServerCallContext context)
    {
        await foreach (var job in engine.WatchAsync(request.TransferId, context.GetCaller(), context.CancellationToken))
        {
            var response = new WatchTransferResponse { Progress = job.Progress };
            if (job.Progress.State == TransferState.Failed) response.Error = job.Error;
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}
