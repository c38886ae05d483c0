using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sky.Queues.Tests.PubSub;

/// <summary>
/// A fake of Google Cloud Pub/Sub's REST v1 API on a Kestrel loopback port, written from the published reference.
/// <para>What it does as Pub/Sub does: <c>PUT projects/P/topics/T</c> and <c>PUT projects/P/subscriptions/S</c>
/// (topic, ackDeadlineSeconds 10-600, deadLetterPolicy with maxDeliveryAttempts 5-100; 409 ALREADY_EXISTS);
/// <c>topics/T:publish</c> (base64 data, attributes checked: key non-empty, at most 256 bytes, not goog*; value at
/// most 1024 bytes; a message needs data or an attribute; copies to every subscription the topic has now);
/// <c>subscriptions/S:pull</c> (maxMessages > 0; without returnImmediately it holds for <see cref="PullHold"/> when
/// there is nothing, answering at once when something comes; leases each message for the subscription's ack
/// deadline with a new ackId; deliveryAttempt only when the subscription has a dead-letter policy, and forwarding
/// to the dead-letter topic past maxDeliveryAttempts); <c>:acknowledge</c> and <c>:modifyAckDeadline</c> (0-600 s;
/// 0 makes it visible at once; an expired or superseded ackId is ignored; a malformed one is INVALID_ARGUMENT); a
/// message whose deadline lapses is delivered again. Errors are Google's JSON (<c>{"error":{code,message,status}}</c>).
/// When <see cref="RequiredToken"/> is set, a call without <c>Authorization: Bearer</c> that token is UNAUTHENTICATED.</para>
/// <para>Not modelled: ordering keys, filters, exactly-once delivery, retention, seek, snapshots, push subscriptions.</para>
/// </summary>
public sealed class FakePubSub : IAsyncDisposable
{
    private const string AckIdPrefix = "fake-ack-";
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Subscription Subscription, Entry Entry)> _ackIds = new(StringComparer.Ordinal);
    private readonly List<(string Path, string? Authorization, JsonObject? Body)> _requests = [];
    private readonly TimeProvider _time;
    private LoopbackServer? _server;
    private long _nextId;

    private FakePubSub(TimeProvider time) => _time = time;

    public static async Task<FakePubSub> StartAsync(TimeProvider? time = null)
    {
        var fake = new FakePubSub(time ?? TimeProvider.System);
        fake._server = await LoopbackServer.StartAsync(app => app.Map("/v1/{**path}", fake.HandleAsync));
        return fake;
    }

    /// <summary>The API's base address, as <c>PUBSUB_EMULATOR_HOST</c> or an endpoint override gives it.</summary>
    public Uri Endpoint => _server!.Address;

    /// <summary>How long a pull with nothing to deliver holds before answering empty (real Pub/Sub holds for a while too).</summary>
    public TimeSpan PullHold { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>When set, every call must carry this bearer token.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Every call so far: its path (with the :verb), Authorization header and JSON body.</summary>
    public IReadOnlyList<(string Path, string? Authorization, JsonObject? Body)> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>Creates a topic through the REST API, as a test's setup would against the emulator.</summary>
    public async Task CreateTopicAsync(string project, string topic)
    {
        using var http = new HttpClient();
        var response = await http.PutAsJsonAsync(new Uri(Endpoint, $"v1/projects/{project}/topics/{topic}"), new { });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Creates a subscription; with <paramref name="deadLetterTopic"/> it has a dead-letter policy (and so sends deliveryAttempt).</summary>
    public async Task CreateSubscriptionAsync(string project, string subscription, string topic, string? deadLetterTopic = null, int maxDeliveryAttempts = 5)
    {
        using var http = new HttpClient();
        var body = new JsonObject { ["topic"] = $"projects/{project}/topics/{topic}", ["ackDeadlineSeconds"] = 10 };
        if (deadLetterTopic is not null)
            body["deadLetterPolicy"] = new JsonObject { ["deadLetterTopic"] = $"projects/{project}/topics/{deadLetterTopic}", ["maxDeliveryAttempts"] = maxDeliveryAttempts };
        var response = await http.PutAsJsonAsync(new Uri(Endpoint, $"v1/projects/{project}/subscriptions/{subscription}"), body);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        JsonObject response;
        var status = 200;
        try
        {
            var path = http.Request.Path.Value!["/v1/".Length..];
            var authorization = http.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null;
            JsonObject? body = null;
            if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
            {
                try { body = await JsonNode.ParseAsync(http.Request.Body) as JsonObject; }
                catch (JsonException ex) { throw new PubSubError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. " + ex.Message); }
            }
            lock (_gate) _requests.Add((path, authorization, (JsonObject?)body?.DeepClone()));
            if (RequiredToken is not null && authorization != "Bearer " + RequiredToken)
                throw new PubSubError(401, "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            body ??= [];

            var segments = path.Split('/').Select(Uri.UnescapeDataString).ToArray();
            if (segments is not ["projects", var project, var kind, var last]) throw NotFound(path);
            var colon = last.LastIndexOf(':');
            var (name, verb) = colon < 0 ? (last, "") : (last[..colon], last[(colon + 1)..]);
            var resource = $"projects/{project}/{kind}/{name}";
            response = (http.Request.Method, kind, verb) switch
            {
                ("PUT", "topics", "") => CreateTopic(resource),
                ("PUT", "subscriptions", "") => CreateSubscription(resource, body),
                ("POST", "topics", "publish") => Publish(resource, body),
                ("POST", "subscriptions", "pull") => await PullAsync(resource, body, http.RequestAborted),
                ("POST", "subscriptions", "acknowledge") => Acknowledge(resource, body),
                ("POST", "subscriptions", "modifyAckDeadline") => ModifyAckDeadline(resource, body),
                _ => throw NotFound(path),
            };
        }
        catch (PubSubError error)
        {
            status = error.Code;
            response = new JsonObject { ["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["status"] = error.Status } };
        }
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=UTF-8";
        await http.Response.WriteAsync(response.ToJsonString());
    }

    private JsonObject CreateTopic(string name)
    {
        lock (_gate)
            if (!_topics.TryAdd(name, new Topic(name))) throw new PubSubError(409, "ALREADY_EXISTS", "Resource already exists in the project (resource=" + Short(name) + ").");
        return new JsonObject { ["name"] = name };
    }

    private JsonObject CreateSubscription(string name, JsonObject body)
    {
        var topicName = body["topic"]?.GetValue<string>() ?? throw Invalid("topic is required");
        var deadline = body["ackDeadlineSeconds"]?.GetValue<int>() ?? 0;
        if (deadline == 0) deadline = 10;
        if (deadline is < 10 or > 600) throw Invalid($"Invalid ack deadline given: {deadline}. The minimum deadline is 10 seconds and the maximum is 600 seconds.");
        var policy = body["deadLetterPolicy"] as JsonObject;
        var deadLetterTopic = policy?["deadLetterTopic"]?.GetValue<string>();
        var maxAttempts = policy?["maxDeliveryAttempts"]?.GetValue<int>() ?? 5;
        if (policy is not null && maxAttempts is < 5 or > 100) throw Invalid("maxDeliveryAttempts must be between 5 and 100");
        lock (_gate)
        {
            if (!_topics.TryGetValue(topicName, out var topic)) throw NotFound(topicName);
            if (deadLetterTopic is not null && !_topics.ContainsKey(deadLetterTopic)) throw NotFound(deadLetterTopic);
            var subscription = new Subscription(name, deadline, deadLetterTopic, maxAttempts);
            if (!_subscriptions.TryAdd(name, subscription)) throw new PubSubError(409, "ALREADY_EXISTS", "Resource already exists in the project (resource=" + Short(name) + ").");
            topic.Subscriptions.Add(subscription);
        }
        return new JsonObject { ["name"] = name, ["topic"] = topicName, ["ackDeadlineSeconds"] = deadline };
    }

    private JsonObject Publish(string topicName, JsonObject body)
    {
        if (body["messages"] is not JsonArray { Count: > 0 } messages) throw Invalid("The value for message_count is too small. You passed 0 in the request, but the minimum value is 1.");
        var parsed = new List<(byte[] Data, Dictionary<string, string> Attributes)>();
        foreach (var node in messages)
        {
            byte[] data;
            try { data = Convert.FromBase64String(node?["data"]?.GetValue<string>() ?? ""); }
            catch (FormatException) { throw Invalid("Invalid value at 'messages[0].data' (TYPE_BYTES), Base64 decoding failed"); }
            var attributes = (node?["attributes"] as JsonObject ?? []).ToDictionary(a => a.Key, a => a.Value!.GetValue<string>(), StringComparer.Ordinal);
            if (data.Length == 0 && attributes.Count == 0)
                throw Invalid("One or more messages in the publish request is empty. Each message must contain either non-empty data, or at least one attribute.");
            foreach (var (key, value) in attributes)
            {
                if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > 256 || key.StartsWith("goog", StringComparison.OrdinalIgnoreCase))
                    throw Invalid($"The attribute key '{key}' is not valid.");
                if (Encoding.UTF8.GetByteCount(value) > 1024) throw Invalid($"The value for attribute '{key}' is too long.");
            }
            parsed.Add((data, attributes));
        }
        var ids = new JsonArray();
        lock (_gate)
        {
            if (!_topics.TryGetValue(topicName, out var topic)) throw NotFound(topicName);
            foreach (var (data, attributes) in parsed)
            {
                var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
                var published = _time.GetUtcNow();
                foreach (var subscription in topic.Subscriptions) subscription.Entries.Add(new Entry(id, data, attributes, published));
                ids.Add(id);
            }
        }
        return new JsonObject { ["messageIds"] = ids };
    }

    private async Task<JsonObject> PullAsync(string name, JsonObject body, CancellationToken aborted)
    {
        var max = body["maxMessages"]?.GetValue<int>() ?? 0;
        if (max <= 0) throw Invalid("maxMessages must be a positive integer.");
        var immediately = body["returnImmediately"]?.GetValue<bool>() ?? false;
        Subscription subscription;
        lock (_gate) subscription = _subscriptions.TryGetValue(name, out var s) ? s : throw NotFound(name);
        var held = Stopwatch.StartNew();
        while (true)
        {
            var delivered = new JsonArray();
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                foreach (var entry in subscription.Entries.Where(e => e.LeasedUntil <= now).ToList())
                {
                    if (delivered.Count == max) break;
                    entry.Attempts++;
                    if (subscription.DeadLetterTopic is { } deadLetterTopic && entry.Attempts > subscription.MaxDeliveryAttempts)
                    {
                        // Pub/Sub's own dead-lettering: forward past maxDeliveryAttempts, as the service does.
                        subscription.Entries.Remove(entry);
                        foreach (var target in _topics[deadLetterTopic].Subscriptions)
                            target.Entries.Add(new Entry(entry.MessageId, entry.Data, entry.Attributes, now));
                        continue;
                    }
                    entry.AckId = AckIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                    entry.LeasedUntil = now.AddSeconds(subscription.AckDeadlineSeconds);
                    _ackIds[entry.AckId] = (subscription, entry);
                    var message = new JsonObject
                    {
                        ["data"] = Convert.ToBase64String(entry.Data),
                        ["messageId"] = entry.MessageId,
                        ["publishTime"] = entry.Published.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                    };
                    if (entry.Attributes.Count > 0)
                        message["attributes"] = new JsonObject([.. entry.Attributes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
                    var received = new JsonObject { ["ackId"] = entry.AckId, ["message"] = message };
                    if (subscription.DeadLetterTopic is not null) received["deliveryAttempt"] = entry.Attempts;
                    delivered.Add(received);
                }
            }
            if (delivered.Count > 0) return new JsonObject { ["receivedMessages"] = delivered };
            if (immediately || held.Elapsed >= PullHold) return [];
            await Task.Delay(20, aborted);
        }
    }

    private JsonObject Acknowledge(string name, JsonObject body)
    {
        lock (_gate)
            foreach (var (subscription, entry) in Leases(name, body))
                subscription.Entries.Remove(entry);
        return [];
    }

    private JsonObject ModifyAckDeadline(string name, JsonObject body)
    {
        var seconds = body["ackDeadlineSeconds"]?.GetValue<int>() ?? 0;
        if (seconds is < 0 or > 600) throw Invalid($"Invalid ack deadline given: {seconds}. The maximum deadline is 600 seconds.");
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var (_, entry) in Leases(name, body)) entry.LeasedUntil = now.AddSeconds(seconds);
        }
        return [];
    }

    /// <summary>The leases the ackIds still name (current and not lapsed); others are ignored, as Pub/Sub ignores them. Under the gate.</summary>
    private List<(Subscription, Entry)> Leases(string name, JsonObject body)
    {
        if (!_subscriptions.TryGetValue(name, out var subscription)) throw NotFound(name);
        if (body["ackIds"] is not JsonArray { Count: > 0 } ackIds) throw Invalid("No ack ids specified.");
        var now = _time.GetUtcNow();
        var leases = new List<(Subscription, Entry)>();
        foreach (var ackId in ackIds.Select(n => n!.GetValue<string>()))
        {
            if (!ackId.StartsWith(AckIdPrefix, StringComparison.Ordinal)) throw Invalid($"You have passed an invalid ack ID to the service (ack_id={ackId}).");
            if (_ackIds.TryGetValue(ackId, out var lease) && lease.Subscription == subscription && lease.Entry.AckId == ackId
                && lease.Entry.LeasedUntil > now && subscription.Entries.Contains(lease.Entry))
                leases.Add(lease);
        }
        return leases;
    }

    private static string Short(string name) => name[(name.LastIndexOf('/') + 1)..];

    private static PubSubError NotFound(string name) => new(404, "NOT_FOUND", $"Resource not found (resource={Short(name)}).");

    private static PubSubError Invalid(string message) => new(400, "INVALID_ARGUMENT", message);

    private sealed class Topic(string name)
    {
        public string Name { get; } = name;
        public List<Subscription> Subscriptions { get; } = [];
    }

    private sealed class Subscription(string name, int ackDeadlineSeconds, string? deadLetterTopic, int maxDeliveryAttempts)
    {
        public string Name { get; } = name;
        public int AckDeadlineSeconds { get; } = ackDeadlineSeconds;
        public string? DeadLetterTopic { get; } = deadLetterTopic;
        public int MaxDeliveryAttempts { get; } = maxDeliveryAttempts;
        public List<Entry> Entries { get; } = [];
    }

    private sealed class Entry(string messageId, byte[] data, Dictionary<string, string> attributes, DateTimeOffset published)
    {
        public string MessageId { get; } = messageId;
        public byte[] Data { get; } = data;
        public Dictionary<string, string> Attributes { get; } = attributes;
        public DateTimeOffset Published { get; } = published;
        public int Attempts { get; set; }
        public DateTimeOffset LeasedUntil { get; set; } = DateTimeOffset.MinValue;
        public string? AckId { get; set; }
    }

    private sealed class PubSubError(int code, string status, string message) : Exception(message)
    {
        public int Code { get; } = code;
        public string Status { get; } = status;
    }
}
