using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Engine;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Testing;
using StackExchange.Redis;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Api;

/// <summary>
/// Placement on Redis across process lifetimes: a job's log outlives the host that ran it, another host follows a job
/// it does not run, and a job whose host stopped is reported FAILED once that host's heartbeat lapses.
/// </summary>
public sealed class PlacementRestartTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly PlacementOptions Quick = new()
    {
        HeartbeatTtl = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(250), StorePollInterval = TimeSpan.FromMilliseconds(50),
    };

    private static Task<TestMesh> StartAsync(string store) => TestMesh.StartAsync("all", store, configure: b =>
    {
        b.Services.AddSingleton(new SimOptions { Faults = SimFaults.None });
        b.Services.AddSingleton(Quick);
    });

    private static JobSpec Spec(string yaml) => new() { TaskYaml = yaml, FileName = "job.yaml", TenantId = "acme" };

    private static async Task<List<StreamJobLogsResponse>> LogsAsync(PlacementClient client, string jobId, string task = "", bool follow = false)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = client.StreamJobLogs(new StreamJobLogsRequest { JobId = jobId, Task = task, Follow = follow }, cancellationToken: cts.Token);
        return await call.ResponseStream.ReadAllAsync(cts.Token).ToListAsync(cts.Token);
    }

    private static async Task<List<Job>> WatchAsync(PlacementClient client, string jobId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cts.Token);
        return await call.ResponseStream.ReadAllAsync(cts.Token).Select(r => r.Job).ToListAsync(cts.Token);
    }

    [SkippableFact]
    public async Task The_log_of_a_finished_job_reads_back_the_same_after_the_host_restarts_on_the_same_Redis()
    {
        var store = await redis.NewDatabaseAsync();
        string jobId;
        List<StreamJobLogsResponse> before;
        await using (var first = await StartAsync(store))
        {
            var client = first.Client<PlacementClient>();
            jobId = (await client.LaunchAsync(new LaunchRequest { Spec = Spec("name: hello\nrun: echo one && echo two >&2 && echo three\n") })).JobId;
            Assert.Equal(JobState.Succeeded, (await WatchAsync(client, jobId)).Last().State);
            before = await LogsAsync(client, jobId);
        }
        // stdout and stderr are separate pipes: their lines keep their order within each, not across.
        Assert.Equal(["one", "three"], before.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text));
        Assert.Equal(["two"], before.Where(l => l.Stream == LogStream.Stderr).Select(l => l.Text));
        Assert.Contains(before, l => l.Stream == LogStream.System && l.Text.StartsWith("job succeeded", StringComparison.Ordinal));

        await using var second = await StartAsync(store);
        var again = second.Client<PlacementClient>();
        Assert.Equal(JobState.Succeeded, (await again.GetJobAsync(new GetJobRequest { JobId = jobId })).Job.State);
        Assert.Equal(before, await LogsAsync(again, jobId));
        Assert.Equal(before, await LogsAsync(again, jobId, follow: true));   // a finished job: follow ends at the end
        Assert.Equal(before.Where(l => l.Task == "hello"), await LogsAsync(again, jobId, task: "hello"));
        Assert.Equal([JobState.Succeeded], (await WatchAsync(again, jobId)).Select(j => j.State));

        // A tenant still reads only its own job's log after the restart.
        var other = second.Client<PlacementClient>(await second.IssueKeyAsync(Sky.Common.V1.PrincipalKind.Tenant, "other"));
        var e = await Assert.ThrowsAsync<RpcException>(() => LogsAsync(other, jobId));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [SkippableFact]
    public async Task Another_host_on_the_same_Redis_follows_a_running_job_to_its_end_and_never_takes_it_for_an_orphan()
    {
        var store = await redis.NewDatabaseAsync();
        await using var runs = await StartAsync(store);
        await using var reads = await StartAsync(store);
        var here = runs.Client<PlacementClient>();
        var there = reads.Client<PlacementClient>();

        // Runs for about two heartbeat lifetimes.
        var jobId = (await here.LaunchAsync(new LaunchRequest { Spec = Spec("name: slow\nrun: for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.5; done\n") })).JobId;
        var followed = LogsAsync(there, jobId, follow: true);
        var watched = WatchAsync(there, jobId);

        var until = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < until)
        {
            var seen = (await there.GetJobAsync(new GetJobRequest { JobId = jobId })).Job;
            Assert.True(seen.State is JobState.Pending or JobState.Provisioning or JobState.Running or JobState.Succeeded, seen.ToString());
            Assert.NotEqual(JobState.Failed, (await there.ListJobsAsync(new ListJobsRequest())).Jobs.Single().State);
            await Task.Delay(200);
        }

        var states = (await watched).Select(j => j.State).ToList();
        Assert.Equal(JobState.Succeeded, states.Last());
        Assert.Contains(JobState.Running, states);
        var lines = await followed;
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"line {i}"), lines.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text));
        Assert.Equal(await LogsAsync(here, jobId), lines);   // what the running host has in memory, line for line
    }

    [SkippableFact]
    public async Task A_job_left_running_by_a_stopped_host_is_failed_once_after_its_heartbeat_lapses()
    {
        var store = await redis.NewDatabaseAsync();
        await using var mesh = await StartAsync(store);
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Placement, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });

        // Another host's job, as it left it: RUNNING, an attempt in progress, some output, a heartbeat about to lapse.
        var redisConnection = mesh.Services.GetRequiredService<IConnectionMultiplexer>();
        var gone = new RedisJobStore(redisConnection, new PlacementInstance("stopped-host"));
        var now = Timestamp.FromDateTime(DateTime.UtcNow);
        var job = new Job
        {
            JobId = "job-orphan", TenantId = "acme", Name = "train", State = JobState.Running, CreatedAt = now, StartedAt = now,
            Tasks =
            {
                new JobTask
                {
                    Task = "train", State = JobState.Running, StartedAt = now,
                    Attempts = { new JobAttempt { Attempt = 1, Task = "train", Outcome = AttemptOutcome.InProgress, StartedAt = now } },
                },
            },
        };
        var written = Enumerable.Range(1, 3).Select(i => new StreamJobLogsResponse { Task = "train", Attempt = 1, Stream = LogStream.Stdout, Text = $"step {i}", Time = now }).ToList();
        await gone.BeatAsync(TimeSpan.FromSeconds(3), CancellationToken.None);
        await gone.PutAsync(job, CancellationToken.None);
        await new RedisJobLogStore(redisConnection).AppendAsync(job.JobId, written, CancellationToken.None);

        var client = mesh.Client<PlacementClient>();
        Assert.Equal(JobState.Running, (await client.GetJobAsync(new GetJobRequest { JobId = job.JobId })).Job.State);
        var followed = LogsAsync(client, job.JobId, follow: true);
        var watched = WatchAsync(client, job.JobId);

        var until = DateTime.UtcNow.AddSeconds(20);
        while (await redisConnection.GetDatabase().KeyExistsAsync("sky:placement:instance:stopped-host") && DateTime.UtcNow < until) await Task.Delay(50);
        // Many readers at once: each sees FAILED, one writes it.
        var reads = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ => (await client.GetJobAsync(new GetJobRequest { JobId = job.JobId })).Job)
            .Append(Task.Run(async () => (await client.ListJobsAsync(new ListJobsRequest())).Jobs.Single())));
        Assert.All(reads, r => Assert.Equal((JobState.Failed, OrphanedJobs.Reason), (r.State, r.Message)));
        var failed = (await client.GetJobAsync(new GetJobRequest { JobId = job.JobId })).Job;
        var task = failed.Tasks.Single();
        Assert.Equal(JobState.Failed, task.State);
        Assert.NotNull(failed.EndedAt);
        Assert.Equal((AttemptOutcome.ProviderError, OrphanedJobs.Reason), (task.Attempts.Single().Outcome, task.Attempts.Single().Message));

        var states = (await watched).Select(j => j.State).ToList();
        Assert.Equal([JobState.Running, JobState.Failed], states);
        var lines = await followed;
        Assert.Equal(written, lines.Take(3));
        Assert.Equal("job failed: " + OrphanedJobs.Reason, lines.Skip(3).Single().Text);

        until = DateTime.UtcNow.AddSeconds(10);
        while (!events.Any(e => e.Type == "placement.job.failed") && DateTime.UtcNow < until) await Task.Delay(20);
        await Task.Delay(300);
        var announced = (PlacementJobStateChanged)Assert.Single(events, e => e.Type == "placement.job.failed").Data;
        Assert.Equal((job.JobId, "acme", JobState.Running, JobState.Failed), (announced.JobId, announced.TenantId, announced.PreviousState, announced.State));
        Assert.Equal(failed, announced.Job);
        Assert.Equal(0, await redisConnection.GetDatabase().StreamLengthAsync(EventOutbox.Key("placement")));   // delivered, so taken out
        Assert.NotNull(await redisConnection.GetDatabase().KeyTimeToLiveAsync(RedisJobLogStore.Key(job.JobId)));   // its log expires like a finished job's
    }
}
