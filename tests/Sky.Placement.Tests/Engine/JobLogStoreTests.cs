using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sky.Hosting.Events;
using Sky.Placement.Engine;
using Sky.Placement.V1;
using Sky.Queues.Redis;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Placement.Tests.Engine;

/// <summary>Jobs' stored logs, in memory and in a real Redis: order, task filter, paging, trimming, expiry, batched writes.</summary>
public sealed class JobLogStoreTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly List<IConnectionMultiplexer> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _connections) await c.DisposeAsync();
    }

    private async Task<IJobLogStore> StoreAsync(string kind, int maxLines = MemoryJobLogStore.DefaultMaxLines)
    {
        if (kind == "memory") return new MemoryJobLogStore(_time, maxLines);
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(await redis.NewDatabaseAsync())));
        _connections.Add(connection);
        return new RedisJobLogStore(connection, maxLines);
    }

    private static StreamJobLogsResponse Line(int i, string task = "train") => new()
    {
        Task = task, Attempt = 1, NodeRank = i % 2, Stream = LogStream.Stdout, Text = $"line {i}", Time = Timestamp.FromDateTimeOffset(Start.AddMilliseconds(i)),
    };

    private static async Task<List<StreamJobLogsResponse>> ReadAllAsync(IJobLogStore store, string job, string task = "", int page = 1000)
    {
        var all = new List<StreamJobLogsResponse>();
        var after = "";
        for (var reads = 0; reads < 10_000; reads++)
        {
            var read = await store.ReadAsync(job, task, after, page, CancellationToken.None);
            all.AddRange(read.Lines);
            after = read.Next;
            if (read.End) return all;
        }
        throw new InvalidOperationException("the log never ended");
    }

    [SkippableTheory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Lines_read_back_in_order_whole_by_task_and_page_by_page(string kind)
    {
        var store = await StoreAsync(kind);
        var written = Enumerable.Range(0, 25).Select(i => Line(i, i % 3 == 0 ? "prep" : "train")).ToList();
        await store.AppendAsync("job-1", written[..10], CancellationToken.None);
        await store.AppendAsync("job-1", written[10..], CancellationToken.None);
        await store.AppendAsync("job-2", [Line(99)], CancellationToken.None);

        Assert.Equal(written, await ReadAllAsync(store, "job-1"));
        Assert.Equal(written, await ReadAllAsync(store, "job-1", page: 7));
        Assert.Equal(written.Where(l => l.Task == "prep"), await ReadAllAsync(store, "job-1", "prep", page: 4));

        // Reading on from the end finds nothing until more is written, then only the new lines.
        var first = await store.ReadAsync("job-1", "", "", 100, CancellationToken.None);
        Assert.True(first.End);
        var empty = await store.ReadAsync("job-1", "", first.Next, 100, CancellationToken.None);
        Assert.Equal((0, first.Next, true), (empty.Lines.Count, empty.Next, empty.End));
        await store.AppendAsync("job-1", [Line(25)], CancellationToken.None);
        Assert.Equal([Line(25)], (await store.ReadAsync("job-1", "", first.Next, 100, CancellationToken.None)).Lines);

        var none = await store.ReadAsync("job-unknown", "", "", 100, CancellationToken.None);
        Assert.Equal((0, true), (none.Lines.Count, none.End));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ReadAsync("job-1", "", "", 0, CancellationToken.None));
    }

    [SkippableTheory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task A_log_keeps_about_its_newest_max_lines(string kind)
    {
        var store = await StoreAsync(kind, maxLines: 200);
        for (var batch = 0; batch < 20; batch++)
            await store.AppendAsync("job-1", [.. Enumerable.Range(batch * 100, 100).Select(i => Line(i))], CancellationToken.None);

        var kept = await ReadAllAsync(store, "job-1");
        // Trimmed as Redis's MAXLEN ~ trims: never below the bound, and only a step above it.
        Assert.InRange(kept.Count, 200, 399);
        Assert.Equal(Enumerable.Range(2000 - kept.Count, kept.Count).Select(i => Line(i)), kept);
    }

    [Fact]
    public async Task A_finished_jobs_log_expires_after_its_lifetime_in_memory()
    {
        var store = await StoreAsync("memory");
        await store.AppendAsync("job-1", [Line(0)], CancellationToken.None);
        await store.AppendAsync("job-2", [Line(1)], CancellationToken.None);
        await store.ExpireAsync("job-1", TimeSpan.FromDays(30), CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(29));
        Assert.Single((await store.ReadAsync("job-1", "", "", 10, CancellationToken.None)).Lines);
        _time.Advance(TimeSpan.FromDays(2));
        Assert.Empty((await store.ReadAsync("job-1", "", "", 10, CancellationToken.None)).Lines);
        Assert.Single((await store.ReadAsync("job-2", "", "", 10, CancellationToken.None)).Lines);   // still running: no expiry
    }

    [SkippableFact]
    public async Task A_finished_jobs_log_stream_in_Redis_carries_its_lifetime()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(await redis.NewDatabaseAsync())));
        _connections.Add(connection);
        var store = new RedisJobLogStore(connection);
        await store.AppendAsync("job-1", [Line(0)], CancellationToken.None);
        var db = connection.GetDatabase();
        Assert.Null(await db.KeyTimeToLiveAsync(RedisJobLogStore.Key("job-1")));
        Assert.Equal(1, await db.StreamLengthAsync("sky:placement:logs:job-1"));

        await store.ExpireAsync("job-1", TimeSpan.FromDays(30), CancellationToken.None);
        Assert.InRange((await db.KeyTimeToLiveAsync(RedisJobLogStore.Key("job-1")))!.Value, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30));
    }

    /// <summary>A memory store that counts its writes, can be slow (so lines queue up) and can fail its first writes.</summary>
    private sealed class ObservedStore(IJobLogStore inner, TimeSpan delay, int failures) : IJobLogStore
    {
        public readonly ConcurrentQueue<int> Batches = new();
        private int _failures = failures;

        public async Task AppendAsync(string jobId, IReadOnlyList<StreamJobLogsResponse> lines, CancellationToken ct)
        {
            await Task.Delay(delay, ct);
            if (Interlocked.Decrement(ref _failures) >= 0) throw new TimeoutException("redis away");
            Batches.Enqueue(lines.Count);
            await inner.AppendAsync(jobId, lines, ct);
        }

        public Task<JobLogPage> ReadAsync(string jobId, string task, string after, int max, CancellationToken ct) => inner.ReadAsync(jobId, task, after, max, ct);

        public Task ExpireAsync(string jobId, TimeSpan lifetime, CancellationToken ct) => inner.ExpireAsync(jobId, lifetime, ct);
    }

    [Fact]
    public async Task The_writer_batches_a_chatty_task_and_flush_waits_for_every_line_added_before_it()
    {
        var store = new ObservedStore(new MemoryJobLogStore(_time), TimeSpan.FromMilliseconds(20), failures: 0);
        var writer = new JobLogWriter(store, "job-1", TimeProvider.System, NullLogger.Instance);
        var lines = Enumerable.Range(0, 3000).Select(i => Line(i)).ToList();
        foreach (var line in lines) Assert.True(writer.Add(line));
        await writer.FlushAsync();

        Assert.Equal(lines, await ReadAllAsync(store, "job-1"));
        Assert.InRange(store.Batches.Count, 6, 20);   // 3000 lines in batches of at most 512, not 3000 round trips
        Assert.All(store.Batches, n => Assert.InRange(n, 1, JobLogWriter.MaxBatch));

        writer.Add(Line(3000));
        await writer.CompleteAsync();
        Assert.False(writer.Add(Line(3001)));
        Assert.Equal(lines.Append(Line(3000)), await ReadAllAsync(store, "job-1"));
        await writer.FlushAsync();   // after completion: returns, nothing pending
    }

    [Fact]
    public async Task The_writer_retries_a_failing_store_and_loses_no_line()
    {
        var store = new ObservedStore(new MemoryJobLogStore(_time), TimeSpan.Zero, failures: 3);
        var writer = new JobLogWriter(store, "job-1", TimeProvider.System, NullLogger.Instance);
        var lines = Enumerable.Range(0, 100).Select(i => Line(i)).ToList();
        foreach (var line in lines) writer.Add(line);
        await writer.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(lines, await ReadAllAsync(store, "job-1"));
    }
}

/// <summary>Who runs a job, and when its process is gone: owners, heartbeats and the compare-and-set that fails an orphan once.</summary>
public sealed class JobOwnerTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);
    private readonly List<IConnectionMultiplexer> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _connections) await c.DisposeAsync();
    }

    private static Job Running(string id) => new()
    {
        JobId = id, TenantId = "acme", Name = id, State = JobState.Running, CreatedAt = Timestamp.FromDateTimeOffset(Start),
        Tasks = { new JobTask { Task = "train", State = JobState.Running } },
    };

    private static OrphanFailure Failure(Job job, params PendingEvent[] events)
    {
        var failed = job.Clone();
        failed.State = JobState.Failed;
        failed.Message = OrphanedJobs.Reason;
        var last = new StreamJobLogsResponse { Stream = LogStream.System, Text = "job failed: " + OrphanedJobs.Reason, Time = Timestamp.FromDateTimeOffset(Start) };
        return new OrphanFailure(job, failed, last, TimeSpan.FromDays(30), events);
    }

    [Fact]
    public async Task In_memory_a_job_is_orphaned_once_its_owners_heartbeat_lapses_and_failed_by_one_reader_only()
    {
        var time = new FakeTimeProvider(Start);
        var logs = new MemoryJobLogStore(time);
        var store = new MemoryJobStore(time, new PlacementInstance("here"), logs);
        await store.BeatAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        var job = Running("job-1");
        var done = Running("job-2");
        done.State = JobState.Succeeded;
        await store.PutAsync(job, CancellationToken.None);
        await store.PutAsync(done, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(await store.OrphanedAsync([job, done], CancellationToken.None));
        Assert.Null(await store.FailOrphanAsync(Failure(job), CancellationToken.None));   // alive: not failed

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(["job-1"], await store.OrphanedAsync([job, done], CancellationToken.None));
        var writes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.FailOrphanAsync(Failure(job), CancellationToken.None))));
        Assert.Single(writes, w => w is not null);
        Assert.Equal(JobState.Failed, (await store.GetAsync("job-1", CancellationToken.None))!.State);
        Assert.Equal([Failure(job).LastLine], (await logs.ReadAsync("job-1", "", "", 10, CancellationToken.None)).Lines);   // written once, with the state
        time.Advance(TimeSpan.FromDays(31));
        Assert.Empty((await logs.ReadAsync("job-1", "", "", 10, CancellationToken.None)).Lines);
        Assert.Empty(await store.OrphanedAsync([(await store.GetAsync("job-1", CancellationToken.None))!], CancellationToken.None));

        // A beat revives the instance: its running jobs are in hand again.
        var other = Running("job-3");
        await store.PutAsync(other, CancellationToken.None);
        await store.BeatAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        Assert.Empty(await store.OrphanedAsync([other], CancellationToken.None));
    }

    [SkippableFact]
    public async Task In_Redis_a_job_is_orphaned_when_its_owners_heartbeat_key_expires_and_the_failure_goes_to_the_outbox()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(await redis.NewDatabaseAsync())));
        _connections.Add(connection);
        var owner = new RedisJobStore(connection, new PlacementInstance("owner"));
        var reader = new RedisJobStore(connection, new PlacementInstance("reader"));
        await owner.BeatAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        var job = Running("job-1");
        await owner.PutAsync(job, CancellationToken.None);

        Assert.Empty(await reader.OrphanedAsync([job], CancellationToken.None));
        Assert.Null(await reader.FailOrphanAsync(Failure(job), CancellationToken.None));

        // The owner's last beat, then silence: Redis lets the key expire.
        await owner.BeatAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        var until = DateTime.UtcNow.AddSeconds(10);
        while ((await reader.OrphanedAsync([job], CancellationToken.None)).Count == 0 && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Equal(["job-1"], await reader.OrphanedAsync([job], CancellationToken.None));

        // The owner wrote again meanwhile (it was only slow): the reader's compare-and-set loses.
        var moved = job.Clone();
        moved.Message = "still going";
        await owner.PutAsync(moved, CancellationToken.None);
        Assert.Null(await reader.FailOrphanAsync(Failure(job), CancellationToken.None));

        var outbox = new EventOutbox(new InProcEventBus(TimeProvider.System, NullLogger<InProcEventBus>.Instance),
            TimeProvider.System, Sky.Hosting.Options.MeshService.Placement, NullLogger<EventOutbox>.Instance, connection);
        var announce = outbox.Prepare(Topics.Placement, "placement.job.failed",
            new Sky.Events.V1.PlacementJobStateChanged { JobId = "job-1", State = JobState.Failed }, "job-1");
        var writes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => reader.FailOrphanAsync(Failure(moved, announce), CancellationToken.None)));
        var won = Assert.Single(writes, w => w is not null)!;
        Assert.Single(won);
        Assert.Equal(1, await connection.GetDatabase().StreamLengthAsync(outbox.StreamKey));   // one event, committed with the write
        Assert.Equal(JobState.Failed, (await reader.GetAsync("job-1", CancellationToken.None))!.State);
        var log = await new RedisJobLogStore(connection).ReadAsync("job-1", "", "", 10, CancellationToken.None);
        Assert.Equal([Failure(moved).LastLine], log.Lines);
        Assert.InRange((await connection.GetDatabase().KeyTimeToLiveAsync(RedisJobLogStore.Key("job-1")))!.Value, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30));

        // A job without any owner recorded (written before owners were) is an orphan too.
        await connection.GetDatabase().StringSetAsync("sky:placement:job:job-legacy", Google.Protobuf.MessageExtensions.ToByteArray(Running("job-legacy")));
        Assert.Equal(["job-legacy"], await reader.OrphanedAsync([Running("job-legacy")], CancellationToken.None));
    }
}
