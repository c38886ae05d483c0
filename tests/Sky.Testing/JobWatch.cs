using Grpc.Core;
using Sky.Placement.V1;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Testing;

/// <summary>Following a job to its end over WatchJob, as tests of jobs that run do.</summary>
public static class JobWatch
{
    /// <summary>The job's last state once the watch ends (the job reached a final state), within <paramref name="timeout"/> (60 s).</summary>
    public static async Task<Job> FinishedAsync(this PlacementClient client, string jobId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        using var watch = client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        Job last = null!;
        await foreach (var change in watch.ResponseStream.ReadAllAsync(cts.Token)) last = change.Job;
        return last;
    }
}
