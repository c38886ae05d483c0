using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.SQS;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sky.Queues.Tests.Sqs;

/// <summary>
/// A small fake of Amazon SQS's JSON protocol (AWS JSON 1.0 as AWSSDK.SQS 4 speaks it: <c>POST /</c>,
/// <c>X-Amz-Target: AmazonSQS.Op</c>, <c>application/x-amz-json-1.0</c>), on a Kestrel loopback port.
/// <para>What it does as SQS does: CreateQueue (VisibilityTimeout and ReceiveMessageWaitTimeSeconds attributes),
/// GetQueueUrl, SendMessage, ReceiveMessage, DeleteMessage, ChangeMessageVisibility; a SigV4 Authorization header is
/// required (not verified); MD5OfMessageBody / MD5OfBody and MD5OfMessageAttributes computed as SQS does (the SDK
/// checks them); a message is hidden for the visibility timeout (the request's, else the queue's) and comes back with
/// ApproximateReceiveCount one higher; a new receipt handle per receive, and a delete with an older one succeeds
/// without deleting; ChangeMessageVisibility on a message not in flight fails with MessageNotInflight; long polling
/// (WaitTimeSeconds 0-20) answers as soon as a message is visible; MaxNumberOfMessages 1-10; the system attributes
/// ApproximateReceiveCount, SentTimestamp, ApproximateFirstReceiveTimestamp and SenderId, and message attributes,
/// are returned only when asked for (All, a name, or a prefix.*); message attributes are checked as SQS checks them
/// (at most 10, name rules, non-empty String values, String/Number/Binary types); bodies must be non-empty text of
/// the characters SQS allows and, with attributes, under 256 KiB. Errors carry <c>__type</c> and <c>x-amzn-query-error</c>.</para>
/// <para>Not modelled: FIFO queues, DelaySeconds, batches, queue attributes beyond the two above, redrive policies.</para>
/// </summary>
public sealed class FakeSqs : IAsyncDisposable
{
    public const string AccountId = "000000000000";
    private const int MaxMessageBytes = 262_144;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, FakeQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredMessage> _receipts = new(StringComparer.Ordinal);
    private readonly List<(string Operation, JsonObject Request)> _requests = [];
    private readonly TimeProvider _time;
    private LoopbackServer? _server;
    private long _sequence;

    private FakeSqs(TimeProvider time) => _time = time;

    public static async Task<FakeSqs> StartAsync(TimeProvider? time = null)
    {
        var fake = new FakeSqs(time ?? TimeProvider.System);
        fake._server = await LoopbackServer.StartAsync(app => app.MapPost("/", fake.HandleAsync));
        return fake;
    }

    public Uri ServiceUrl => _server!.Address;

    /// <summary>An SDK client pointed at the fake, as a test of the real SDK against it.</summary>
    public AmazonSQSClient CreateClient() => new(new BasicAWSCredentials("AKIDFAKE", "fake-secret"), new AmazonSQSConfig
    {
        ServiceURL = ServiceUrl.ToString(),
        AuthenticationRegion = "us-east-1",
        MaxErrorRetry = 0,
    });

    public string QueueUrl(string name) => $"{ServiceUrl}{AccountId}/{name}";

    /// <summary>Every request so far: its operation and JSON body.</summary>
    public IReadOnlyList<(string Operation, JsonObject Request)> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>The messages a queue holds (not deleted), as stored.</summary>
    public IReadOnlyList<StoredMessage> Stored(string queue)
    {
        lock (_gate) return _queues.TryGetValue(queue, out var q) ? [.. q.Messages] : [];
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        JsonObject response;
        try
        {
            if (!http.Request.Headers.Authorization.ToString().StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal))
                throw new SqsError("com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken", "Request is missing Authentication Token");
            if (http.Request.ContentType?.StartsWith("application/x-amz-json-1.0", StringComparison.Ordinal) != true)
                throw new SqsError("com.amazon.coral.service#SerializationException", "InvalidParameterValue", $"unexpected content type {http.Request.ContentType}");
            var target = http.Request.Headers["X-Amz-Target"].ToString();
            if (!target.StartsWith("AmazonSQS.", StringComparison.Ordinal))
                throw new SqsError("com.amazon.coral.service#UnknownOperationException", "InvalidAction", $"unknown target '{target}'");
            JsonObject request;
            try { request = await JsonNode.ParseAsync(http.Request.Body) as JsonObject ?? []; }
            catch (JsonException ex) { throw new SqsError("com.amazon.coral.service#SerializationException", "InvalidParameterValue", ex.Message); }
            var operation = target["AmazonSQS.".Length..];
            lock (_gate) _requests.Add((operation, (JsonObject)request.DeepClone()));
            response = operation switch
            {
                "CreateQueue" => CreateQueue(request),
                "GetQueueUrl" => GetQueueUrl(request),
                "SendMessage" => SendMessage(request),
                "ReceiveMessage" => await ReceiveMessageAsync(request, http.RequestAborted),
                "DeleteMessage" => DeleteMessage(request),
                "ChangeMessageVisibility" => ChangeMessageVisibility(request),
                _ => throw new SqsError("com.amazon.coral.service#UnknownOperationException", "InvalidAction", $"the fake does not implement {operation}"),
            };
        }
        catch (SqsError error)
        {
            http.Response.StatusCode = 400;
            http.Response.Headers["x-amzn-query-error"] = error.QueryCode + ";Sender";
            response = new JsonObject { ["__type"] = error.Type, ["message"] = error.Message };
        }
        http.Response.ContentType = "application/x-amz-json-1.0";
        http.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await http.Response.WriteAsync(response.ToJsonString());
    }

    private JsonObject CreateQueue(JsonObject request)
    {
        var name = Required(request, "QueueName");
        if (name.Length > 80 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw Invalid($"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
        var attributes = request["Attributes"] as JsonObject;
        lock (_gate)
        {
            if (!_queues.ContainsKey(name))
                _queues[name] = new FakeQueue(name)
                {
                    VisibilityTimeout = Seconds(attributes?["VisibilityTimeout"]?.GetValue<string>(), "VisibilityTimeout", 30, 43_200),
                    ReceiveWait = Seconds(attributes?["ReceiveMessageWaitTimeSeconds"]?.GetValue<string>(), "ReceiveMessageWaitTimeSeconds", 0, 20),
                };
        }
        return new JsonObject { ["QueueUrl"] = QueueUrl(name) };
    }

    private JsonObject GetQueueUrl(JsonObject request)
    {
        var name = Required(request, "QueueName");
        lock (_gate)
            if (!_queues.ContainsKey(name)) throw NoQueue();
        return new JsonObject { ["QueueUrl"] = QueueUrl(name) };
    }

    private JsonObject SendMessage(JsonObject request)
    {
        var queue = Find(request);
        var body = request["MessageBody"]?.GetValue<string>();
        if (string.IsNullOrEmpty(body))
            throw new SqsError("com.amazonaws.sqs#MissingParameter", "MissingParameter", "The request must contain the parameter MessageBody.");
        if (!IsSqsText(body))
            throw new SqsError("com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", "Invalid characters found.");
        if (request["DelaySeconds"] is { } delay && delay.GetValue<int>() != 0)
            throw new SqsError("com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "the fake does not delay messages");
        var attributes = ParseAttributes(request["MessageAttributes"] as JsonObject);
        var size = Encoding.UTF8.GetByteCount(body) + attributes.Sum(a =>
            Encoding.UTF8.GetByteCount(a.Key) + Encoding.UTF8.GetByteCount(a.Value.DataType) + (a.Value.BinaryValue?.Length ?? Encoding.UTF8.GetByteCount(a.Value.StringValue!)));
        if (size > MaxMessageBytes) throw Invalid($"One or more parameters are invalid. Reason: Message must be shorter than {MaxMessageBytes} bytes.");
        var message = new StoredMessage(Guid.NewGuid().ToString(), queue.Name, body, attributes, _time.GetUtcNow())
        {
            Sequence = Interlocked.Increment(ref _sequence),
            InvisibleUntil = DateTimeOffset.MinValue,
        };
        lock (_gate) queue.Messages.Add(message);
        var response = new JsonObject { ["MessageId"] = message.Id, ["MD5OfMessageBody"] = Md5OfBody(body) };
        if (attributes.Count > 0) response["MD5OfMessageAttributes"] = Md5OfAttributes(attributes);
        return response;
    }

    private async Task<JsonObject> ReceiveMessageAsync(JsonObject request, CancellationToken aborted)
    {
        var queue = Find(request);
        var max = Number(request, "MaxNumberOfMessages", 1, 1, 10);
        var wait = Number(request, "WaitTimeSeconds", queue.ReceiveWait, 0, 20);
        var hide = Number(request, "VisibilityTimeout", queue.VisibilityTimeout, 0, 43_200);
        var systemNames = Names(request["MessageSystemAttributeNames"]).Concat(Names(request["AttributeNames"])).ToHashSet(StringComparer.Ordinal);
        var attributeNames = Names(request["MessageAttributeNames"]).ToList();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            List<(StoredMessage Message, string Receipt)> taken;
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                taken = [.. queue.Messages.Where(m => m.InvisibleUntil <= now).OrderBy(m => m.Sequence).Take(max)
                    .Select(m => (m, Deliver(m, now, hide)))];
            }
            if (taken.Count > 0 || waited.Elapsed >= TimeSpan.FromSeconds(wait))
                return new JsonObject { ["Messages"] = new JsonArray([.. taken.Select(t => (JsonNode)ToJson(t.Message, t.Receipt, systemNames, attributeNames))]) };
            await Task.Delay(20, aborted);
        }
    }

    /// <summary>One delivery: the count goes up, the message hides, and it gets a new receipt handle. Under the gate.</summary>
    private string Deliver(StoredMessage message, DateTimeOffset now, int hideSeconds)
    {
        message.ReceiveCount++;
        message.FirstReceivedAt ??= now;
        message.InvisibleUntil = now.AddSeconds(hideSeconds);
        message.Receipt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        _receipts[message.Receipt] = message;
        return message.Receipt;
    }

    private JsonObject DeleteMessage(JsonObject request)
    {
        var queue = Find(request);
        var receipt = Required(request, "ReceiptHandle");
        lock (_gate)
        {
            var message = Receipt(queue, receipt);
            if (message.Receipt == receipt) queue.Messages.Remove(message); // an older handle: succeeds, deletes nothing
        }
        return [];
    }

    private JsonObject ChangeMessageVisibility(JsonObject request)
    {
        var queue = Find(request);
        var receipt = Required(request, "ReceiptHandle");
        var hide = Number(request, "VisibilityTimeout", -1, 0, 43_200);
        if (hide < 0) throw new SqsError("com.amazonaws.sqs#MissingParameter", "MissingParameter", "The request must contain the parameter VisibilityTimeout.");
        lock (_gate)
        {
            var message = Receipt(queue, receipt);
            var now = _time.GetUtcNow();
            if (message.Receipt != receipt || message.InvisibleUntil <= now || !queue.Messages.Contains(message))
                throw new SqsError("com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight",
                    "Message does not exist or is not available for visibility timeout change.");
            message.InvisibleUntil = now.AddSeconds(hide);
        }
        return [];
    }

    private StoredMessage Receipt(FakeQueue queue, string receipt) =>
        _receipts.TryGetValue(receipt, out var message) && message.Queue == queue.Name
            ? message
            : throw new SqsError("com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
                $"The input receipt handle \"{receipt}\" is not a valid receipt handle.");

    private JsonObject ToJson(StoredMessage message, string receipt, HashSet<string> systemNames, List<string> attributeNames)
    {
        var json = new JsonObject
        {
            ["MessageId"] = message.Id,
            ["ReceiptHandle"] = receipt,
            ["MD5OfBody"] = Md5OfBody(message.Body),
            ["Body"] = message.Body,
        };
        var system = new Dictionary<string, string>
        {
            ["ApproximateReceiveCount"] = message.ReceiveCount.ToString(CultureInfo.InvariantCulture),
            ["SentTimestamp"] = message.SentAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["ApproximateFirstReceiveTimestamp"] = message.FirstReceivedAt!.Value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["SenderId"] = "AIDAFAKE",
        };
        var chosen = system.Where(s => systemNames.Contains("All") || systemNames.Contains(s.Key)).ToList();
        if (chosen.Count > 0) json["Attributes"] = new JsonObject([.. chosen.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]);
        var attributes = message.Attributes.Where(a => attributeNames.Any(n => Matches(n, a.Key))).ToDictionary();
        if (attributes.Count > 0)
        {
            json["MessageAttributes"] = new JsonObject([.. attributes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)ToJson(a.Value)))]);
            json["MD5OfMessageAttributes"] = Md5OfAttributes(attributes);
        }
        return json;
    }

    private static JsonObject ToJson(Attribute value)
    {
        var json = new JsonObject { ["DataType"] = value.DataType };
        if (value.BinaryValue is { } binary) json["BinaryValue"] = Convert.ToBase64String(binary);
        else json["StringValue"] = value.StringValue;
        return json;
    }

    private static bool Matches(string requested, string name) =>
        requested is "All" or ".*" || requested == name
        || requested.EndsWith(".*", StringComparison.Ordinal) && name.StartsWith(requested[..^1], StringComparison.Ordinal);

    private static Dictionary<string, Attribute> ParseAttributes(JsonObject? json)
    {
        var attributes = new Dictionary<string, Attribute>(StringComparer.Ordinal);
        if (json is null) return attributes;
        if (json.Count > 10) throw Invalid($"Number of message attributes [{json.Count}] exceeds the allowed maximum [10].");
        foreach (var (name, node) in json)
        {
            if (!IsAttributeName(name))
                throw new SqsError("com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName", $"Message (user) attribute name '{name}' is invalid.");
            var dataType = node?["DataType"]?.GetValue<string>() ?? throw Invalid($"The message attribute '{name}' must contain a non-empty attribute type.");
            var kind = dataType.Split('.')[0];
            if (node["StringListValues"] is not null || node["BinaryListValues"] is not null)
                throw new SqsError("com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "List values are not supported");
            switch (kind)
            {
                case "String" or "Number":
                    var text = node["StringValue"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(text))
                        throw Invalid($"Message (user) attribute '{name}' must contain a non-empty message attribute value for message attribute type '{kind}'.");
                    if (!IsSqsText(text)) throw new SqsError("com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", $"Invalid characters in attribute '{name}'.");
                    attributes[name] = new Attribute(dataType, text, null);
                    break;
                case "Binary":
                    var binary = node["BinaryValue"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(binary))
                        throw Invalid($"Message (user) attribute '{name}' must contain a non-empty message attribute value for message attribute type 'Binary'.");
                    attributes[name] = new Attribute(dataType, null, Convert.FromBase64String(binary));
                    break;
                default:
                    throw Invalid($"The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.");
            }
        }
        return attributes;
    }

    private static bool IsAttributeName(string name) =>
        name.Length is > 0 and <= 256 && name[0] != '.' && name[^1] != '.' && !name.Contains("..", StringComparison.Ordinal)
        && !name.StartsWith("aws.", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("amazon.", StringComparison.OrdinalIgnoreCase)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static bool IsSqsText(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            var c = rune.Value;
            if (!(c is 0x9 or 0xA or 0xD or >= 0x20 and <= 0xD7FF or >= 0xE000 and <= 0xFFFD or >= 0x10000)) return false;
        }
        return !text.Any(char.IsSurrogate) || Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)) == text;
    }

    /// <summary>MD5 of the body's UTF-8 bytes, as lowercase hex.</summary>
    public static string Md5OfBody(string body) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));

    /// <summary>
    /// SQS's MD5 of message attributes: for each attribute in name order, the name, the data type and the value, each
    /// as a 4-byte big-endian length and its bytes, with a transport byte (1 string, 2 binary) before the value.
    /// </summary>
    public static string Md5OfAttributes(IReadOnlyDictionary<string, Attribute> attributes)
    {
        using var buffer = new MemoryStream();
        foreach (var (name, value) in attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            Write(buffer, Encoding.UTF8.GetBytes(name));
            Write(buffer, Encoding.UTF8.GetBytes(value.DataType));
            if (value.BinaryValue is { } binary)
            {
                buffer.WriteByte(2);
                Write(buffer, binary);
            }
            else
            {
                buffer.WriteByte(1);
                Write(buffer, Encoding.UTF8.GetBytes(value.StringValue!));
            }
        }
        return Convert.ToHexStringLower(MD5.HashData(buffer.ToArray()));

        static void Write(Stream stream, byte[] bytes)
        {
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }
    }

    private FakeQueue Find(JsonObject request)
    {
        var url = Required(request, "QueueUrl");
        var name = url.TrimEnd('/')[(url.TrimEnd('/').LastIndexOf('/') + 1)..];
        lock (_gate) return _queues.TryGetValue(name, out var queue) ? queue : throw NoQueue();
    }

    private static string Required(JsonObject request, string name) =>
        request[name]?.GetValue<string>() is { Length: > 0 } value
            ? value
            : throw new SqsError("com.amazonaws.sqs#MissingParameter", "MissingParameter", $"The request must contain the parameter {name}.");

    private static int Number(JsonObject request, string name, int fallback, int min, int max)
    {
        if (request[name] is not { } node) return fallback;
        var value = node.GetValue<int>();
        return value >= min && value <= max
            ? value
            : throw Invalid($"Value {value} for parameter {name} is invalid. Reason: Must be between {min} and {max}, if provided.");
    }

    private static int Seconds(string? text, string name, int fallback, int max) =>
        text is null ? fallback
        : int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= 0 && value <= max ? value
        : throw new SqsError("com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue", $"Invalid value for the parameter {name}.");

    private static IEnumerable<string> Names(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => n!.GetValue<string>()) : [];

    private static SqsError Invalid(string message) => new("com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue", message);

    private static SqsError NoQueue() =>
        new("com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");

    public sealed record Attribute(string DataType, string? StringValue, byte[]? BinaryValue);

    private sealed class FakeQueue(string name)
    {
        public string Name { get; } = name;
        public int VisibilityTimeout { get; init; } = 30;
        public int ReceiveWait { get; init; }
        public List<StoredMessage> Messages { get; } = [];
    }

    /// <summary>A message as the fake stores it (the raw SQS body and attributes).</summary>
    public sealed class StoredMessage(string id, string queue, string body, IReadOnlyDictionary<string, Attribute> attributes, DateTimeOffset sentAt)
    {
        public string Id { get; } = id;
        public string Queue { get; } = queue;
        public string Body { get; } = body;
        public IReadOnlyDictionary<string, Attribute> Attributes { get; } = attributes;
        public DateTimeOffset SentAt { get; } = sentAt;
        public long Sequence { get; init; }
        public int ReceiveCount { get; set; }
        public DateTimeOffset? FirstReceivedAt { get; set; }
        public DateTimeOffset InvisibleUntil { get; set; }
        public string? Receipt { get; set; }
    }

    private sealed class SqsError(string type, string queryCode, string message) : Exception(message)
    {
        public string Type { get; } = type;
        public string QueryCode { get; } = queryCode;
    }
}
