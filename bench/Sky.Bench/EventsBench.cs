using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Queues.Redis;
using StackExchange.Redis;

namespace Sky.Bench;

/// <summary>
/// Issue #4's figures for <c>--events redis://</c>: events published by this process and handled by a subscriber in a
/// second process (this program again, in <see cref="SubscriberMode"/>), both through <see cref="RedisStreamsEventBus"/>
/// with its dedupe and acknowledgements. A burst measures the rates; a run paced at the goal rate
/// (<see cref="GoalPerSecond"/>) measures the publish -> handle latency there (the event's CloudEvent time against the
/// subscriber's clock: one machine, one clock), so the goal is read off one run, not a burst's rate beside another's
/// latency; a third run at that rate begins with an AOF rewrite, the one stall the paced run is likely to miss.
/// Each run starts with a few seconds of unmeasured events, so both processes are past the JIT's tiering.
/// CPU time per event of each process (publisher, subscriber, redis-server) says where the time goes whatever else
/// the machine runs. redis-benchmark's XADD rate on the same server is the ceiling they are read beside.
/// </summary>
public static class EventsBench
{
    public const string SubscriberMode = "events-subscriber";
    private const string Topic = Topics.Placement;
    private const string Group = "bench-accounting";

    /// <summary>Issue #4's goal: at least this many events/s delivered, with p99 publish -> handle within <see cref="GoalP99Ms"/>.</summary>
    public const double GoalPerSecond = 20_000;
    public const double GoalP99Ms = 20;

    public static async Task RedisAsync(Figures figures, TimeSpan duration)
    {
        await using var redis = await BenchRedis.StartAsync();
        figures.Add("redis_benchmark_xadd_per_s", await redis.BenchmarkXaddAsync(pipeline: 1), 0);
        figures.Add("redis_benchmark_xadd_p16_per_s", await redis.BenchmarkXaddAsync(pipeline: 16), 0);

        // Burst: as many events as the publisher can push in a third of the time, handled by the other process.
        await RunAsync(redis, db: 1, figures, "burst", duration / 3, paced: null);
        // Paced at the goal rate: the latency of a bus carrying that load, not of a backlog (a burst's latency is mostly
        // the time its events queue; if the bus cannot carry the goal, this run's latency says so).
        var paced = await RunAsync(redis, db: 2, figures, "paced", duration / 3, paced: GoalPerSecond);
        // Read off the paced run: every event delivered, at the goal's rate (1% slack for the pacing), p99 within the goal.
        figures.Add("goal_met", paced.Lost == 0 && paced.DeliveredPerSecond >= 0.99 * GoalPerSecond && paced.P99Ms <= GoalP99Ms ? "yes" : "no");
        // An AOF rewrite still comes now and then (BenchRedis: each 1 GB of AOF, about every 80 s at the goal rate, a
        // few seconds long): the same paced load with one started as it begins says what those seconds cost.
        await RunAsync(redis, db: 3, figures, "rewrite", duration / 3, paced: GoalPerSecond, rewrite: true);
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    private sealed record Run(double DeliveredPerSecond, double P99Ms, long Lost);

    private static async Task<Run> RunAsync(BenchRedis redis, int db, Figures figures, string name, TimeSpan duration, double? paced, bool rewrite = false)
    {
        var uri = $"{redis.Uri}/{db}";
        // Admin for INFO: redis-server's own CPU time.
        using var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(uri)) + ",allowAdmin=true");
        var bus = new RedisStreamsEventBus(connection, new RedisProcessedEvents(connection, TimeProvider.System), TimeProvider.System, NullLogger<RedisStreamsEventBus>.Instance);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var results = Path.GetTempFileName();
        var psi = new ProcessStartInfo("dotnet", [typeof(EventsBench).Assembly.Location, SubscriberMode, uri, results]) { RedirectStandardOutput = true };
        using var subscriber = Process.Start(psi)!;
        if (await subscriber.StandardOutput.ReadLineAsync() != "ready") throw new InvalidOperationException("the subscriber process did not start");

        // Warm-up: the same code paths, unmeasured (the subscriber skips their subject).
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < WarmUp)
            await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => bus.PublishAsync(Topic, "placement.job.usage", Usage(0), subject: WarmUpSubject)));

        // ...and handled: measured events must not queue behind warm-up ones. Drained is "the group has read the last
        // entry and acknowledged all": XINFO's lag is null once the stream has been trimmed, so it cannot say.
        var draining = Stopwatch.StartNew();
        while (!await DrainedAsync(connection.GetDatabase()))
        {
            if (draining.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("the subscriber did not drain the warm-up events in 2 minutes");
            await Task.Delay(20);
        }

        var published = 0L;
        var rewrites = await AofRewritesAsync(server);
        var redisCpu = await RedisCpuAsync(server);
        var cpu = Environment.CpuUsage.TotalTime;
        var gc = GcTally.Now();
        await server.ExecuteAsync("LATENCY", "RESET");
        if (rewrite) await server.ExecuteAsync("BGREWRITEAOF");
        var clock = Stopwatch.StartNew();
        if (paced is { } rate)
        {
            // One event every 1/rate s, in ticks of 1 ms so the pacing costs no CPU of its own. Each event is stamped when
            // it is published, so a tick that comes late adds no latency of the bench's making.
            var last = Task.CompletedTask;
            while (clock.Elapsed < duration)
            {
                var due = (long)(clock.Elapsed.TotalSeconds * rate);
                for (; published < due; published++) last = bus.PublishAsync(Topic, "placement.job.usage", Usage(published), subject: "job-" + published);
                await Task.Delay(1);
            }
            // One sender appends in order: the last one in means all are.
            await last;
        }
        else
        {
            // 64 publishers in flight: SE.Redis pipelines them on its one connection.
            var workers = Enumerable.Range(0, 64).Select(async _ =>
            {
                while (clock.Elapsed < duration)
                {
                    var n = Interlocked.Increment(ref published);
                    await bus.PublishAsync(Topic, "placement.job.usage", Usage(n), subject: "job-" + n);
                }
            });
            await Task.WhenAll(workers);
        }
        var publishSeconds = clock.Elapsed.TotalSeconds;
        var publisherCpu = Environment.CpuUsage.TotalTime - cpu;
        var publisherGc = GcTally.Now() - gc;
        // Tell the subscriber how many to expect, then wait for its figures.
        await connection.GetDatabase().StringSetAsync("bench:events:expected", published);
        await subscriber.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        redisCpu = await RedisCpuAsync(server) - redisCpu;
        rewrites = await AofRewritesAsync(server) - rewrites;
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(results));
        File.Delete(results);
        var r = json.RootElement;
        var handled = r.GetProperty("handled").GetInt64();
        // Events the stream's bound trimmed before the subscriber read them (it fell more than MaxLength behind).
        figures.Add($"{name}_lost", published - handled, 0);
        var deliveredRate = handled / r.GetProperty("seconds").GetDouble();
        figures.Add($"{name}_published", published, 0);
        figures.Add($"{name}_publish_per_s", published / publishSeconds, 0);
        figures.Add($"{name}_handled", handled, 0);
        figures.Add($"{name}_delivered_per_s", deliveredRate, 0);
        figures.Add($"{name}_latency_p50_ms", r.GetProperty("p50").GetDouble(), 2);
        figures.Add($"{name}_latency_p99_ms", r.GetProperty("p99").GetDouble(), 2);
        if (paced is { } target) figures.Add($"{name}_target_per_s", target, 0);
        figures.Add($"{name}_publisher_cpu_us_per_event", publisherCpu.TotalMicroseconds / published, 1);
        figures.Add($"{name}_subscriber_cpu_us_per_event", r.GetProperty("cpu_us").GetDouble() / handled, 1);
        figures.Add($"{name}_redis_cpu_us_per_event", redisCpu.TotalMicroseconds / published, 1);
        // Garbage per event, collections, and the time they paused each process: a pause delays every event in flight.
        figures.Add($"{name}_publisher_alloc_bytes_per_event", publisherGc.Allocated / (double)published, 0);
        figures.Add($"{name}_subscriber_alloc_bytes_per_event", r.GetProperty("alloc_bytes").GetInt64() / (double)handled, 0);
        figures.Add($"{name}_publisher_gcs", publisherGc.Count, 0);
        figures.Add($"{name}_publisher_gc_pause_ms", publisherGc.Pause.TotalMilliseconds, 1);
        figures.Add($"{name}_subscriber_gcs", r.GetProperty("gcs").GetInt32(), 0);
        figures.Add($"{name}_subscriber_gc_pause_ms", r.GetProperty("gc_pause_ms").GetDouble(), 1);
        // AOF rewrites during the run: each forks redis-server and keeps a core busy for seconds (a stall and a CPU thief
        // on a small machine); an event costs the AOF some 600 bytes, so one comes every 1 GB (BenchRedis) or so.
        figures.Add($"{name}_aof_rewrites", rewrites, 0);
        // Redis' own stalls (LATENCY LATEST, events of 2 ms or more: a slow command, an AOF write or fsync, a fork): the
        // worst of each kind, so a tail can be told apart from the clients' own.
        foreach (var (kind, ms) in await RedisStallsAsync(server)) figures.Add($"{name}_redis_stall_{kind.Replace('-', '_')}_max_ms", ms, 0);
        return new Run(deliveredRate, r.GetProperty("p99").GetDouble(), published - handled);
    }

    // redis-server's CPU time so far (user + system, all its threads: getrusage as INFO reports it).
    private static async Task<TimeSpan> RedisCpuAsync(IServer server)
    {
        var cpu = (await server.InfoAsync("cpu")).SelectMany(group => group).ToDictionary(pair => pair.Key, pair => pair.Value);
        return TimeSpan.FromSeconds(double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture));
    }

    private static async Task<List<(string Kind, long MaxMs)>> RedisStallsAsync(IServer server)
    {
        var latest = (RedisResult[])(await server.ExecuteAsync("LATENCY", "LATEST"))!;
        return [.. latest.Select(e => (RedisResult[])e!).Select(e => ((string)e[0]!, (long)e[3]))];
    }

    private static async Task<long> AofRewritesAsync(IServer server)
    {
        var persistence = (await server.InfoAsync("persistence")).SelectMany(group => group).ToDictionary(pair => pair.Key, pair => pair.Value);
        return persistence.TryGetValue("aof_rewrites", out var count) ? long.Parse(count, CultureInfo.InvariantCulture) : 0;
    }

    // The group has read the stream's last entry and acknowledged everything it read. (XINFO's lag cannot say: it is
    // null once the stream has been trimmed.)
    private static async Task<bool> DrainedAsync(IDatabase db)
    {
        var stream = RedisStreamsEventBus.StreamOf(Topic);
        return (await db.StreamGroupInfoAsync(stream)).FirstOrDefault(g => g.Name == Group) is { PendingMessageCount: 0 } group
            && group.LastDeliveredId == (await db.StreamInfoAsync(stream)).LastGeneratedId;
    }

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);
    private const string WarmUpSubject = "warm-up";

    private static PlacementJobUsage Usage(long n) => new() { JobId = "job-" + n, TenantId = "acme" };

    // Bytes allocated, garbage collections (all generations) and the time they paused the process, so far.
    private readonly record struct GcTally(long Allocated, int Count, TimeSpan Pause)
    {
        public static GcTally Now() => new(GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.GetTotalPauseDuration());
        public static GcTally operator -(GcTally a, GcTally b) => new(a.Allocated - b.Allocated, a.Count - b.Count, a.Pause - b.Pause);
    }

    /// <summary>The second process: subscribes, handles until the publisher's count is reached, writes its figures.</summary>
    public static async Task<int> SubscriberAsync(string uri, string results)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(uri)));
        var bus = new RedisStreamsEventBus(connection, new RedisProcessedEvents(connection, TimeProvider.System), TimeProvider.System, NullLogger<RedisStreamsEventBus>.Instance);
        var latencies = new List<double>(1_000_000);
        var first = 0L;
        var last = 0L;
        var cpu = TimeSpan.Zero;
        var gc = default(GcTally);
        var handledCount = 0;
        await using (bus.Subscribe(Topic, Group, (e, _) =>
        {
            if (e.Subject == WarmUpSubject) return Task.CompletedTask;
            var now = Stopwatch.GetTimestamp();
            if (first == 0) (first, cpu, gc) = (now, Environment.CpuUsage.TotalTime, GcTally.Now());
            last = now;
            latencies.Add((DateTimeOffset.UtcNow - e.Time).TotalMilliseconds);
            Volatile.Write(ref handledCount, latencies.Count);
            return Task.CompletedTask;
        }))
        {
            Console.WriteLine("ready");
            // Until the publisher's count is reached or, once it is known (every event is in the stream by then), the group
            // has handled all there is to read: events the stream's bound trimmed before they were read never come, and
            // the publisher reports them as lost.
            while (true)
            {
                await Task.Delay(50);
                var expected = await connection.GetDatabase().StringGetAsync("bench:events:expected");
                if (expected.HasValue && (Volatile.Read(ref handledCount) >= (long)expected || await DrainedAsync(connection.GetDatabase()))) break;
            }
            cpu = Environment.CpuUsage.TotalTime - cpu;
            gc = GcTally.Now() - gc;
        }
        latencies.Sort();
        var seconds = Stopwatch.GetElapsedTime(first, last).TotalSeconds;
        await File.WriteAllTextAsync(results, JsonSerializer.Serialize(new
        {
            handled = latencies.Count,
            seconds = Math.Max(seconds, 1e-3),
            p50 = Load.Percentile(latencies, 0.50),
            p99 = Load.Percentile(latencies, 0.99),
            cpu_us = cpu.TotalMicroseconds,
            alloc_bytes = gc.Allocated,
            gcs = gc.Count,
            gc_pause_ms = gc.Pause.TotalMilliseconds,
        }));
        return 0;
    }
}
