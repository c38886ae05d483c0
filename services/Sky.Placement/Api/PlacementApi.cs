using Grpc.Core;
using Sky.Hosting.Identity;
using Sky.Placement.Engine;
using Sky.Placement.V1;

namespace Sky.Placement.Api;

/// <summary>
/// gRPC adapter of sky.placement.v1.Placement: unpacks requests, calls the engine, packs responses. An RPC not
/// overridden here answers UNIMPLEMENTED (the generated base), so a client can tell "not built yet" from a real outcome.
/// </summary>
public sealed class PlacementApi(PlacementEngine engine) : V1.Placement.PlacementBase
{
    public override Task<PlanResponse> Plan(PlanRequest request, ServerCallContext context) =>
        engine.PlanAsync(request.Spec, context.GetCaller(), context.CancellationToken);

    public override Task<LaunchResponse> Launch(LaunchRequest request, ServerCallContext context) =>
        engine.LaunchAsync(request, context.GetCaller(), context.CancellationToken);

    public override async Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) =>
        new() { Job = await engine.GetJobAsync(request.JobId, context.GetCaller(), context.CancellationToken) };

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context) =>
        engine.ListJobsAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<CancelJobResponse> CancelJob(CancelJobRequest request, ServerCallContext context) =>
        engine.CancelJobAsync(request.JobId, context.GetCaller(), context.CancellationToken);

    public override async Task StreamJobLogs(StreamJobLogsRequest request, IServerStreamWriter<StreamJobLogsResponse> responseStream, ServerCallContext context)
    {
        await foreach (var line in engine.LogsAsync(request, context.GetCaller(), context.CancellationToken))
            await responseStream.WriteAsync(line, context.CancellationToken);
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<WatchJobResponse> responseStream, ServerCallContext context)
    {
        await foreach (var job in engine.WatchAsync(request.JobId, context.GetCaller(), context.CancellationToken))
            await responseStream.WriteAsync(new WatchJobResponse { Job = job }, context.CancellationToken);
    }
}
