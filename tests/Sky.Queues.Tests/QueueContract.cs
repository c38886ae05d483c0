using System.Diagnostics;
using System.Text;

namespace Sky.Queues.Tests;

/// <summary>
/// The behaviour every <see cref="IMessageQueue"/> adapter must show, whatever cloud is behind it. An adapter's test
/// class derives from this, gives a fresh empty queue per test and a way to read its dead letters, and inherits
/// every test here (xUnit makes a new instance per test, so state kept in fields belongs to one test).
/// Timing uses real time with short timeouts: a wait for a message is a long poll with a generous bound, never a sleep.
/// </summary>
public abstract class QueueContract
{
    protected const int MaxDeliveries = 3;
    protected static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    /// <summary>Bound for a receive that expects a message to arrive (returns as soon as it does).</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>A fresh, empty queue for one test, built with <paramref name="options"/>.</summary>
    protected abstract Task<IMessageQueue> NewQueueAsync(QueueOptions options);

    /// <summary>The messages now in <paramref name="queue"/>'s dead-letter queue, with their attributes.</summary>
    protected abstract Task<IReadOnlyList<IncomingMessage>> DeadLettersAsync(IMessageQueue queue);

    /// <summary>The wait for a receive expected to find nothing.</summary>
    protected virtual TimeSpan ShortWait => TimeSpan.FromMilliseconds(200);

    protected Task<IMessageQueue> NewQueueAsync() => NewQueueAsync(new QueueOptions { MaxDeliveries = MaxDeliveries });

    [SkippableFact]
    public async Task Sent_message_is_received_once_and_ack_removes_it()
    {
        await using var queue = await NewQueueAsync();
        var id = await queue.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("{\"order\":42}"), new Dictionary<string, string> { ["type"] = "order.created" }));

        var received = await ReceiveOneAsync(queue, Long);
        Assert.Equal(id, received.MessageId);
        Assert.Equal("{\"order\":42}", Encoding.UTF8.GetString(received.Body.Span));
        Assert.Equal("order.created", received.Attributes["type"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.False(string.IsNullOrEmpty(received.Receipt));

        Assert.Empty(await queue.ReceiveAsync(10, Long, ShortWait)); // hidden while held
        await queue.AckAsync(received);
        Assert.Empty(await queue.ReceiveAsync(10, Long, ShortWait));
        Assert.Empty(await DeadLettersAsync(queue));
    }

    [SkippableFact]
    public async Task Unacked_message_comes_back_after_the_visibility_timeout_with_delivery_count_2()
    {
        await using var queue = await NewQueueAsync();
        var id = await queue.SendAsync(new OutgoingMessage("work"u8.ToArray()));

        var clock = Stopwatch.StartNew();
        var first = await ReceiveOneAsync(queue, TimeSpan.FromSeconds(1));
        Assert.Equal(1, first.DeliveryCount);
        Assert.Empty(await queue.ReceiveAsync(1, Long, ShortWait));

        var again = await ReceiveOneAsync(queue, Long, Patience);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"came back after {clock.Elapsed}, before its visibility timeout");
        Assert.Equal(id, again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        await queue.AckAsync(again);
    }

    [SkippableFact]
    public async Task Released_message_comes_back_at_once()
    {
        await using var queue = await NewQueueAsync();
        var id = await queue.SendAsync(new OutgoingMessage("retry me"u8.ToArray()));

        var first = await ReceiveOneAsync(queue, Long);
        await queue.ReleaseAsync(first);
        var clock = Stopwatch.StartNew();
        var again = await ReceiveOneAsync(queue, Long, Patience);
        Assert.True(clock.Elapsed < Long / 2, "a released message waited for its visibility timeout");
        Assert.Equal(id, again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        await queue.AckAsync(again);
    }

    [SkippableFact]
    public async Task Dead_lettered_message_leaves_the_queue_and_lands_in_the_dead_letter_queue_with_its_reason()
    {
        await using var queue = await NewQueueAsync();
        await queue.SendAsync(new OutgoingMessage("bad total"u8.ToArray(), new Dictionary<string, string> { ["type"] = "invoice" }));

        var received = await ReceiveOneAsync(queue, Long);
        await queue.DeadLetterAsync(received, "total does not add up");

        Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(1), ShortWait));
        var dead = Assert.Single(await DeadLettersAsync(queue));
        Assert.Equal("bad total", Encoding.UTF8.GetString(dead.Body.Span));
        Assert.Equal("invoice", dead.Attributes["type"]);
        Assert.Equal("total does not add up", dead.Attributes[QueueOptions.ReasonAttribute]);
    }

    [SkippableFact]
    public async Task Poison_message_is_delivered_max_deliveries_times_then_dead_lettered_by_receive()
    {
        await using var queue = await NewQueueAsync();
        var id = await queue.SendAsync(new OutgoingMessage("poison"u8.ToArray(), new Dictionary<string, string> { ["type"] = "crash" }));

        for (var delivery = 1; delivery <= MaxDeliveries; delivery++)
        {
            var received = await ReceiveOneAsync(queue, Long, Patience);
            Assert.Equal(id, received.MessageId);
            Assert.Equal(delivery, received.DeliveryCount);
            await queue.ReleaseAsync(received);
        }

        Assert.Empty(await queue.ReceiveAsync(10, Long, TimeSpan.FromSeconds(1)));
        var dead = Assert.Single(await DeadLettersAsync(queue));
        Assert.Equal("poison", Encoding.UTF8.GetString(dead.Body.Span));
        Assert.Equal("crash", dead.Attributes["type"]);
        Assert.Equal(QueueRules.PoisonReason(MaxDeliveries + 1, new QueueOptions { MaxDeliveries = MaxDeliveries }),
            dead.Attributes[QueueOptions.ReasonAttribute]);
    }

    [SkippableFact]
    public async Task Attributes_round_trip()
    {
        await using var queue = await NewQueueAsync();
        var attributes = new Dictionary<string, string>
        {
            ["specversion"] = "1.0",
            ["type"] = "sky.directory.offer.expired",
            ["source"] = "/sky/directory",
            ["datacontenttype"] = "application/protobuf",
            ["subject"] = "offer/aws/us-east-1/p4d.24xlarge",
            ["time"] = "2026-11-28T12:00:00.123Z",
            ["unicode"] = "żółw 🐢 ∑",
            ["with space"] = "a b",
            ["empty"] = "",
            ["x.dotted-name_1"] = "v",
            ["json"] = "{\"a\":[1,2]}",
            ["twelfth"] = "more than SQS carries as attributes",
        };
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray(), attributes));
        var received = await ReceiveOneAsync(queue, Long);
        Assert.Equal(attributes.OrderBy(a => a.Key), received.Attributes.OrderBy(a => a.Key));
        await queue.AckAsync(received);
    }

    [SkippableFact]
    public async Task Bodies_round_trip_byte_for_byte()
    {
        await using var queue = await NewQueueAsync();
        byte[][] bodies =
        [
            Encoding.UTF8.GetBytes("plain text, ünïcödé and 🐢"),
            [.. Enumerable.Range(0, 256).Select(i => (byte)i)],
            [],
            [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], // a BOM before {}
            Encoding.UTF8.GetBytes("line\r\nbreak\ttab"),
        ];
        var sent = new Dictionary<string, byte[]>();
        foreach (var body in bodies)
            sent[await queue.SendAsync(new OutgoingMessage(body, new Dictionary<string, string> { ["n"] = sent.Count.ToString() }))] = body;

        var received = await ReceiveAllAsync(queue, sent.Count);
        Assert.Equal(sent.Keys.Order(), received.Keys.Order());
        foreach (var (id, message) in received) Assert.Equal(sent[id], message.Body.ToArray());
    }

    [SkippableFact]
    public async Task Empty_receive_returns_an_empty_list_after_the_wait()
    {
        await using var queue = await NewQueueAsync();
        var wait = TimeSpan.FromMilliseconds(500);
        var clock = Stopwatch.StartNew();
        var received = await queue.ReceiveAsync(10, Long, wait);
        Assert.Empty(received);
        Assert.True(clock.Elapsed >= wait - TimeSpan.FromMilliseconds(50), $"returned after {clock.Elapsed}, before the {wait} wait");
        Assert.True(clock.Elapsed < wait + TimeSpan.FromSeconds(3), $"returned after {clock.Elapsed}, long after the {wait} wait");
    }

    [SkippableFact]
    public async Task Receive_waits_for_a_message_sent_during_the_wait()
    {
        await using var queue = await NewQueueAsync();
        var receiving = queue.ReceiveAsync(1, Long, Patience);
        await Task.Delay(300);
        var id = await queue.SendAsync(new OutgoingMessage("late"u8.ToArray()));
        var clock = Stopwatch.StartNew();
        var received = Assert.Single(await receiving);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "the receive did not return soon after the message came");
        Assert.Equal(id, received.MessageId);
    }

    [SkippableFact]
    public async Task Receive_returns_at_most_max_and_every_message_once()
    {
        await using var queue = await NewQueueAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 12; i++) ids.Add(await queue.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}"))));

        var seen = new List<string>();
        var clock = Stopwatch.StartNew();
        while (seen.Count < ids.Count && clock.Elapsed < Patience * 2)
        {
            var batch = await queue.ReceiveAsync(5, Long, TimeSpan.FromSeconds(1));
            Assert.True(batch.Count <= 5, $"asked for 5, got {batch.Count}");
            foreach (var message in batch)
            {
                seen.Add(message.MessageId);
                await queue.AckAsync(message);
            }
        }
        Assert.Equal(ids.Order(), seen.Order());
    }

    [SkippableFact]
    public async Task Receive_rejects_bad_arguments()
    {
        await using var queue = await NewQueueAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveAsync(0, Long, TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveAsync(1, TimeSpan.Zero, TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveAsync(1, Long, TimeSpan.FromSeconds(-1)));
    }

    [SkippableFact]
    public async Task Dead_letter_needs_a_reason()
    {
        await using var queue = await NewQueueAsync();
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        var received = await ReceiveOneAsync(queue, Long);
        await Assert.ThrowsAsync<ArgumentException>(() => queue.DeadLetterAsync(received, " "));
        await queue.AckAsync(received);
    }

    [SkippableFact]
    public async Task Address_names_the_queue_without_secrets()
    {
        await using var queue = await NewQueueAsync();
        Assert.True(Uri.TryCreate(queue.Address, UriKind.Absolute, out var address), queue.Address);
        Assert.Empty(address.UserInfo);
    }

    /// <summary>Exactly one message, waited for up to <paramref name="wait"/> (default: a few seconds).</summary>
    protected static async Task<IncomingMessage> ReceiveOneAsync(IMessageQueue queue, TimeSpan visibilityTimeout, TimeSpan? wait = null)
    {
        var received = await queue.ReceiveAsync(1, visibilityTimeout, wait ?? Patience);
        return Assert.Single(received);
    }

    /// <summary>Receives and acks until <paramref name="count"/> messages came (or the patience runs out), by message id.</summary>
    protected static async Task<Dictionary<string, IncomingMessage>> ReceiveAllAsync(IMessageQueue queue, int count)
    {
        var received = new Dictionary<string, IncomingMessage>();
        var clock = Stopwatch.StartNew();
        while (received.Count < count && clock.Elapsed < Patience * 2)
            foreach (var message in await queue.ReceiveAsync(count - received.Count, Long, TimeSpan.FromSeconds(1)))
            {
                Assert.True(received.TryAdd(message.MessageId, message), $"message {message.MessageId} delivered twice");
                await queue.AckAsync(message);
            }
        return received;
    }
}
