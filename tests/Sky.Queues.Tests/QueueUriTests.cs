using Amazon.Runtime;
using Sky.Queues.PubSub;
using Sky.Queues.ServiceBus;
using Sky.Queues.Sqs;
using Sky.Queues.Tests.Sqs;

namespace Sky.Queues.Tests;

public sealed class QueueUriTests
{
    private const string ConnectionString = "Endpoint=sb://sky-orders.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0";

    /// <summary>No environment at all, so a developer's own variables cannot change what the tests see.</summary>
    private static readonly QueueConnections Bare = new() { Environment = _ => null };

    [Theory]
    [InlineData("orders", "scheme")]
    [InlineData("ftp://orders", "scheme")]
    [InlineData("sqs://", "queue name")]
    [InlineData("sqs://bad!name", "queue name")]
    [InlineData("sqs://orders.fifo", "queue name")]
    [InlineData("sqs://orders/extra", "path")]
    [InlineData("sqs://key:secret@orders", "userinfo")]
    [InlineData("sqs://orders#top", "fragment")]
    [InlineData("sqs://orders?region=Mars", "region")]
    [InlineData("sqs://orders?endpoint=ftp://host", "endpoint")]
    [InlineData("sqs://orders?endpoint=relative/path", "endpoint")]
    [InlineData("sqs://orders?dlq=bad%20name", "dlq")]
    [InlineData("sqs://orders?dlq=", "query parameter 'dlq'")]
    [InlineData("sqs://orders?colour=red", "query parameter 'colour'")]
    [InlineData("sqs://orders?region=eu-west-1&region=us-east-1", "query parameter 'region'")]
    [InlineData("servicebus://sky-orders", "queue")]
    [InlineData("servicebus://ab/orders", "namespace")]
    [InlineData("servicebus://sky-orders/bad name", "queue")]
    [InlineData("servicebus://sky-orders/topic/sub/extra", "path")]
    [InlineData("servicebus://sky-orders/topic/bad!sub", "subscription")]
    [InlineData("servicebus://sky-orders/orders?dlq=bad%21", "dlq")]
    [InlineData("servicebus://sky-orders/orders?region=x", "query parameter 'region'")]
    [InlineData("servicebus://other-namespace/orders", "namespace")]
    [InlineData("pubsub://Sky-Test/topic/sub", "project")]
    [InlineData("pubsub://sky-test/topic", "subscription")]
    [InlineData("pubsub://sky-test/topic/sub/more", "path")]
    [InlineData("pubsub://sky-test/goog-topic/sub-1", "topic")]
    [InlineData("pubsub://sky-test/topic/s", "subscription")]
    [InlineData("pubsub://sky-test/topic/sub-1?dlq=9lives", "dlq")]
    [InlineData("pubsub://sky-test/topic/sub-1?endpoint=nope", "endpoint")]
    [InlineData("pubsub://sky-test//sub-1", "path")]
    public async Task A_bad_uri_names_the_part_that_is_wrong(string uri, string part)
    {
        var connections = Bare with { ServiceBusConnectionString = ConnectionString };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => QueueUri.OpenAsync(uri, connections: connections));
        Assert.StartsWith(part + ":", error.Message, StringComparison.Ordinal);
        Assert.Equal("uri", error.ParamName);
    }

    [Fact]
    public async Task Redis_uris_need_a_stream_and_a_group()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => QueueUri.OpenAsync("redis://127.0.0.1:6379/0?group=g"));
        Assert.Contains("stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_sqs_uri_opens_a_working_queue_on_its_endpoint()
    {
        await using var fake = await FakeSqs.StartAsync();
        using (var client = fake.CreateClient())
        {
            await client.CreateQueueAsync("Orders_1");
            await client.CreateQueueAsync("Orders_1-dlq");
        }
        var connections = Bare with { AwsCredentials = new BasicAWSCredentials("AKIDFAKE", "fake-secret") };
        var uri = $"sqs://Orders_1?region=eu-west-1&endpoint={Uri.EscapeDataString(fake.ServiceUrl.ToString())}";

        await using var queue = await QueueUri.OpenAsync(uri, connections: connections);

        Assert.IsType<SqsQueue>(queue);
        Assert.Equal($"sqs://Orders_1?region=eu-west-1&endpoint={Uri.EscapeDataString(fake.ServiceUrl.ToString())}&dlq=Orders_1-dlq", queue.Address);
        var id = await queue.SendAsync(new OutgoingMessage("via uri"u8.ToArray()));
        var received = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30), TimeSpan.Zero));
        Assert.Equal(id, received.MessageId);
        await queue.DeadLetterAsync(received, "checked");
        Assert.Single(fake.Stored("Orders_1-dlq"));
    }

    [Fact]
    public async Task A_service_bus_uri_takes_its_connection_string_from_the_environment_never_the_uri()
    {
        var fromEnvironment = new QueueConnections
        {
            Environment = name => name == QueueConnections.ServiceBusConnectionVariable ? ConnectionString : null,
        };
        await using (var queue = await QueueUri.OpenAsync("servicebus://sky-orders/orders", connections: fromEnvironment))
        {
            Assert.IsType<ServiceBusQueue>(queue);
            Assert.Equal("servicebus://sky-orders/orders", queue.Address);
        }
        await using (var topic = await QueueUri.OpenAsync("servicebus://sky-orders.servicebus.windows.net/events/billing?dlq=parked", connections: fromEnvironment))
            Assert.Equal("servicebus://sky-orders.servicebus.windows.net/events/billing?dlq=parked", topic.Address);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => QueueUri.OpenAsync("servicebus://sky-orders/orders", connections: Bare));
        Assert.Contains(QueueConnections.ServiceBusConnectionVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pub_sub_uri_defaults_the_dead_letter_topic_and_keeps_secrets_out_of_the_address()
    {
        await using var queue = await QueueUri.OpenAsync("pubsub://sky-test/orders/orders-billing",
            connections: Bare with { PubSubAccessToken = _ => ValueTask.FromResult<string?>("secret-token") });
        Assert.IsType<PubSubQueue>(queue);
        Assert.Equal("pubsub://sky-test/orders/orders-billing?dlq=orders-dlq", queue.Address);
        Assert.DoesNotContain("secret", queue.Address, StringComparison.Ordinal);
    }
}
