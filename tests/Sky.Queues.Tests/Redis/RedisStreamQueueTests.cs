using Sky.Queues.Redis;
using Sky.Testing;
using StackExchange.Redis;

namespace Sky.Queues.Tests.Redis;

/// <summary>The queue contract against a real Redis (each test on a database of its own).</summary>
public sealed class RedisStreamQueueTests(RedisServer redis) : QueueContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private IConnectionMultiplexer? _connection;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }

    protected override async Task<IMessageQueue> NewQueueAsync(QueueOptions options)
    {
        var store = await redis.NewDatabaseAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(RedisUri.ToConfiguration(new Uri(store)));
        return new RedisStreamQueue(_connection.GetDatabase(), "orders", "billing", "consumer-1", new RedisStreamOptions { Queue = options, Poll = TimeSpan.FromMilliseconds(100) });
    }

    protected override Task<IReadOnlyList<IncomingMessage>> DeadLettersAsync(IMessageQueue queue) => ((RedisStreamQueue)queue).ReadDeadLettersAsync();

    [SkippableFact]
    public async Task Each_group_gets_every_message_and_consumers_of_a_group_share_them()
    {
        await using var a = (RedisStreamQueue)await NewQueueAsync();
        var db = _connection!.GetDatabase();
        await using var b1 = new RedisStreamQueue(db, "orders", "audit", "b1");
        await using var b2 = new RedisStreamQueue(db, "orders", "audit", "b2");
        // Groups start at the oldest retained entry: create them before sending so the split below is by receive.
        Assert.Empty(await a.ReceiveAsync(10, Long, TimeSpan.Zero));
        Assert.Empty(await b1.ReceiveAsync(10, Long, TimeSpan.Zero));
        for (var i = 0; i < 6; i++) await a.SendAsync(new OutgoingMessage(new[] { (byte)i }));

        Assert.Equal(6, (await a.ReceiveAsync(10, Long, TimeSpan.Zero)).Count);
        var first = await b1.ReceiveAsync(4, Long, TimeSpan.Zero);
        var second = await b2.ReceiveAsync(10, Long, TimeSpan.Zero);
        Assert.Equal(4, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (byte)i), first.Concat(second).Select(m => m.Body.Span[0]));
    }

    [SkippableFact]
    public async Task A_uri_opens_a_queue_on_its_own_connection()
    {
        var store = await redis.NewDatabaseAsync();
        await using var queue = await QueueUri.OpenAsync(store + "?stream=jobs&group=workers&maxlen=500");
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        Assert.Equal("x"u8.ToArray(), Assert.Single(await queue.ReceiveAsync(5, Long, TimeSpan.FromSeconds(1))).Body.ToArray());
        Assert.StartsWith("stream: missing", (await Assert.ThrowsAsync<ArgumentException>(() => QueueUri.OpenAsync(store + "?group=workers"))).Message);
    }
}
