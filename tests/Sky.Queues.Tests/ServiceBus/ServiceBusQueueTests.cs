using System.Text;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Time.Testing;
using Sky.Queues.ServiceBus;

namespace Sky.Queues.Tests.ServiceBus;

/// <summary>
/// The contract on the in-memory namespace, in real time with a 60 s lock: a message comes back after a 1 s
/// visibility timeout only because the adapter abandons it then. The tests after the contract check, on a fake clock,
/// what the adapter asks Service Bus for.
/// </summary>
public sealed class ServiceBusQueueTests : QueueContract
{
    private const string Queue = "orders";
    private FakeServiceBus _bus = new(TimeProvider.System, TimeSpan.FromSeconds(60));

    protected override Task<IMessageQueue> NewQueueAsync(QueueOptions options) =>
        Task.FromResult<IMessageQueue>(Open(options));

    protected override Task<IReadOnlyList<IncomingMessage>> DeadLettersAsync(IMessageQueue queue) =>
        Task.FromResult<IReadOnlyList<IncomingMessage>>([.. _bus.DeadLetters(Queue).Select(d => new IncomingMessage(
            d.MessageId, d.Body, d.Properties.ToDictionary(p => p.Key, p => (string)p.Value), 0, ""))]);

    private ServiceBusQueue Open(QueueOptions? options = null, string? deadLetterQueue = null, bool disposeClient = false) =>
        new(_bus.CreateClient(), new ServiceBusQueueOptions
        {
            Entity = Queue,
            DeadLetterQueue = deadLetterQueue,
            MinimumWait = TimeSpan.FromMilliseconds(100),
            DisposeClient = disposeClient,
        }, options);

    /// <summary>A namespace and queue on a fake clock, with a message waiting.</summary>
    private (FakeTimeProvider Time, ServiceBusQueue Queue) OnFakeClock(TimeSpan lockDuration, int maxDeliveries = 5)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-28T12:00:00Z"));
        _bus = new FakeServiceBus(time, lockDuration);
        _bus.Put(Queue, "work"u8.ToArray());
        return (time, Open(new QueueOptions { Time = time, MaxDeliveries = maxDeliveries }));
    }

    private int CallsLike(string prefix) => _bus.Calls.Count(c => c.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public async Task Receives_in_peek_lock_mode_and_keeps_the_lock_token_as_receipt()
    {
        await using var queue = Open();
        var id = await queue.SendAsync(new OutgoingMessage("x"u8.ToArray(), new Dictionary<string, string> { ["type"] = "t" }));
        var received = await ReceiveOneAsync(queue, Long);

        Assert.Contains($"receiver {Queue} PeekLock prefetch=0", _bus.Calls);
        Assert.Contains($"send {Queue} {id}", _bus.Calls);
        Assert.True(Guid.TryParse(received.Receipt, out _));
        await queue.AckAsync(received);
        Assert.Contains($"complete {received.Receipt}", _bus.Calls);
        Assert.Equal("servicebus://fake.servicebus.windows.net/orders", queue.Address);
    }

    [Fact]
    public async Task A_short_wait_is_raised_to_the_minimum_service_bus_takes()
    {
        await using var queue = Open();
        Assert.Empty(await queue.ReceiveAsync(1, Long, TimeSpan.Zero));
        Assert.Contains($"receive {Queue} max=1 wait=100ms", _bus.Calls);
    }

    [Fact]
    public async Task A_visibility_timeout_longer_than_the_lock_renews_the_lock_then_abandons_at_the_timeout()
    {
        var (time, queue) = OnFakeClock(lockDuration: TimeSpan.FromSeconds(10));
        await using var _ = queue;
        var received = await ReceiveOneAsync(queue, TimeSpan.FromSeconds(25));

        for (var second = 1; second < 25; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(0, CallsLike("abandon"));
        }
        Assert.InRange(CallsLike($"renew {received.Receipt}"), 3, 5); // every 5 s: half the 10 s lock
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, CallsLike($"abandon {received.Receipt}"));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, CallsLike("abandon"));

        var again = await ReceiveOneAsync(queue, Long, TimeSpan.Zero);
        Assert.Equal(2, again.DeliveryCount);
        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.AckAsync(received)); // it was given up at its timeout
    }

    [Fact]
    public async Task A_visibility_timeout_shorter_than_the_lock_abandons_the_message_when_it_ends()
    {
        var (time, queue) = OnFakeClock(lockDuration: TimeSpan.FromSeconds(60));
        await using var _ = queue;
        var received = await ReceiveOneAsync(queue, TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(0, CallsLike("abandon"));
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal([$"abandon {received.Receipt}"], _bus.Calls.Where(c => c.StartsWith("abandon", StringComparison.Ordinal)));
        Assert.Equal(0, CallsLike("renew"));
    }

    [Fact]
    public async Task Settling_stops_the_timer()
    {
        var (time, queue) = OnFakeClock(lockDuration: TimeSpan.FromSeconds(10));
        await using var _ = queue;
        var received = await ReceiveOneAsync(queue, TimeSpan.FromSeconds(30));
        await queue.AckAsync(received);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, CallsLike("renew"));
        Assert.Equal(0, CallsLike("abandon"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.ReleaseAsync(received));
    }

    [Fact]
    public async Task Dead_lettering_passes_the_reason_as_header_and_property()
    {
        var (_, queue) = OnFakeClock(lockDuration: TimeSpan.FromSeconds(60));
        await using var _ = queue;
        var received = await ReceiveOneAsync(queue, Long);
        await queue.DeadLetterAsync(received, "schema mismatch");

        Assert.Contains($"deadletter {received.Receipt} reason=schema mismatch description= properties={QueueOptions.ReasonAttribute}=schema mismatch", _bus.Calls);
        Assert.Equal("schema mismatch", Assert.Single(_bus.DeadLetters(Queue)).Reason);
        Assert.Equal(0, _bus.Count(Queue));
    }

    [Fact]
    public async Task Poison_rule_reads_service_bus_delivery_count()
    {
        var time = new FakeTimeProvider();
        _bus = new FakeServiceBus(time, TimeSpan.FromSeconds(60));
        _bus.Put(Queue, "third time"u8.ToArray(), deliveredBefore: 2);
        _bus.Put(Queue, "fourth time"u8.ToArray(), deliveredBefore: 3);
        await using var queue = Open(new QueueOptions { Time = time, MaxDeliveries = 3 });

        var received = await queue.ReceiveAsync(10, Long, TimeSpan.Zero);

        var kept = Assert.Single(received);
        Assert.Equal("third time", Encoding.UTF8.GetString(kept.Body.Span));
        Assert.Equal(3, kept.DeliveryCount);
        var dead = Assert.Single(_bus.DeadLetters(Queue));
        Assert.Equal("fourth time", Encoding.UTF8.GetString(dead.Body));
        Assert.Equal(QueueRules.PoisonReason(4, new QueueOptions { MaxDeliveries = 3 }), dead.Reason);
    }

    [Fact]
    public async Task With_a_dead_letter_queue_named_a_copy_is_sent_there_and_the_original_completed()
    {
        await using var queue = Open(deadLetterQueue: "parked");
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray(), new Dictionary<string, string> { ["type"] = "t" }));
        var received = await ReceiveOneAsync(queue, Long);
        await queue.DeadLetterAsync(received, "parked by hand");

        Assert.Contains($"complete {received.Receipt}", _bus.Calls);
        Assert.Empty(_bus.DeadLetters(Queue));
        await using var parked = new ServiceBusQueue(_bus.CreateClient(), new ServiceBusQueueOptions { Entity = "parked", MinimumWait = TimeSpan.FromMilliseconds(100) });
        var copy = await ReceiveOneAsync(parked, Long);
        Assert.Equal("x", Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Equal("t", copy.Attributes["type"]);
        Assert.Equal("parked by hand", copy.Attributes[QueueOptions.ReasonAttribute]);
    }

    [Fact]
    public async Task A_failed_settlement_keeps_the_message_held_so_it_can_be_retried()
    {
        var (_, queue) = OnFakeClock(lockDuration: TimeSpan.FromSeconds(60));
        await using var _ = queue;
        var received = await ReceiveOneAsync(queue, Long);
        _bus.NextSettleFailures.Enqueue(new ServiceBusException("busy", ServiceBusFailureReason.ServiceBusy));

        await Assert.ThrowsAsync<ServiceBusException>(() => queue.AckAsync(received));
        await queue.AckAsync(received);
        Assert.Equal(0, _bus.Count(Queue));
    }

    [Fact]
    public async Task Properties_of_other_types_read_as_invariant_text()
    {
        var time = new FakeTimeProvider();
        _bus = new FakeServiceBus(time, TimeSpan.FromSeconds(60));
        _bus.Put(Queue, "x"u8.ToArray(), new Dictionary<string, object>
        {
            ["count"] = 5,
            ["price"] = 1.25m,
            ["flag"] = true,
            ["at"] = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
        });
        await using var queue = Open(new QueueOptions { Time = time });
        var received = await ReceiveOneAsync(queue, Long, TimeSpan.Zero);
        Assert.Equal("5", received.Attributes["count"]);
        Assert.Equal("1.25", received.Attributes["price"]);
        Assert.Equal("True", received.Attributes["flag"]);
        Assert.Equal("2026-11-28T12:00:00.0000000+00:00", received.Attributes["at"]);
    }

    [Fact]
    public async Task Disposing_closes_the_client_only_when_it_owns_it()
    {
        await (Open()).DisposeAsync();
        Assert.DoesNotContain("client disposed", _bus.Calls);
        await Open(disposeClient: true).DisposeAsync();
        Assert.Contains("client disposed", _bus.Calls);
    }
}
