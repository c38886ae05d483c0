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
/// with its dedupe and acknowledgements. A burst measures the rates; a paced run at a fraction of them measures the
/// publish -> handle latency (the event's CloudEvent time against the subscriber's clock: one machine, one clock).
/// Each run starts with a few seconds of unmeasured events, so both processes are past the JIT's tiering.
/// redis-benchmark's XADD rate on the same server is the ceiling they are read beside.
/// </summary>
public static class EventsBench
{
    public const string SubscriberMode = "events-subscriber";
    private const string Topic = Topics.Placement;
    private const string Group = "bench-accounting";

    public static async Task RedisAsync(Figures figures, TimeSpan duration)
    {
        await using var redis = await BenchRedis.StartAsync();
        figures.Add("redis_benchmark_xadd_per_s", await redis.BenchmarkXaddAsync(pipeline: 1), 0);
        figures.Add("redis_benchmark_xadd_p16_per_s", await redis.BenchmarkXaddAsync(pipeline: 16), 0);

        // Burst: as many events as the publisher can push in a third of the time, handled by the other process.
        var burst = await RunAsync(redis, db: 1, figures, "burst", duration / 3, paced: null);
        // Paced: half the delivered burst rate, so the latency is that of a loaded bus, not of its backlog.
        await RunAsync(redis, db: 2, figures, "paced", duration / 3, paced: Math.Max(1000, burst / 2));
        figures.Add("cores", Environment.ProcessorCount, 0);
    }

    // Returns the delivered rate.
    private static async Task<double> RunAsync(BenchRedis redis, int db, Figures figures, string name, TimeSpan duration, double? paced)
    {
        var uri = $"{redis.Uri}/{db}";
        using var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(uri)));
        var bus = new RedisStreamsEventBus(connection, new RedisProcessedEvents(connection, TimeProvider.System), TimeProvider.System, NullLogger<RedisStreamsEventBus>.Instance);
        var results = Path.GetTempFileName();
        var psi = new ProcessStartInfo("dotnet", [typeof(EventsBench).Assembly.Location, SubscriberMode, uri, results]) { RedirectStandardOutput = true };
        using var subscriber = Process.Start(psi)!;
        if (await subscriber.StandardOutput.ReadLineAsync() != "ready") throw new InvalidOperationException("the subscriber process did not start");

        // Warm-up: the same code paths, unmeasured (the subscriber skips their subject).
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < WarmUp)
            await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => bus.PublishAsync(Topic, "placement.job.usage", Usage(0), subject: WarmUpSubject)));

        // ...and handled: measured events must not queue behind warm-up ones.
        var redisDb = connection.GetDatabase();
        while ((await redisDb.StreamGroupInfoAsync(RedisStreamsEventBus.StreamOf(Topic))).FirstOrDefault(g => g.Name == Group) is not { Lag: 0, PendingMessageCount: 0 })
            await Task.Delay(20);

        var published = 0L;
        var clock = Stopwatch.StartNew();
        if (paced is { } rate)
        {
            // One event every 1/rate s, in ticks of 1 ms so the pacing costs no CPU of its own.
            while (clock.Elapsed < duration)
            {
                var due = (long)(clock.Elapsed.TotalSeconds * rate);
                for (; published < due; published++) _ = bus.PublishAsync(Topic, "placement.job.usage", Usage(published), subject: "job-" + published);
                await Task.Delay(1);
            }
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
        // Tell the subscriber how many to expect, then wait for its figures.
        await connection.GetDatabase().StringSetAsync("bench:events:expected", published);
        await subscriber.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(results));
        File.Delete(results);
        var r = json.RootElement;
        var handled = r.GetProperty("handled").GetInt64();
        var deliveredRate = handled / r.GetProperty("seconds").GetDouble();
        figures.Add($"{name}_published", published, 0);
        figures.Add($"{name}_publish_per_s", published / publishSeconds, 0);
        figures.Add($"{name}_handled", handled, 0);
        figures.Add($"{name}_delivered_per_s", deliveredRate, 0);
        figures.Add($"{name}_latency_p50_ms", r.GetProperty("p50").GetDouble(), 2);
        figures.Add($"{name}_latency_p99_ms", r.GetProperty("p99").GetDouble(), 2);
        if (paced is { } target) figures.Add($"{name}_target_per_s", target, 0);
        return deliveredRate;
    }

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);
    private const string WarmUpSubject = "warm-up";

    private static PlacementJobUsage Usage(long n) => new() { JobId = "job-" + n, TenantId = "acme" };

    /// <summary>The second process: subscribes, handles until the publisher's count is reached, writes its figures.</summary>
    public static async Task<int> SubscriberAsync(string uri, string results)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(uri)));
        var bus = new RedisStreamsEventBus(connection, new RedisProcessedEvents(connection, TimeProvider.System), TimeProvider.System, NullLogger<RedisStreamsEventBus>.Instance);
        var latencies = new List<double>(1_000_000);
        var first = 0L;
        var last = 0L;
        await using (bus.Subscribe(Topic, Group, (e, _) =>
        {
            if (e.Subject == WarmUpSubject) return Task.CompletedTask;
            var now = Stopwatch.GetTimestamp();
            if (first == 0) first = now;
            last = now;
            latencies.Add((DateTimeOffset.UtcNow - e.Time).TotalMilliseconds);
            return Task.CompletedTask;
        }))
        {
            Console.WriteLine("ready");
            while (true)
            {
                await Task.Delay(50);
                var expected = await connection.GetDatabase().StringGetAsync("bench:events:expected");
                if (expected.HasValue && latencies.Count >= (long)expected) break;
            }
        }
        latencies.Sort();
        var seconds = Stopwatch.GetElapsedTime(first, last).TotalSeconds;
        await File.WriteAllTextAsync(results, JsonSerializer.Serialize(new
        {
            handled = latencies.Count,
            seconds = Math.Max(seconds, 1e-3),
            p50 = Load.Percentile(latencies, 0.50),
            p99 = Load.Percentile(latencies, 0.99),
        }));
        return 0;
    }
}
