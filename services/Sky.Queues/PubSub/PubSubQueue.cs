using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sky.Queues.PubSub;

/// <summary>Which topic and subscription a <see cref="PubSubQueue"/> uses, where Pub/Sub is, and how to authenticate.</summary>
public sealed record PubSubQueueOptions
{
    /// <summary>Google's endpoint for the REST API.</summary>
    public static readonly Uri GoogleEndpoint = new("https://pubsub.googleapis.com");

    /// <summary>The project id holding the topic and subscription.</summary>
    public required string Project { get; init; }

    /// <summary>The topic Send publishes to.</summary>
    public required string Topic { get; init; }

    /// <summary>The subscription (on <see cref="Topic"/>) Receive pulls from.</summary>
    public required string Subscription { get; init; }

    /// <summary>The topic dead-lettered copies are published to (in the same project). Required: Receive dead-letters poison messages.</summary>
    public required string DeadLetterTopic { get; init; }

    /// <summary>Where the API is: Google's by default; the emulator's as <c>http://host:port</c> (see <see cref="EmulatorEndpoint"/>).</summary>
    public Uri Endpoint { get; init; } = GoogleEndpoint;

    /// <summary>Gives the OAuth bearer token for each call; null, or a null token, sends no Authorization header (the emulator needs none).</summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessToken { get; init; }

    /// <summary>
    /// The least time one pull is given before the adapter stops waiting for it, so a receive with a short or zero
    /// wait still asks the server once; an empty receive therefore takes at least this long.
    /// </summary>
    public TimeSpan MinimumPull { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The URI for <see cref="IMessageQueue.Address"/>; by default <c>pubsub://PROJECT/TOPIC/SUBSCRIPTION?dlq=TOPIC</c>.</summary>
    public string? Address { get; init; }

    /// <summary>Whether disposing the queue disposes the HttpClient (so when <see cref="QueueUri"/> made it).</summary>
    public bool DisposeClient { get; init; }

    /// <summary>The emulator's endpoint from a <c>PUBSUB_EMULATOR_HOST</c> value (<c>host:port</c>, as Google's client libraries read it); null when unset.</summary>
    public static Uri? EmulatorEndpoint(string? host) => string.IsNullOrWhiteSpace(host) ? null : new Uri("http://" + host.Trim());
}

/// <summary>
/// Google Cloud Pub/Sub behind <see cref="IMessageQueue"/>, over its public REST v1 API (publish, pull, acknowledge,
/// modifyAckDeadline). Receive pulls without the deprecated returnImmediately: the server holds a pull open while it
/// has nothing, so the adapter bounds each pull by what is left of <c>wait</c> (at least
/// <see cref="PubSubQueueOptions.MinimumPull"/>) and pulls again until <c>wait</c> is spent. A pull abandoned that way
/// may have leased messages on the server; they come back after the subscription's ack deadline (at-least-once).
/// Each message received gets the visibility timeout as its ack deadline (modifyAckDeadline; at most 600 s);
/// Release sets the deadline to 0; dead-lettering publishes a copy with the reason to the dead-letter topic, then acks.
/// <para>Delivery count: the pull's deliveryAttempt, which Pub/Sub sends only when the subscription has a dead-letter
/// policy. Without one the adapter counts deliveries itself, per instance and in memory (the count starts again in
/// another process), so give subscriptions a dead-letter policy when the poison rule must hold across processes.</para>
/// </summary>
public sealed class PubSubQueue : IMessageQueue
{
    /// <summary>Pub/Sub's longest ack deadline.</summary>
    public const int MaxAckDeadlineSeconds = 600;

    private static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(100);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;
    private readonly PubSubQueueOptions _pubSub;
    private readonly QueueOptions _options;
    private readonly string _topicUrl;
    private readonly string _deadLetterUrl;
    private readonly string _subscriptionUrl;
    private readonly DeliveryTally _tally = new();

    public PubSubQueue(HttpClient http, PubSubQueueOptions pubSubOptions, QueueOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(pubSubOptions);
        foreach (var (name, value) in (ReadOnlySpan<(string, string)>)[("Project", pubSubOptions.Project), ("Topic", pubSubOptions.Topic),
                     ("Subscription", pubSubOptions.Subscription), ("DeadLetterTopic", pubSubOptions.DeadLetterTopic)])
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} is required", nameof(pubSubOptions));
        if (!pubSubOptions.Endpoint.IsAbsoluteUri) throw new ArgumentException("Endpoint must be an absolute URI", nameof(pubSubOptions));
        _http = http;
        _pubSub = pubSubOptions;
        _options = QueueRules.Check(options);
        var project = pubSubOptions.Endpoint.GetLeftPart(UriPartial.Authority) + "/v1/projects/" + Uri.EscapeDataString(pubSubOptions.Project);
        _topicUrl = project + "/topics/" + Uri.EscapeDataString(pubSubOptions.Topic);
        _deadLetterUrl = project + "/topics/" + Uri.EscapeDataString(pubSubOptions.DeadLetterTopic);
        _subscriptionUrl = project + "/subscriptions/" + Uri.EscapeDataString(pubSubOptions.Subscription);
        Address = pubSubOptions.Address
                  ?? $"pubsub://{pubSubOptions.Project}/{pubSubOptions.Topic}/{pubSubOptions.Subscription}?dlq={Uri.EscapeDataString(pubSubOptions.DeadLetterTopic)}";
    }

    public string Address { get; }

    public Task<string> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Body.IsEmpty && message.Attributes.Count == 0)
            throw new ArgumentException("Pub/Sub cannot carry a message with neither a body nor attributes", nameof(message));
        return PublishAsync(_topicUrl, message.Body, message.Attributes, ct);
    }

    public async Task<IReadOnlyList<IncomingMessage>> ReceiveAsync(int max, TimeSpan visibilityTimeout, TimeSpan wait, CancellationToken ct = default)
    {
        QueueRules.CheckReceive(max, visibilityTimeout, wait);
        var ackSeconds = QueueRules.WholeSeconds(visibilityTimeout, MaxAckDeadlineSeconds, "Pub/Sub");
        var time = _options.Time;
        var deadline = QueueRules.Deadline(time, wait);
        while (true)
        {
            var remaining = deadline - time.GetUtcNow();
            var pulled = await PullAsync(max, remaining > _pubSub.MinimumPull ? remaining : _pubSub.MinimumPull, ct);
            var received = new List<IncomingMessage>(pulled.Count);
            foreach (var message in pulled)
            {
                if (QueueRules.IsPoison(message.DeliveryCount, _options))
                    await DeadLetterAsync(message, QueueRules.PoisonReason(message.DeliveryCount, _options), ct);
                else received.Add(message);
            }
            if (received.Count > 0)
            {
                await PostAsync(_subscriptionUrl + ":modifyAckDeadline",
                    new ModifyAckDeadlineRequest([.. received.Select(m => m.Receipt)], ackSeconds), "modifyAckDeadline", ct);
                return received;
            }
            var now = time.GetUtcNow();
            if (now >= deadline) return [];
            await Task.Delay(deadline - now < PollPause ? deadline - now : PollPause, time, ct);
        }
    }

    public async Task AckAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await PostAsync(_subscriptionUrl + ":acknowledge", new AcknowledgeRequest([message.Receipt]), "acknowledge", ct);
        _tally.Forget(message.MessageId);
    }

    public async Task ReleaseAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await PostAsync(_subscriptionUrl + ":modifyAckDeadline", new ModifyAckDeadlineRequest([message.Receipt], 0), "modifyAckDeadline", ct);
    }

    public async Task DeadLetterAsync(IncomingMessage message, string reason, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        QueueRules.CheckReason(reason);
        await PublishAsync(_deadLetterUrl, message.Body, QueueRules.WithReason(message.Attributes, reason), ct);
        await AckAsync(message, ct);
    }

    public ValueTask DisposeAsync()
    {
        if (_pubSub.DisposeClient) _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> PublishAsync(string topicUrl, ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> attributes, CancellationToken ct)
    {
        var request = new PublishRequest([new PubsubMessage { Data = body.ToArray(), Attributes = attributes.Count > 0 ? attributes : null }]);
        var response = await PostAsync<PublishRequest, PublishResponse>(topicUrl + ":publish", request, "publish", ct);
        return response?.MessageIds is [var id, ..] ? id : throw new PubSubException("Pub/Sub publish returned no message id", System.Net.HttpStatusCode.OK, null);
    }

    /// <summary>One pull, abandoned (as nothing received) when <paramref name="budget"/> passes first.</summary>
    private async Task<List<IncomingMessage>> PullAsync(int max, TimeSpan budget, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(budget, _options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        PullResponse? response;
        try
        {
            response = await PostAsync<PullRequest, PullResponse>(_subscriptionUrl + ":pull", new PullRequest(max), "pull", linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return [];
        }
        return [.. (response?.ReceivedMessages ?? []).Select(ToIncoming)];
    }

    private IncomingMessage ToIncoming(ReceivedMessage received)
    {
        var message = received.Message ?? throw new PubSubException("Pub/Sub pull returned a received message without its message", System.Net.HttpStatusCode.OK, null);
        var messageId = message.MessageId ?? "";
        var count = received.DeliveryAttempt is { } attempt and > 0 ? attempt : _tally.Count(messageId);
        var attributes = new Dictionary<string, string>(message.Attributes ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        return new IncomingMessage(messageId, message.Data ?? [], attributes, count, received.AckId);
    }

    private async Task PostAsync<TRequest>(string url, TRequest body, string operation, CancellationToken ct) =>
        await PostAsync<TRequest, JsonElement>(url, body, operation, ct);

    private async Task<TResponse?> PostAsync<TRequest, TResponse>(string url, TRequest body, string operation, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body, options: Json) };
        if (_pubSub.AccessToken is { } provider && await provider(ct) is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode) throw PubSubException.From(operation, response.StatusCode, text);
        return text.Length == 0 ? default : JsonSerializer.Deserialize<TResponse>(text, Json);
    }

    /// <summary>
    /// Deliveries counted by this instance, for subscriptions that send no deliveryAttempt. Bounded: past
    /// <see cref="Capacity"/> ids the oldest are forgotten (their next delivery counts from 1 again).
    /// </summary>
    private sealed class DeliveryTally
    {
        private const int Capacity = 100_000;
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<string> _order = new();

        public int Count(string messageId)
        {
            var count = _counts.AddOrUpdate(messageId, 1, (_, seen) => seen + 1);
            if (count == 1)
            {
                _order.Enqueue(messageId);
                while (_counts.Count > Capacity && _order.TryDequeue(out var oldest)) _counts.TryRemove(oldest, out _);
            }
            return count;
        }

        public void Forget(string messageId) => _counts.TryRemove(messageId, out _);
    }

    private sealed record PublishRequest(IReadOnlyList<PubsubMessage> Messages);
    private sealed record PublishResponse(List<string>? MessageIds);
    private sealed record PullRequest(int MaxMessages);
    private sealed record PullResponse(List<ReceivedMessage>? ReceivedMessages);
    private sealed record ReceivedMessage(string AckId, PubsubMessage? Message, int? DeliveryAttempt);
    private sealed record AcknowledgeRequest(IReadOnlyList<string> AckIds);
    private sealed record ModifyAckDeadlineRequest(IReadOnlyList<string> AckIds, int AckDeadlineSeconds);

    private sealed record PubsubMessage
    {
        public byte[]? Data { get; init; }
        public IReadOnlyDictionary<string, string>? Attributes { get; init; }
        public string? MessageId { get; init; }
        public string? PublishTime { get; init; }
    }
}
