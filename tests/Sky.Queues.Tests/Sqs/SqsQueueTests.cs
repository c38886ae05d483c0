using System.Text;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Time.Testing;
using Sky.Queues.Sqs;

namespace Sky.Queues.Tests.Sqs;

/// <summary>One fake SQS server and SDK client for all the SQS tests; each test makes its own queues.</summary>
public sealed class SqsFixture : IAsyncLifetime
{
    public FakeSqs Fake { get; private set; } = null!;
    public AmazonSQSClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Fake = await FakeSqs.StartAsync();
        Client = Fake.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Fake.DisposeAsync();
    }

    /// <summary>A new queue and its dead-letter queue; returns their names.</summary>
    public async Task<(string Queue, string DeadLetter)> NewQueuesAsync(AmazonSQSClient? client = null)
    {
        client ??= Client;
        var name = "q-" + Guid.NewGuid().ToString("N")[..12];
        await client.CreateQueueAsync(name);
        await client.CreateQueueAsync(name + "-dlq");
        return (name, name + "-dlq");
    }
}

public sealed class SqsQueueTests(SqsFixture sqs) : QueueContract, IClassFixture<SqsFixture>
{
    private string? _deadLetter;

    protected override async Task<IMessageQueue> NewQueueAsync(QueueOptions options)
    {
        var (queue, deadLetter) = await sqs.NewQueuesAsync();
        _deadLetter = deadLetter;
        return new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = queue, DeadLetterQueue = deadLetter }, options);
    }

    protected override async Task<IReadOnlyList<IncomingMessage>> DeadLettersAsync(IMessageQueue queue)
    {
        await using var deadLetters = new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = _deadLetter!, DeadLetterQueue = _deadLetter! });
        return await deadLetters.ReceiveAsync(10, Long, TimeSpan.Zero);
    }

    [Fact]
    public async Task More_than_ten_messages_come_in_one_receive_through_several_calls()
    {
        await using var queue = await NewQueueAsync();
        var before = sqs.Fake.Requests.Count;
        for (var i = 0; i < 15; i++) await queue.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")));

        var received = await queue.ReceiveAsync(15, Long, TimeSpan.Zero);

        Assert.Equal(15, received.Select(m => m.MessageId).Distinct().Count());
        var asks = sqs.Fake.Requests.Skip(before).Where(r => r.Operation == "ReceiveMessage")
            .Select(r => r.Request["MaxNumberOfMessages"]!.GetValue<int>()).ToList();
        Assert.Equal([10, 5], asks);
    }

    [Fact]
    public async Task Long_poll_is_capped_at_twenty_seconds_and_asks_for_the_receive_count()
    {
        await using var queue = await NewQueueAsync();
        var before = sqs.Fake.Requests.Count;
        var receiving = queue.ReceiveAsync(1, TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(25));
        await Task.Delay(300);
        await queue.SendAsync(new OutgoingMessage("late"u8.ToArray()));
        Assert.Single(await receiving);

        var request = sqs.Fake.Requests.Skip(before).First(r => r.Operation == "ReceiveMessage").Request;
        Assert.Equal(20, request["WaitTimeSeconds"]!.GetValue<int>());
        Assert.Equal(2, request["VisibilityTimeout"]!.GetValue<int>()); // 1.2 s rounded up
        Assert.Contains("ApproximateReceiveCount", request["MessageSystemAttributeNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("All", request["MessageAttributeNames"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Text_travels_as_text_and_other_bytes_as_marked_base64()
    {
        var (name, deadLetter) = await sqs.NewQueuesAsync();
        await using var queue = new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = name, DeadLetterQueue = deadLetter });
        await queue.SendAsync(new OutgoingMessage("{\"hello\":\"wörld\"}"u8.ToArray()));
        await queue.SendAsync(new OutgoingMessage(new byte[] { 0xFF, 0x00, 0x01 }));
        await queue.SendAsync(new OutgoingMessage(Array.Empty<byte>()));

        var stored = sqs.Fake.Stored(name);
        Assert.Equal("{\"hello\":\"wörld\"}", stored[0].Body);
        Assert.Empty(stored[0].Attributes);
        Assert.Equal(Convert.ToBase64String(new byte[] { 0xFF, 0x00, 0x01 }), stored[1].Body);
        Assert.Equal("base64", stored[1].Attributes[SqsMessageCodec.BodyEncodingAttribute].StringValue);
        Assert.Equal("base64", stored[2].Attributes[SqsMessageCodec.BodyEncodingAttribute].StringValue);
    }

    [Fact]
    public async Task Attributes_that_fit_travel_as_message_attributes_and_others_are_packed()
    {
        var (name, deadLetter) = await sqs.NewQueuesAsync();
        await using var queue = new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = name, DeadLetterQueue = deadLetter });
        await queue.SendAsync(new OutgoingMessage("a"u8.ToArray(), new Dictionary<string, string> { ["type"] = "t", ["ce.source"] = "/s" }));
        var many = Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => $"v{i}");
        await queue.SendAsync(new OutgoingMessage("b"u8.ToArray(), many));
        await queue.SendAsync(new OutgoingMessage("c"u8.ToArray(), new Dictionary<string, string> { ["empty"] = "" }));

        var stored = sqs.Fake.Stored(name);
        Assert.Equal(["ce.source", "type"], stored[0].Attributes.Keys.Order());
        Assert.Equal([SqsMessageCodec.PackedAttributesAttribute], stored[1].Attributes.Keys);
        Assert.Equal([SqsMessageCodec.PackedAttributesAttribute], stored[2].Attributes.Keys);

        var received = await ReceiveAllAsync(queue, 3);
        Assert.Equal(many.OrderBy(a => a.Key), received.Values.Single(m => m.Body.Span.SequenceEqual("b"u8)).Attributes.OrderBy(a => a.Key));
        Assert.Equal("", received.Values.Single(m => m.Body.Span.SequenceEqual("c"u8)).Attributes["empty"]);
    }

    [Fact]
    public async Task A_message_from_another_producer_reads_as_its_text_and_attributes()
    {
        var (name, deadLetter) = await sqs.NewQueuesAsync();
        await sqs.Client.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = sqs.Fake.QueueUrl(name),
            MessageBody = "plain text from elsewhere",
            MessageAttributes = new Dictionary<string, MessageAttributeValue>
            {
                ["kind"] = new() { DataType = "String", StringValue = "legacy" },
                ["count"] = new() { DataType = "Number", StringValue = "5" },
                ["blob"] = new() { DataType = "Binary", BinaryValue = new MemoryStream([1, 2, 3]) },
            },
        });
        await using var queue = new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = name, DeadLetterQueue = deadLetter });

        var received = await ReceiveOneAsync(queue, Long);
        Assert.Equal("plain text from elsewhere", Encoding.UTF8.GetString(received.Body.Span));
        Assert.Equal("legacy", received.Attributes["kind"]);
        Assert.Equal("5", received.Attributes["count"]);
        Assert.Equal(Convert.ToBase64String([1, 2, 3]), received.Attributes["blob"]);
    }

    [Fact]
    public async Task Release_after_the_visibility_timeout_lapsed_is_harmless()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-28T12:00:00Z"));
        await using var fake = await FakeSqs.StartAsync(time);
        using var client = fake.CreateClient();
        var (name, deadLetter) = await sqs.NewQueuesAsync(client);
        await using var queue = new SqsQueue(client, new SqsQueueOptions { Queue = name, DeadLetterQueue = deadLetter }, new QueueOptions { Time = time });
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));

        var first = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5), TimeSpan.Zero));
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5), TimeSpan.Zero));
        time.Advance(TimeSpan.FromSeconds(6));
        await queue.ReleaseAsync(first); // MessageNotInflight on the wire, nothing to the caller

        var again = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5), TimeSpan.Zero));
        Assert.Equal(2, again.DeliveryCount);
        await queue.AckAsync(first); // the older receipt handle: SQS accepts it and deletes nothing
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(3, Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(5), TimeSpan.Zero)).DeliveryCount);
    }

    [Fact]
    public async Task Queue_names_are_resolved_once()
    {
        await using var queue = await NewQueueAsync();
        var before = sqs.Fake.Requests.Count;
        for (var i = 0; i < 3; i++) await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        Assert.Equal(1, sqs.Fake.Requests.Skip(before).Count(r => r.Operation == "GetQueueUrl"));
    }

    [Fact]
    public async Task Errors_of_sqs_reach_the_caller_as_the_sdk_reports_them()
    {
        await using var missing = new SqsQueue(sqs.Client, new SqsQueueOptions { Queue = "no-such-queue", DeadLetterQueue = "no-such-queue-dlq" });
        await Assert.ThrowsAsync<QueueDoesNotExistException>(() => missing.SendAsync(new OutgoingMessage("x"u8.ToArray())));

        await using var queue = await NewQueueAsync();
        var reserved = new Dictionary<string, string> { [SqsMessageCodec.BodyEncodingAttribute] = "base64" };
        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendAsync(new OutgoingMessage("x"u8.ToArray(), reserved)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveAsync(1, TimeSpan.FromHours(13), TimeSpan.Zero));
    }

    [Fact]
    public void Codec_decides_text_by_sqs_rules()
    {
        Assert.True(SqsMessageCodec.IsSqsText("tab\tnewline\n 🐢"u8));
        Assert.False(SqsMessageCodec.IsSqsText([0x00]));            // NUL is not allowed
        Assert.False(SqsMessageCodec.IsSqsText([0xC3]));            // truncated UTF-8
        Assert.False(SqsMessageCodec.IsSqsText([0xEF, 0xBF, 0xBF])); // U+FFFF
        Assert.True(SqsMessageCodec.IsSqsName("ce.type-1_x"));
        Assert.False(SqsMessageCodec.IsSqsName("AWS.trace"));
        Assert.False(SqsMessageCodec.IsSqsName("a..b"));
        Assert.False(SqsMessageCodec.IsSqsName("with space"));
    }

    [Fact]
    public void Codec_hands_over_what_it_cannot_decode_instead_of_failing_the_receive()
    {
        static MessageAttributeValue Text(string value) => new() { DataType = "String", StringValue = value };

        var (body, attributes) = SqsMessageCodec.Decode("not base64!", new() { [SqsMessageCodec.BodyEncodingAttribute] = Text("base64") });
        Assert.Equal("not base64!", Encoding.UTF8.GetString(body));
        Assert.Equal("base64", attributes[SqsMessageCodec.BodyEncodingAttribute]);

        (body, attributes) = SqsMessageCodec.Decode("x", new() { [SqsMessageCodec.PackedAttributesAttribute] = Text("{broken") });
        Assert.Equal("x", Encoding.UTF8.GetString(body));
        Assert.Equal("{broken", attributes[SqsMessageCodec.PackedAttributesAttribute]);
    }
}
