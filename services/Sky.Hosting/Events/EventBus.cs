using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Sky.Hosting.Events;

/// <summary>Pub/sub topics, one per domain; events of a domain share its topic and differ by type.</summary>
public static class Topics
{
    public const string Naming = "naming";
    public const string Directory = "directory";
    public const string Placement = "placement";
    public const string Transfer = "transfer";
    public const string Accounting = "accounting";
    public const string Billing = "billing";
    public const string Peering = "peering";

    public static IReadOnlyList<string> All { get; } = [Naming, Directory, Placement, Transfer, Accounting, Billing, Peering];

    /// <summary>
    /// The topics a service consumes (its subscriptions, whatever the transport): placement and transfer follow the
    /// directory's offers and grids and the peering agreements; accounting rates the usage placement and transfer report.
    /// Publishing needs no declaration: a service publishes to its own domain's topic (accounting also to billing and peering).
    /// </summary>
    public static IReadOnlyList<string> ConsumedBy(Options.MeshService service) => service.Kind switch
    {
        Sky.Mesh.V1.ServiceKind.Placement => [Directory, Peering],
        Sky.Mesh.V1.ServiceKind.Transfer => [Directory, Peering],
        // Accounting reads its own billing topic too, to deliver it to tenants' queues (BillingQueueDelivery).
        Sky.Mesh.V1.ServiceKind.Accounting => [Placement, Transfer, Billing],
        _ => [],
    };
}

/// <summary>Names the Dapr deployment shares with the code: components in dapr/, annotations in deploy/.</summary>
public static class DaprNames
{
    /// <summary>The pub/sub component (pubsub.redis, pubsub.aws.snssqs, pubsub.azure.servicebus.topics or pubsub.gcp.pubsub).</summary>
    public const string PubSub = "sky-pubsub";
    /// <summary>The state store component (state.redis).</summary>
    public const string StateStore = "sky-state";
    /// <summary>The Dapr Configuration resource every sidecar uses.</summary>
    public const string Configuration = "sky-config";
    /// <summary>The resiliency policy.</summary>
    public const string Resiliency = "sky-resiliency";

    /// <summary>The app route Dapr posts a topic's CloudEvents to (listed by GET /dapr/subscribe).</summary>
    public static string Route(string topic) => "/dapr/events/" + topic;
}

/// <summary>An event as it travels: CloudEvents attributes around a <c>sky.events.v1</c> message.</summary>
public sealed record SkyEvent(string Id, string Source, string Type, DateTimeOffset Time, string? Subject, IMessage Data);

/// <summary>
/// The one event abstraction every service uses, chosen by <c>--events</c>: in-process (<see cref="InProcEventBus"/>,
/// the embedded default), Redis Streams (<see cref="RedisStreamsEventBus"/>) or a Dapr sidecar (<see cref="DaprEventBus"/>).
/// Out of process, delivery is at least once and handlers run once per event id (<see cref="IProcessedEvents"/>).
/// </summary>
public interface IEventBus
{
    /// <summary>Publishes <paramref name="data"/> as an event of CloudEvent type <paramref name="type"/> (e.g. <c>directory.offer.expired</c>).</summary>
    Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default);

    /// <summary>Publishes an event whose id and time are already fixed (an event published again keeps its id).</summary>
    Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default);

    /// <summary>Delivers every later event on <paramref name="topic"/> to <paramref name="handler"/>, in order, one at a time.</summary>
    IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler);
}

/// <summary>
/// In-process transport: each subscription has its own unbounded channel and reader loop, so a slow
/// subscriber never blocks a publisher or another subscriber. A handler that throws is retried
/// <see cref="MaxAttempts"/> times, then the event is logged and dropped (nothing durable to dead-letter to in memory).
/// </summary>
public sealed class InProcEventBus(TimeProvider time, ILogger<InProcEventBus> log, string source = "sky-mesh") : IEventBus
{
    public const int MaxAttempts = 3;
    private readonly ILogger _log = log;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Subscription>> _byTopic = new(StringComparer.Ordinal);

    public Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default) =>
        PublishAsync(topic, new SkyEvent(Guid.NewGuid().ToString("N"), source, type, time.GetUtcNow(), subject, data), ct);

    public Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default)
    {
        Subscription[] targets;
        lock (_gate) targets = _byTopic.TryGetValue(topic, out var list) ? [.. list] : [];
        foreach (var target in targets) target.Channel.Writer.TryWrite(evt);
        return Task.CompletedTask;
    }

    public IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler)
    {
        var subscription = new Subscription(this, topic, subscriber, handler);
        lock (_gate)
        {
            if (!_byTopic.TryGetValue(topic, out var list)) _byTopic[topic] = list = [];
            list.Add(subscription);
        }
        subscription.Start();
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate) _byTopic.GetValueOrDefault(subscription.Topic)?.Remove(subscription);
    }

    private sealed class Subscription(InProcEventBus bus, string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;
        public string Topic => topic;
        public Channel<SkyEvent> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<SkyEvent>(new() { SingleReader = true });

        public void Start() => _loop = Task.Run(RunAsync);

        private async Task RunAsync()
        {
            try
            {
                await foreach (var evt in Channel.Reader.ReadAllAsync(_stop.Token))
                    await DeliverAsync(evt);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        }

        private async Task DeliverAsync(SkyEvent evt)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await handler(evt, _stop.Token);
                    return;
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    if (attempt >= MaxAttempts)
                    {
                        bus._log.LogError(ex, "subscriber {Subscriber} failed event {Type} {Id} {Attempts} times; dropped", subscriber, evt.Type, evt.Id, attempt);
                        return;
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            bus.Remove(this);
            Channel.Writer.TryComplete();
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
