using System.Diagnostics;
using Sky.Queues.Redis;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Queues.Tests.Redis;

/// <summary>
/// Sending as plain XADDs pipelined with a wake-up after them (no script doing the XADDs): order, trimming, and an idle
/// receiver woken by the send rather than by its next poll. Each test on a database of its own.
/// </summary>
public sealed class RedisStreamsAppendTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _cleanup = [];

    private async Task<IDatabase> NewDatabaseAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(await redis.NewDatabaseAsync())));
        _cleanup.Add(connection);
        return connection.GetDatabase();
    }

    [SkippableFact]
    public async Task A_batch_lands_in_order_with_one_id_per_message()
    {
        var db = await NewDatabaseAsync();
        var messages = Enumerable.Range(0, 300).Select(i => new OutgoingMessage(new[] { (byte)(i % 256), (byte)(i / 256) })).ToArray();

        var append = RedisStreamQueue.Append(db, "orders", messages, maxLength: 10_000);
        await append.Completion;

        var entries = await db.StreamRangeAsync("orders");
        Assert.Equal(append.Ids.Select(id => (string)id.Result!), entries.Select(e => (string)e.Id!));
        Assert.Equal(Enumerable.Range(0, 300), entries.Select(e => { var b = (byte[])e[RedisStreamQueue.BodyField]!; return b[0] + 256 * b[1]; }));
        // No attributes were given, so an entry is its body alone.
        Assert.All(entries, e => Assert.Single(e.Values));
    }

    [SkippableFact]
    public async Task Many_sends_keep_the_stream_near_its_bound()
    {
        var db = await NewDatabaseAsync();
        for (var i = 0; i < 10; i++)
            await RedisStreamQueue.AddManyAsync(db, "orders", [.. Enumerable.Range(0, 100).Select(_ => new OutgoingMessage("x"u8.ToArray()))], maxLength: 100);
        // MAXLEN ~ trims whole radix-tree nodes (100 entries each by default): between the bound and twice it.
        Assert.InRange(await db.StreamLengthAsync("orders"), 100, 200);
    }

    [SkippableFact]
    public async Task An_idle_receiver_is_woken_by_a_send_not_by_its_next_poll()
    {
        var db = await NewDatabaseAsync();
        // A poll far longer than the test may take: only the wake-up can bring the message in time.
        await using var queue = new RedisStreamQueue(db, "orders", "billing", "c1", new RedisStreamOptions { Poll = TimeSpan.FromMinutes(2) });
        Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.Zero));

        var receiving = queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        // The receiver is asleep once its flag is up (it raises it, looks once more, then waits).
        var until = Stopwatch.StartNew();
        while (!await db.KeyExistsAsync("orders:waiting"))
        {
            Assert.True(until.Elapsed < TimeSpan.FromSeconds(20), "the receiver never raised its waiting flag");
            await Task.Delay(10);
        }
        await Task.Delay(100);
        Assert.False(receiving.IsCompleted);

        var clock = Stopwatch.StartNew();
        var id = await queue.SendAsync(new OutgoingMessage("wake up"u8.ToArray()));
        var received = Assert.Single(await receiving.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(id, received.MessageId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"woken after {clock.Elapsed}");
        // The send lowered the flag it answered.
        Assert.False(await db.KeyExistsAsync("orders:waiting"));
    }

    [SkippableFact]
    public async Task Appending_nothing_sends_nothing()
    {
        var db = await NewDatabaseAsync();
        var append = RedisStreamQueue.Append(db, "orders", [], maxLength: 100);
        await append.Completion;
        Assert.Empty(append.Ids);
        Assert.False(await db.KeyExistsAsync("orders"));
        Assert.Empty(await RedisStreamQueue.AddManyAsync(db, "orders", [], maxLength: 100));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--) await _cleanup[i].DisposeAsync();
    }
}
