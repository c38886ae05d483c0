using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Queues;

namespace Sky.Accounting.Billing;

/// <summary>
/// Where each tenant wants its billing events delivered: a queue URI per tenant id, in any scheme the queue layer
/// opens (<c>sqs://</c>, <c>servicebus://</c>, <c>pubsub://</c>, <c>redis://</c>; see Sky.Queues.QueueUri). Bound from
/// configuration <c>Accounting:BillingQueues:&lt;tenant&gt;</c> (environment <c>Accounting__BillingQueues__acme=sqs://...</c>).
/// </summary>
public sealed class BillingQueueOptions
{
    public Dictionary<string, string> BillingQueues { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Delivers the <c>billing</c> topic to tenants' own queues through the compatibility layer's queue adapters: each
/// event (a structured CloudEvent, the same bytes as on the topic, with its id, type and subject as message attributes
/// so a consumer can deduplicate) goes to the queue of the tenant it is about (the CloudEvent subject). A send that
/// fails fails the handler, so the bus redelivers it and, past its retry limit, dead-letters it: nothing is dropped
/// silently. Delivery is at least once, as every cloud queue is.
/// </summary>
public sealed class BillingQueueDelivery(IEventBus events, BillingQueueOptions options, ILogger<BillingQueueDelivery> log,
    Func<string, Task<IMessageQueue>>? open = null) : IHostedService, IAsyncDisposable
{
    public const string Subscriber = "accounting-billing-queues";

    private readonly ConcurrentDictionary<string, Lazy<Task<IMessageQueue>>> _queues = new(StringComparer.Ordinal);
    private readonly Func<string, Task<IMessageQueue>> _open = open ?? (uri => QueueUri.OpenAsync(uri));
    private IAsyncDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.BillingQueues.Count == 0) return Task.CompletedTask;
        _subscription = events.Subscribe(Topics.Billing, Subscriber, DeliverAsync);
        log.LogInformation("billing events go to the queues of {Count} tenants", options.BillingQueues.Count);
        return Task.CompletedTask;
    }

    /// <summary>Sends one billing event to its tenant's queue, if the tenant has one.</summary>
    public async Task DeliverAsync(SkyEvent e, CancellationToken ct)
    {
        if (e.Subject is not { } tenant || !options.BillingQueues.TryGetValue(tenant, out var uri)) return;
        var queue = await _queues.GetOrAdd(tenant, _ => new Lazy<Task<IMessageQueue>>(() => _open(uri))).Value;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = CloudEventCodec.ContentType,
            ["ce-id"] = e.Id,
            ["ce-type"] = e.Type,
            ["ce-subject"] = tenant,
        };
        await queue.SendAsync(new OutgoingMessage(CloudEventCodec.Encode(e), attributes), ct);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _subscription, null) is { } subscription) await subscription.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        foreach (var queue in _queues.Values)
            if (queue.IsValueCreated && queue.Value.IsCompletedSuccessfully) await queue.Value.Result.DisposeAsync();
        _queues.Clear();
    }
}
