using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Queues;
using Sky.Queues.Redis;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Integration.Tests.Events;

/// <summary>The Redis Streams transport against a real Redis: fan-out, shared work, takeover, poison, dedupe, bounds.</summary>
public sealed class RedisStreamsEventBusTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _cleanup = [];

    private static readonly RedisEventBusOptions Fast = new()
    {
        VisibilityTimeout = TimeSpan.FromMilliseconds(300),
        MaxAttempts = 3,
        Backoff = _ => TimeSpan.FromMilliseconds(5),
    };

    private async Task<(RedisStreamsEventBus Bus, IConnectionMultiplexer Connection)> NewBusAsync(string store, RedisEventBusOptions? options = null)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(store)));
        _cleanup.Add(connection);
        var bus = new RedisStreamsEventBus(connection, new RedisProcessedEvents(connection, TimeProvider.System), TimeProvider.System,
            NullLogger<RedisStreamsEventBus>.Instance, options ?? Fast);
        return (bus, connection);
    }

    private static DirectoryOfferExpired Offer(int n) => new() { OfferId = "aws-" + n, Revision = n };

    private static int N(SkyEvent e) => (int)((DirectoryOfferExpired)e.Data).Revision;

    [SkippableFact]
    public async Task Every_group_gets_every_event_in_order_and_a_groups_consumers_share_them()
    {
        // The default visibility timeout: with the test's 300 ms a busy machine lets one consumer take over events the
        // other is still handling, which at-least-once allows but this test counts exactly.
        var store = await redis.NewDatabaseAsync();
        var defaults = new RedisEventBusOptions();
        var (publisher, _) = await NewBusAsync(store, defaults);
        var (a, _) = await NewBusAsync(store, defaults);
        var (b1, _) = await NewBusAsync(store, defaults);
        var (b2, _) = await NewBusAsync(store, defaults);
        var seenA = new ConcurrentQueue<int>();
        var seenB = new ConcurrentBag<(string Consumer, int N)>();
        _cleanup.Add(a.Subscribe(Topics.Directory, "placement", (e, _) => { seenA.Enqueue(N(e)); return Task.CompletedTask; }));
        _cleanup.Add(b1.Subscribe(Topics.Directory, "transfer", (e, _) => { seenB.Add(("b1", N(e))); return Task.CompletedTask; }));
        _cleanup.Add(b2.Subscribe(Topics.Directory, "transfer", (e, _) => { seenB.Add(("b2", N(e))); return Task.CompletedTask; }));

        for (var i = 1; i <= 200; i++) await publisher.PublishAsync(Topics.Directory, "directory.offer.expired", Offer(i), subject: "aws-" + i);

        await Eventually(() => seenA.Count >= 200 && seenB.Count >= 200);
        Assert.Equal(Enumerable.Range(1, 200), seenA);
        Assert.Equal(Enumerable.Range(1, 200), seenB.Select(x => x.N).Order());
    }

    [SkippableFact]
    public async Task An_event_a_dead_consumer_never_acknowledged_is_taken_over_by_another()
    {
        var store = await redis.NewDatabaseAsync();
        var (publisher, _) = await NewBusAsync(store);
        var (doomed, doomedConnection) = await NewBusAsync(store);
        var started = new TaskCompletionSource();
        // The first consumer takes the event and dies mid-handler: its connection goes, nothing is acknowledged.
        var dying = doomed.Subscribe(Topics.Placement, "accounting", async (_, ct) => { started.TrySetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await publisher.PublishAsync(Topics.Placement, "placement.job.usage", new PlacementJobUsage { JobId = "job-1" }, subject: "job-1");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await doomedConnection.CloseAsync(allowCommandsToComplete: false);
        await dying.DisposeAsync();

        var (survivor, connection) = await NewBusAsync(store);
        var got = new TaskCompletionSource<SkyEvent>();
        _cleanup.Add(survivor.Subscribe(Topics.Placement, "accounting", (e, _) => { got.TrySetResult(e); return Task.CompletedTask; }));
        var evt = await got.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("job-1", ((PlacementJobUsage)evt.Data).JobId);
        await Eventually(async () => (await connection.GetDatabase().StreamPendingAsync(RedisStreamsEventBus.StreamOf(Topics.Placement), "accounting")).PendingMessageCount == 0);
    }

    [SkippableFact]
    public async Task A_poison_event_is_dead_lettered_after_the_limit_and_the_next_one_flows()
    {
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store);
        var attempts = 0;
        var next = new TaskCompletionSource();
        _cleanup.Add(bus.Subscribe(Topics.Transfer, "accounting", (e, _) =>
        {
            if (N(e) == 1) { Interlocked.Increment(ref attempts); throw new InvalidOperationException("cannot rate this"); }
            next.TrySetResult();
            return Task.CompletedTask;
        }));
        await bus.PublishAsync(Topics.Transfer, "directory.offer.expired", Offer(1));
        await bus.PublishAsync(Topics.Transfer, "directory.offer.expired", Offer(2));
        await next.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Fast.MaxAttempts, attempts);

        var dead = await connection.GetDatabase().StreamRangeAsync(RedisStreamsEventBus.StreamOf(Topics.Transfer) + ":dead");
        var entry = Assert.Single(dead);
        var reason = (string)entry.Values.Single(v => v.Name == RedisStreamQueue.AttributePrefix + QueueOptions.ReasonAttribute).Value!;
        Assert.Contains("handler failed 3 times", reason);
        Assert.Contains("cannot rate this", reason);
        Assert.Equal(1, N(CloudEventCodec.Decode((byte[])entry.Values.Single(v => v.Name == RedisStreamQueue.BodyField).Value!)));
    }

    [SkippableFact]
    public async Task An_entry_that_is_not_a_sky_cloudevent_is_dead_lettered_at_once()
    {
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store);
        var handled = 0;
        _cleanup.Add(bus.Subscribe(Topics.Billing, "tenant-feed", (_, _) => { Interlocked.Increment(ref handled); return Task.CompletedTask; }));
        await RedisStreamQueue.AddAsync(connection.GetDatabase(), RedisStreamsEventBus.StreamOf(Topics.Billing), new OutgoingMessage("{oops"u8.ToArray()), 1000);
        await bus.PublishAsync(Topics.Billing, "directory.offer.expired", Offer(7));
        await Eventually(() => handled == 1);
        var dead = await connection.GetDatabase().StreamRangeAsync(RedisStreamsEventBus.StreamOf(Topics.Billing) + ":dead");
        Assert.Contains("undecodable", (string)Assert.Single(dead).Values.Single(v => v.Name == RedisStreamQueue.AttributePrefix + QueueOptions.ReasonAttribute).Value!);
    }

    [SkippableFact]
    public async Task An_event_published_twice_with_one_id_is_handled_once_even_across_restarts()
    {
        var store = await redis.NewDatabaseAsync();
        var (bus, _) = await NewBusAsync(store);
        var handled = new ConcurrentQueue<string>();
        var evt = new SkyEvent("evt-1", "sky-mesh", "directory.offer.expired", DateTimeOffset.UtcNow, "aws-1", Offer(1));
        var sub = bus.Subscribe(Topics.Directory, "placement", (e, _) => { handled.Enqueue(e.Id); return Task.CompletedTask; });
        await bus.PublishAsync(Topics.Directory, evt);
        await Eventually(() => handled.Count == 1);
        await sub.DisposeAsync();

        // A new process (new bus, same Redis) gets the same event again: the handled-id record holds.
        var (again, _) = await NewBusAsync(store);
        _cleanup.Add(again.Subscribe(Topics.Directory, "placement", (e, _) => { handled.Enqueue(e.Id); return Task.CompletedTask; }));
        await again.PublishAsync(Topics.Directory, evt);
        await again.PublishAsync(Topics.Directory, evt with { Id = "evt-2" });
        await Eventually(() => handled.Count == 2);
        Assert.Equal(["evt-1", "evt-2"], handled);
    }

    [SkippableFact]
    public async Task A_topic_stream_stays_near_its_bound()
    {
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store, Fast with { MaxLength = 100 });
        for (var i = 0; i < 1000; i++) await bus.PublishAsync(Topics.Peering, "directory.offer.expired", Offer(i));
        var length = await connection.GetDatabase().StreamLengthAsync(RedisStreamsEventBus.StreamOf(Topics.Peering));
        // XADD MAXLEN ~ trims whole radix-tree nodes (100 entries each by default), so the length is between the bound and twice it.
        Assert.InRange(length, 100, 200);
    }

    [SkippableFact]
    public async Task A_handled_batch_is_acknowledged_and_marked_without_waiting_for_the_next_one()
    {
        // The settlement of a batch rides with the next read; with no next event it must still land.
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store);
        var handled = 0;
        _cleanup.Add(bus.Subscribe(Topics.Accounting, "billing", (_, _) => { Interlocked.Increment(ref handled); return Task.CompletedTask; }));
        var events = Enumerable.Range(1, 5).Select(i => new SkyEvent("evt-" + i, "sky-mesh", "directory.offer.expired", DateTimeOffset.UtcNow, null, Offer(i))).ToList();
        foreach (var evt in events) await bus.PublishAsync(Topics.Accounting, evt);

        await Eventually(() => handled == 5);
        var db = connection.GetDatabase();
        await Eventually(async () => (await db.StreamPendingAsync(RedisStreamsEventBus.StreamOf(Topics.Accounting), "billing")).PendingMessageCount == 0);
        var processed = new RedisProcessedEvents(connection, TimeProvider.System);
        Assert.All(await processed.SeenAsync("billing", [.. events.Select(e => e.Id)]), Assert.True);
    }

    [SkippableFact]
    public async Task The_handled_ids_keep_the_newest_up_to_their_capacity()
    {
        var store = await redis.NewDatabaseAsync();
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(store)));
        _cleanup.Add(connection);
        var processed = new RedisProcessedEvents(connection, TimeProvider.System, capacity: 50);
        for (var batch = 0; batch < 20; batch++)
        {
            await processed.MarkAsync("accounting", [.. Enumerable.Range(batch * 10, 10).Select(i => $"evt-{i}")]);
            await Task.Delay(3);   // ids are ranked by the millisecond they were marked in
        }
        // Trimmed every capacity/10 marks to the newest 50: the last ids are all there, the first are gone.
        var size = await connection.GetDatabase().SortedSetLengthAsync("sky:events:handled:accounting");
        Assert.InRange(size, 50, 60);
        Assert.All(await processed.SeenAsync("accounting", [.. Enumerable.Range(150, 50).Select(i => $"evt-{i}")]), Assert.True);
        Assert.All(await processed.SeenAsync("accounting", [.. Enumerable.Range(0, 100).Select(i => $"evt-{i}")]), Assert.False);
    }

    [SkippableFact]
    public async Task An_event_repeated_within_one_read_is_handled_once()
    {
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store);
        var evt = new SkyEvent("evt-twice", "sky-mesh", "directory.offer.expired", DateTimeOffset.UtcNow, "aws-1", Offer(1));
        // Published before anyone subscribes, so the group's first read holds all three copies and the next event.
        await bus.PublishAsync(Topics.Directory, evt);
        await bus.PublishAsync(Topics.Directory, evt);
        await bus.PublishAsync(Topics.Directory, evt);
        await bus.PublishAsync(Topics.Directory, evt with { Id = "evt-after" });

        var handled = new ConcurrentQueue<string>();
        _cleanup.Add(bus.Subscribe(Topics.Directory, "placement", (e, _) => { handled.Enqueue(e.Id); return Task.CompletedTask; }));
        await Eventually(() => handled.Contains("evt-after"));
        Assert.Equal(["evt-twice", "evt-after"], handled);
        // Every copy is acknowledged, the skipped ones too.
        await Eventually(async () => (await connection.GetDatabase().StreamPendingAsync(RedisStreamsEventBus.StreamOf(Topics.Directory), "placement")).PendingMessageCount == 0);
    }

    [SkippableFact]
    public async Task A_publish_that_Redis_refuses_fails_alone()
    {
        // One topic's stream key holds a string, so XADD there answers WRONGTYPE; the same batch's other events go in.
        var store = await redis.NewDatabaseAsync();
        var (bus, connection) = await NewBusAsync(store);
        var db = connection.GetDatabase();
        await db.StringSetAsync(RedisStreamsEventBus.StreamOf(Topics.Billing), "not a stream");

        var sends = Enumerable.Range(0, 40)
            .Select(i => bus.PublishAsync(i % 2 == 0 ? Topics.Billing : Topics.Peering, "directory.offer.expired", Offer(i)))
            .ToList();
        await Task.WhenAll(sends.Select(s => s.ContinueWith(_ => { }, TaskScheduler.Default)));

        for (var i = 0; i < sends.Count; i++)
        {
            if (i % 2 == 0) Assert.Contains("WRONGTYPE", (await Assert.ThrowsAsync<RedisServerException>(() => sends[i])).Message);
            else await sends[i];
        }
        var peering = await db.StreamRangeAsync(RedisStreamsEventBus.StreamOf(Topics.Peering));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => 2 * i + 1), peering.Select(e => N(CloudEventCodec.Decode((byte[])e[RedisStreamQueue.BodyField]!))));
    }

    private static async Task Eventually(Func<bool> condition) => await Eventually(() => Task.FromResult(condition()));

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(20);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--) await _cleanup[i].DisposeAsync();
    }
}
