using System.Net;
using Sky.Queues.PubSub;

namespace Sky.Queues.Tests.PubSub;

/// <summary>One fake Pub/Sub server and HttpClient for all the Pub/Sub tests; each test makes its own topics.</summary>
public sealed class PubSubFixture : IAsyncLifetime
{
    public const string Project = "sky-test";

    public FakePubSub Fake { get; private set; } = null!;
    public HttpClient Http { get; } = new();

    public async Task InitializeAsync() => Fake = await FakePubSub.StartAsync();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Fake.DisposeAsync();
    }

    /// <summary>A topic with a subscription, and a dead-letter topic with a subscription to read it through.</summary>
    public async Task<Names> NewTopicAsync(bool deadLetterPolicy = true)
    {
        var topic = "t-" + Guid.NewGuid().ToString("N")[..12];
        var names = new Names(topic, topic + "-sub", topic + "-dlq", topic + "-dlq-sub");
        await Fake.CreateTopicAsync(Project, names.Topic);
        await Fake.CreateTopicAsync(Project, names.DeadLetterTopic);
        await Fake.CreateSubscriptionAsync(Project, names.DeadLetterSubscription, names.DeadLetterTopic);
        await Fake.CreateSubscriptionAsync(Project, names.Subscription, names.Topic, deadLetterPolicy ? names.DeadLetterTopic : null);
        return names;
    }

    public PubSubQueue Open(string topic, string subscription, string deadLetterTopic, QueueOptions? options = null,
        Func<CancellationToken, ValueTask<string?>>? token = null) =>
        new(Http, new PubSubQueueOptions
        {
            Project = Project,
            Topic = topic,
            Subscription = subscription,
            DeadLetterTopic = deadLetterTopic,
            Endpoint = Fake.Endpoint,
            AccessToken = token,
            MinimumPull = TimeSpan.FromMilliseconds(100),
        }, options);

    public PubSubQueue Open(Names names, QueueOptions? options = null) => Open(names.Topic, names.Subscription, names.DeadLetterTopic, options);

    public sealed record Names(string Topic, string Subscription, string DeadLetterTopic, string DeadLetterSubscription);
}

public sealed class PubSubQueueTests(PubSubFixture pubSub) : QueueContract, IClassFixture<PubSubFixture>
{
    private PubSubFixture.Names? _names;

    protected override async Task<IMessageQueue> NewQueueAsync(QueueOptions options)
    {
        _names = await pubSub.NewTopicAsync();
        return pubSub.Open(_names, options);
    }

    protected override async Task<IReadOnlyList<IncomingMessage>> DeadLettersAsync(IMessageQueue queue)
    {
        await using var deadLetters = pubSub.Open(_names!.DeadLetterTopic, _names.DeadLetterSubscription, _names.DeadLetterTopic + "-dlq");
        return await deadLetters.ReceiveAsync(10, Long, TimeSpan.Zero);
    }

    [Fact]
    public async Task Without_a_dead_letter_policy_the_adapter_counts_deliveries_itself()
    {
        var names = await pubSub.NewTopicAsync(deadLetterPolicy: false);
        _names = names;
        await using var queue = pubSub.Open(names, new QueueOptions { MaxDeliveries = 2 });
        var before = pubSub.Fake.Requests.Count;
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));

        for (var delivery = 1; delivery <= 2; delivery++)
        {
            var received = await ReceiveOneAsync(queue, Long);
            Assert.Equal(delivery, received.DeliveryCount);
            await queue.ReleaseAsync(received);
        }
        Assert.Empty(await queue.ReceiveAsync(1, Long, TimeSpan.FromMilliseconds(300)));
        var dead = Assert.Single(await DeadLettersAsync(queue));
        Assert.Equal(QueueRules.PoisonReason(3, new QueueOptions { MaxDeliveries = 2 }), dead.Attributes[QueueOptions.ReasonAttribute]);
        Assert.DoesNotContain(pubSub.Fake.Requests.Skip(before), r => r.Body?["returnImmediately"] is not null);
    }

    [Fact]
    public async Task Receive_sets_the_ack_deadline_to_the_visibility_timeout_and_release_sets_it_to_zero()
    {
        await using var queue = await NewQueueAsync();
        await queue.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        var before = pubSub.Fake.Requests.Count;

        var received = await ReceiveOneAsync(queue, TimeSpan.FromSeconds(1.5));
        await queue.ReleaseAsync(received);

        var deadlines = pubSub.Fake.Requests.Skip(before).Where(r => r.Path.EndsWith(":modifyAckDeadline", StringComparison.Ordinal))
            .Select(r => (r.Body!["ackDeadlineSeconds"]!.GetValue<int>(), r.Body["ackIds"]![0]!.GetValue<string>())).ToList();
        Assert.Equal([(2, received.Receipt), (0, received.Receipt)], deadlines);
    }

    [Fact]
    public async Task An_empty_receive_pulls_again_until_the_wait_is_spent()
    {
        await using var queue = await NewQueueAsync();
        var before = pubSub.Fake.Requests.Count;
        Assert.Empty(await queue.ReceiveAsync(1, Long, TimeSpan.FromSeconds(1)));
        var pulls = pubSub.Fake.Requests.Skip(before).Count(r => r.Path.EndsWith(":pull", StringComparison.Ordinal));
        Assert.InRange(pulls, 2, 6); // the fake holds each empty pull 200 ms
    }

    [Fact]
    public async Task The_bearer_token_goes_on_every_call_and_a_rejection_carries_googles_message()
    {
        var names = await pubSub.NewTopicAsync();
        pubSub.Fake.RequiredToken = "token-1";
        try
        {
            await using var authorized = pubSub.Open(names.Topic, names.Subscription, names.DeadLetterTopic, token: _ => ValueTask.FromResult<string?>("token-1"));
            await authorized.SendAsync(new OutgoingMessage("x"u8.ToArray()));
            await authorized.AckAsync(await ReceiveOneAsync(authorized, Long));

            await using var anonymous = pubSub.Open(names);
            var error = await Assert.ThrowsAsync<PubSubException>(() => anonymous.SendAsync(new OutgoingMessage("x"u8.ToArray())));
            Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
            Assert.Equal("UNAUTHENTICATED", error.Status);
            Assert.Contains("invalid authentication credentials", error.Message, StringComparison.Ordinal);
        }
        finally { pubSub.Fake.RequiredToken = null; }
    }

    [Fact]
    public async Task Errors_name_googles_status_and_message()
    {
        var names = await pubSub.NewTopicAsync();
        await using var queue = pubSub.Open(names.Topic, "no-such-subscription", names.DeadLetterTopic);
        var error = await Assert.ThrowsAsync<PubSubException>(() => queue.ReceiveAsync(1, Long, TimeSpan.Zero));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("NOT_FOUND", error.Status);
        Assert.Contains("Resource not found (resource=no-such-subscription)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pub_sub_limits_are_checked_before_the_call()
    {
        await using var queue = await NewQueueAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendAsync(new OutgoingMessage(Array.Empty<byte>())));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveAsync(1, TimeSpan.FromSeconds(601), TimeSpan.Zero));
    }

    [Fact]
    public async Task Query_uri_opens_the_emulator_named_by_PUBSUB_EMULATOR_HOST()
    {
        var names = await pubSub.NewTopicAsync();
        var connections = new QueueConnections
        {
            Environment = name => name == QueueConnections.PubSubEmulatorVariable ? pubSub.Fake.Endpoint.Authority : null,
        };
        await using var queue = await QueueUri.OpenAsync(
            $"pubsub://{PubSubFixture.Project}/{names.Topic}/{names.Subscription}?dlq={names.DeadLetterTopic}", connections: connections);

        Assert.Equal($"pubsub://{PubSubFixture.Project}/{names.Topic}/{names.Subscription}?dlq={names.DeadLetterTopic}", queue.Address);
        var id = await queue.SendAsync(new OutgoingMessage("via uri"u8.ToArray()));
        var received = await ReceiveOneAsync(queue, Long);
        Assert.Equal(id, received.MessageId);
        await queue.DeadLetterAsync(received, "checked");
        _names = names;
        Assert.Equal("checked", Assert.Single(await DeadLettersAsync(queue)).Attributes[QueueOptions.ReasonAttribute]);
    }
}
