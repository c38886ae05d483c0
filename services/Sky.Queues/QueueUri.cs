using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.SQS;
using Azure.Core;
using Azure.Messaging.ServiceBus;
using Sky.Queues.PubSub;
using Sky.Queues.Redis;
using Sky.Queues.ServiceBus;
using Sky.Queues.Sqs;

namespace Sky.Queues;

/// <summary>What a queue URI must not carry: secrets, and clients the caller wants shared.</summary>
public sealed record QueueConnections
{
    /// <summary>The environment variable read for a Service Bus connection string when none is given here.</summary>
    public const string ServiceBusConnectionVariable = "SKY_SERVICEBUS_CONNECTION_STRING";

    /// <summary>The Pub/Sub emulator's <c>host:port</c>, read as Google's client libraries read it.</summary>
    public const string PubSubEmulatorVariable = "PUBSUB_EMULATOR_HOST";

    /// <summary>Service Bus connection string (<c>Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=..;SharedAccessKey=..</c>).</summary>
    public string? ServiceBusConnectionString { get; init; }

    /// <summary>An Entra ID credential for Service Bus, used when there is no connection string.</summary>
    public TokenCredential? ServiceBusCredential { get; init; }

    /// <summary>AWS credentials; null uses the SDK's default chain (environment, profile, instance role).</summary>
    public AWSCredentials? AwsCredentials { get; init; }

    /// <summary>Gives the bearer token for each Pub/Sub call; null sends none (the emulator needs none).</summary>
    public Func<CancellationToken, ValueTask<string?>>? PubSubAccessToken { get; init; }

    /// <summary>The HttpClient Pub/Sub calls go through; null gives each queue its own.</summary>
    public HttpClient? PubSubHttp { get; init; }

    /// <summary>Where environment variables are read from (replaceable in tests).</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>
/// Opens a queue adapter from a URI, so configuration can name a queue. Secrets never go in the URI.
/// <list type="bullet">
/// <item><c>sqs://QUEUE?region=eu-west-1&amp;endpoint=http://host:port&amp;dlq=QUEUE</c>: Amazon SQS; dlq defaults to
/// <c>QUEUE-dlq</c>; endpoint overrides the service URL (the region then only signs requests, us-east-1 when absent).</item>
/// <item><c>servicebus://NAMESPACE/QUEUE</c> or <c>servicebus://NAMESPACE/TOPIC/SUBSCRIPTION</c>, <c>?dlq=QUEUE</c>:
/// Azure Service Bus; NAMESPACE is the namespace's name or host name; the connection string comes from
/// <see cref="QueueConnections.ServiceBusConnectionString"/> or <c>SKY_SERVICEBUS_CONNECTION_STRING</c> and must be for
/// that namespace. Without dlq, dead letters go to the entity's own dead-letter sub-queue.</item>
/// <item><c>pubsub://PROJECT/TOPIC/SUBSCRIPTION?endpoint=http://host:port&amp;dlq=TOPIC</c>: Google Cloud Pub/Sub;
/// dlq defaults to <c>TOPIC-dlq</c>; the endpoint defaults to <c>PUBSUB_EMULATOR_HOST</c> when set, else Google's.</item>
/// <item><c>redis://[:password@]host:port[/db]?stream=NAME&amp;group=NAME[&amp;consumer=NAME][&amp;maxlen=N]</c>: Redis Streams on a connection of its own.</item>
/// </list>
/// A malformed URI throws <see cref="ArgumentException"/> whose message starts with the part that is wrong.
/// </summary>
public static partial class QueueUri
{
    public static async Task<IMessageQueue> OpenAsync(string uri, QueueOptions? options = null, QueueConnections? connections = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        connections ??= new QueueConnections();
        var parsed = Parse(uri);
        return parsed.Scheme switch
        {
            "sqs" => OpenSqs(parsed, options, connections),
            "servicebus" => OpenServiceBus(parsed, options, connections),
            "pubsub" => OpenPubSub(parsed, options, connections),
            "redis" => await OpenRedisAsync(parsed, options),
            _ => throw Bad(uri, "scheme", $"'{parsed.Scheme}' is not a queue scheme: use sqs, servicebus, pubsub or redis"),
        };
    }

    private static SqsQueue OpenSqs(ParsedUri uri, QueueOptions? options, QueueConnections connections)
    {
        uri.OnlyParameters("region", "endpoint", "dlq");
        var name = CheckSqsName(uri, "queue name", uri.Authority);
        if (uri.Segments.Length > 0) throw Bad(uri.Text, "path", "sqs://QUEUE takes no path");
        var deadLetter = CheckSqsName(uri, "dlq", uri.Query.GetValueOrDefault("dlq") ?? name + "-dlq");
        var region = uri.Query.GetValueOrDefault("region");
        if (region is not null && !AwsRegion().IsMatch(region)) throw Bad(uri.Text, "region", $"'{region}' is not an AWS region name (e.g. eu-west-1)");
        var endpoint = uri.Query.TryGetValue("endpoint", out var e) ? CheckEndpoint(uri, e) : null;

        var config = new AmazonSQSConfig();
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else if (region is not null) config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        var client = connections.AwsCredentials is { } credentials ? new AmazonSQSClient(credentials, config) : new AmazonSQSClient(config);

        var address = $"sqs://{name}?" + Query(("region", region), ("endpoint", endpoint?.ToString()), ("dlq", deadLetter));
        return new SqsQueue(client, new SqsQueueOptions { Queue = name, DeadLetterQueue = deadLetter, Address = address, DisposeClient = true }, options);
    }

    private static ServiceBusQueue OpenServiceBus(ParsedUri uri, QueueOptions? options, QueueConnections connections)
    {
        uri.OnlyParameters("dlq");
        var ns = uri.Authority;
        var isHost = ns.Contains('.', StringComparison.Ordinal) || ns == "localhost";
        if (isHost ? Uri.CheckHostName(ns) != UriHostNameType.Dns : !ServiceBusNamespace().IsMatch(ns))
            throw Bad(uri.Text, "namespace", $"'{ns}' is neither a namespace name (6-50 letters, digits and hyphens) nor a host name");
        var (entity, subscription) = uri.Segments switch
        {
            [var queue] => (queue, (string?)null),
            [var topic, var sub] => (topic, sub),
            [] => throw Bad(uri.Text, "queue", "missing: servicebus://NAMESPACE/QUEUE or servicebus://NAMESPACE/TOPIC/SUBSCRIPTION"),
            _ => throw Bad(uri.Text, "path", "too many segments: servicebus://NAMESPACE/QUEUE or servicebus://NAMESPACE/TOPIC/SUBSCRIPTION"),
        };
        CheckEntity(uri, subscription is null ? "queue" : "topic", entity);
        if (subscription is not null) CheckEntity(uri, "subscription", subscription);
        var deadLetter = uri.Query.GetValueOrDefault("dlq");
        if (deadLetter is not null) CheckEntity(uri, "dlq", deadLetter);

        ServiceBusClient client;
        var connectionString = connections.ServiceBusConnectionString ?? connections.Environment(QueueConnections.ServiceBusConnectionVariable);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var host = ConnectionStringHost(connectionString);
            if (!host.Equals(ns, StringComparison.OrdinalIgnoreCase) && !host.StartsWith(ns + ".", StringComparison.OrdinalIgnoreCase))
                throw Bad(uri.Text, "namespace", $"'{ns}' is not the namespace of the connection string, which is for '{host}'");
            client = new ServiceBusClient(connectionString);
        }
        else if (connections.ServiceBusCredential is { } credential)
            client = new ServiceBusClient(isHost ? ns : ns + ".servicebus.windows.net", credential);
        else
            throw new InvalidOperationException(
                $"{uri.Text}: no Service Bus credentials: set {QueueConnections.ServiceBusConnectionVariable} or pass a connection string or credential in QueueConnections");

        var address = $"servicebus://{ns}/{entity}" + (subscription is null ? "" : "/" + subscription)
                      + (deadLetter is null ? "" : "?" + Query(("dlq", deadLetter)));
        return new ServiceBusQueue(client, new ServiceBusQueueOptions
        {
            Entity = entity,
            Subscription = subscription,
            DeadLetterQueue = deadLetter,
            Address = address,
            DisposeClient = true,
        }, options);
    }

    private static PubSubQueue OpenPubSub(ParsedUri uri, QueueOptions? options, QueueConnections connections)
    {
        uri.OnlyParameters("endpoint", "dlq");
        var project = uri.Authority;
        if (project.Length > 100 || !GcpProject().IsMatch(project))
            throw Bad(uri.Text, "project", $"'{project}' is not a project id (lowercase letters, digits and hyphens, starting with a letter)");
        if (uri.Segments is not [var topic, var subscription])
            throw Bad(uri.Text, uri.Segments.Length < 2 ? "subscription" : "path", "pubsub://PROJECT/TOPIC/SUBSCRIPTION names one topic and one subscription");
        CheckPubSubName(uri, "topic", topic);
        CheckPubSubName(uri, "subscription", subscription);
        var deadLetter = CheckPubSubName(uri, "dlq", uri.Query.GetValueOrDefault("dlq") ?? topic + "-dlq");
        var endpoint = uri.Query.TryGetValue("endpoint", out var e) ? CheckEndpoint(uri, e) : null;
        var emulator = connections.Environment(QueueConnections.PubSubEmulatorVariable);
        if (endpoint is null && !string.IsNullOrWhiteSpace(emulator))
        {
            endpoint = Uri.TryCreate("http://" + emulator.Trim(), UriKind.Absolute, out var parsed) && parsed.AbsolutePath == "/"
                ? parsed
                : throw new ArgumentException($"{QueueConnections.PubSubEmulatorVariable}='{emulator}' is not host:port");
        }

        var address = $"pubsub://{project}/{topic}/{subscription}?"
                      + Query(("endpoint", uri.Query.GetValueOrDefault("endpoint")), ("dlq", deadLetter));
        return new PubSubQueue(connections.PubSubHttp ?? new HttpClient(), new PubSubQueueOptions
        {
            Project = project,
            Topic = topic,
            Subscription = subscription,
            DeadLetterTopic = deadLetter,
            Endpoint = endpoint ?? PubSubQueueOptions.GoogleEndpoint,
            AccessToken = connections.PubSubAccessToken,
            Address = address,
            DisposeClient = connections.PubSubHttp is null,
        }, options);
    }

    /// <summary>The Redis Streams adapter reads its own URI (password in the user part, database, stream, group, consumer).</summary>
    private static async Task<IMessageQueue> OpenRedisAsync(ParsedUri uri, QueueOptions? options)
    {
        uri.OnlyParameters("stream", "group", "consumer", "maxlen");
        if (uri.Authority.Length == 0) throw Bad(uri.Text, "host", "missing");
        if (uri.Segments.Length > 1) throw Bad(uri.Text, "path", "redis://HOST:PORT takes at most a database number");
        var stream = uri.Query.GetValueOrDefault("stream") ?? throw Bad(uri.Text, "stream", "missing: name the stream with ?stream=NAME");
        var group = uri.Query.GetValueOrDefault("group") ?? throw Bad(uri.Text, "group", "missing: name the consumer group with ?group=NAME");
        var consumer = uri.Query.GetValueOrDefault("consumer") ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var settings = new RedisStreamOptions { Queue = options ?? new QueueOptions() };
        if (uri.Query.TryGetValue("maxlen", out var maxlen))
            settings = settings with { MaxLength = long.TryParse(maxlen, out var n) && n > 0 ? n : throw Bad(uri.Text, "maxlen", $"'{maxlen}' is not a positive number") };
        string configuration;
        try
        {
            configuration = RedisUri.ToConfiguration(new Uri($"redis://{uri.Authority}/{uri.Segments.FirstOrDefault()}"));
        }
        catch (Exception e) when (e is FormatException or UriFormatException)
        {
            throw Bad(uri.Text, "host or database", e.Message);
        }
        return await RedisStreamQueue.ConnectAsync(configuration, stream, group, consumer, settings);
    }

    /// <summary>A URI split by hand: System.Uri lowercases the host, and queue names are case-sensitive.</summary>
    private sealed record ParsedUri(string Text, string Scheme, string Authority, string[] Segments, Dictionary<string, string> Query)
    {
        public void OnlyParameters(params string[] known)
        {
            foreach (var name in Query.Keys)
                if (!known.Contains(name))
                    throw Bad(Text, $"query parameter '{name}'", $"not known for {Scheme}:// (known: {string.Join(", ", known)})");
        }
    }

    private static ParsedUri Parse(string uri)
    {
        var schemeEnd = uri.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 1) throw Bad(uri, "scheme", "missing: a queue URI looks like sqs://QUEUE, servicebus://NAMESPACE/QUEUE, pubsub://PROJECT/TOPIC/SUBSCRIPTION or redis://HOST:PORT/DB?stream=..&group=..");
        var scheme = uri[..schemeEnd].ToLowerInvariant();
        var rest = uri[(schemeEnd + 3)..];
        if (rest.Contains('#', StringComparison.Ordinal)) throw Bad(uri, "fragment", "a queue URI has no #fragment");
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? rest : rest[..queryStart];
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var authority = Uri.UnescapeDataString(slash < 0 ? path : path[..slash]);
        // Redis URIs carry their password as --store does (redis://:password@host:port); the clouds' never do.
        if (scheme != "redis" && authority.Contains('@', StringComparison.Ordinal))
            throw Bad(uri, "userinfo", "credentials do not belong in a queue URI: pass them in QueueConnections or the environment");
        if (authority.Length == 0) throw Bad(uri, scheme switch { "sqs" => "queue name", "servicebus" => "namespace", "pubsub" => "project", _ => "host" }, "missing");
        var segments = slash < 0 ? [] : path[(slash + 1)..].TrimEnd('/').Split('/');
        if (segments is [""]) segments = [];
        if (segments.Any(s => s.Length == 0)) throw Bad(uri, "path", "has an empty segment");
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (queryStart >= 0)
            foreach (var pair in rest[(queryStart + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
                if (key.Length == 0) throw Bad(uri, "query", $"'{pair}' has no parameter name");
                if (value.Length == 0) throw Bad(uri, $"query parameter '{key}'", "has no value");
                if (!query.TryAdd(key, value)) throw Bad(uri, $"query parameter '{key}'", "is given twice");
            }
        return new ParsedUri(uri, scheme, authority, [.. segments.Select(Uri.UnescapeDataString)], query);
    }

    private static string CheckSqsName(ParsedUri uri, string part, string name)
    {
        if (name.EndsWith(".fifo", StringComparison.Ordinal))
            throw Bad(uri.Text, part, $"'{name}' is a FIFO queue, which this adapter does not support (every send needs a message group)");
        if (!SqsName().IsMatch(name)) throw Bad(uri.Text, part, $"'{name}' is not an SQS queue name (1-80 letters, digits, '-' and '_')");
        return name;
    }

    private static void CheckEntity(ParsedUri uri, string part, string name)
    {
        if (!ServiceBusEntity().IsMatch(name)) throw Bad(uri.Text, part, $"'{name}' is not a Service Bus entity name (letters, digits, '.', '-', '_', up to 260)");
    }

    private static string CheckPubSubName(ParsedUri uri, string part, string name)
    {
        if (!PubSubName().IsMatch(name) || name.StartsWith("goog", StringComparison.OrdinalIgnoreCase))
            throw Bad(uri.Text, part, $"'{name}' is not a Pub/Sub {(part == "subscription" ? "subscription" : "topic")} id (3-255 letters, digits and -_.~+%, starting with a letter, not with goog)");
        return name;
    }

    private static Uri CheckEndpoint(ParsedUri uri, string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
            ? parsed
            : throw Bad(uri.Text, "endpoint", $"'{endpoint}' is not an http:// or https:// URL");

    /// <summary>The host of a Service Bus connection string's <c>Endpoint=sb://HOST/</c>.</summary>
    private static string ConnectionStringHost(string connectionString)
    {
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals("Endpoint", StringComparison.OrdinalIgnoreCase)
                && Uri.TryCreate(part[(eq + 1)..].Trim(), UriKind.Absolute, out var endpoint))
                return endpoint.Host;
        }
        throw new ArgumentException("the Service Bus connection string has no Endpoint=sb://NAMESPACE.servicebus.windows.net/");
    }

    private static string Query(params (string Name, string? Value)[] parameters) =>
        string.Join('&', parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));

    private static ArgumentException Bad(string uri, string part, string problem) => new($"{part}: {problem} (in '{uri}')", "uri");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,80}$")]
    private static partial Regex SqsName();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")]
    private static partial Regex AwsRegion();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$")]
    private static partial Regex ServiceBusNamespace();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$")]
    private static partial Regex ServiceBusEntity();

    [GeneratedRegex("^([a-z0-9.-]+:)?[a-z][a-z0-9-]*[a-z0-9]$")]
    private static partial Regex GcpProject();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")]
    private static partial Regex PubSubName();
}
