using System.Collections.Concurrent;
using System.Globalization;
using Azure.Messaging.ServiceBus;

namespace Sky.Queues.ServiceBus;

/// <summary>Which Service Bus entity a <see cref="ServiceBusQueue"/> uses, and how.</summary>
public sealed record ServiceBusQueueOptions
{
    /// <summary>The queue; or the topic, when <see cref="Subscription"/> is set (sends go to the topic, receives come from the subscription).</summary>
    public required string Entity { get; init; }

    /// <summary>The topic's subscription to receive from; null for a queue.</summary>
    public string? Subscription { get; init; }

    /// <summary>
    /// Null (the default): dead-lettering uses the entity's own dead-letter sub-queue (<c>$deadletterqueue</c>) through
    /// DeadLetterMessageAsync. A queue name: a copy is sent to that queue and the original completed, as on SQS.
    /// </summary>
    public string? DeadLetterQueue { get; init; }

    /// <summary>
    /// The shortest wait a receive uses: Service Bus needs a positive wait, and one too short to reach the broker
    /// returns nothing even when messages are there. An empty receive therefore takes at least this long.
    /// </summary>
    public TimeSpan MinimumWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long before a lock lapses it is renewed (at most half the lock's remaining time).</summary>
    public TimeSpan RenewMargin { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The URI for <see cref="IMessageQueue.Address"/>; by default <c>servicebus://NAMESPACE/ENTITY[/SUBSCRIPTION]</c>.</summary>
    public string? Address { get; init; }

    /// <summary>Whether disposing the queue disposes the client (so when <see cref="QueueUri"/> made it).</summary>
    public bool DisposeClient { get; init; }
}

/// <summary>
/// Azure Service Bus behind <see cref="IMessageQueue"/>, receiving in PeekLock mode. The receipt is the lock token; the
/// adapter keeps each received message by it, since only the message object can settle it.
/// <para>Visibility timeout: Service Bus locks a message for the entity's LockDuration, not for a per-call time. The
/// adapter honours the per-call timeout itself while it holds the message: when the timeout is longer than the lock,
/// it renews the lock (RenewMessageLockAsync) shortly before each lapse; when the timeout ends first, it abandons
/// the message then, which makes it visible again with its delivery count raised, as a lapsed lock would. If this
/// process dies, the lock simply lapses at the entity's LockDuration.</para>
/// <para>Delivery count: Service Bus's own (1 on the first delivery). The poison rule dead-letters a message above
/// <see cref="QueueOptions.MaxDeliveries"/>; the entity's MaxDeliveryCount, if lower, dead-letters it first on its own.</para>
/// <para>Attributes travel as application properties; properties of other types that other producers set read as
/// invariant text. Settling a message this instance does not hold (settled already, timed out, received elsewhere)
/// throws <see cref="InvalidOperationException"/>.</para>
/// </summary>
public sealed class ServiceBusQueue : IMessageQueue
{
    /// <summary>Service Bus's limit on the DeadLetterReason header; the reason property carries the whole text.</summary>
    private const int MaxReasonHeader = 4096;

    private readonly ServiceBusClient _client;
    private readonly ServiceBusSender _sender;
    private readonly ServiceBusSender? _deadLetterSender;
    private readonly ServiceBusReceiver _receiver;
    private readonly ServiceBusQueueOptions _sb;
    private readonly QueueOptions _options;
    private readonly ConcurrentDictionary<string, Held> _held = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    public ServiceBusQueue(ServiceBusClient client, ServiceBusQueueOptions serviceBusOptions, QueueOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(serviceBusOptions);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceBusOptions.Entity);
        if (serviceBusOptions.MinimumWait <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(serviceBusOptions), serviceBusOptions.MinimumWait, "MinimumWait must be positive");
        _client = client;
        _sb = serviceBusOptions;
        _options = QueueRules.Check(options);
        var receiverOptions = new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.PeekLock, PrefetchCount = 0 };
        _sender = client.CreateSender(serviceBusOptions.Entity);
        _receiver = serviceBusOptions.Subscription is { } subscription
            ? client.CreateReceiver(serviceBusOptions.Entity, subscription, receiverOptions)
            : client.CreateReceiver(serviceBusOptions.Entity, receiverOptions);
        if (serviceBusOptions.DeadLetterQueue is { } deadLetterQueue) _deadLetterSender = client.CreateSender(deadLetterQueue);
        Address = serviceBusOptions.Address
                  ?? $"servicebus://{client.FullyQualifiedNamespace}/{serviceBusOptions.Entity}"
                  + (serviceBusOptions.Subscription is { } s ? "/" + s : "");
    }

    public string Address { get; }

    public async Task<string> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var outgoing = ToServiceBus(message.Body, message.Attributes);
        await _sender.SendMessageAsync(outgoing, ct);
        return outgoing.MessageId;
    }

    public async Task<IReadOnlyList<IncomingMessage>> ReceiveAsync(int max, TimeSpan visibilityTimeout, TimeSpan wait, CancellationToken ct = default)
    {
        QueueRules.CheckReceive(max, visibilityTimeout, wait);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var messages = await _receiver.ReceiveMessagesAsync(max, wait > _sb.MinimumWait ? wait : _sb.MinimumWait, ct);
        var received = new List<IncomingMessage>(messages.Count);
        foreach (var message in messages)
        {
            if (QueueRules.IsPoison(message.DeliveryCount, _options))
            {
                await DeadLetterAsync(message, QueueRules.PoisonReason(message.DeliveryCount, _options), ct);
                continue;
            }
            var held = new Held(message, QueueRules.Deadline(_options.Time, visibilityTimeout));
            _held[message.LockToken] = held;
            held.Timer = _options.Time.CreateTimer(_ => _ = OnTimerAsync(held), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Schedule(held);
            received.Add(ToIncoming(message));
        }
        return received;
    }

    public Task AckAsync(IncomingMessage message, CancellationToken ct = default) =>
        SettleAsync(message, held => _receiver.CompleteMessageAsync(held.Message, ct));

    public Task ReleaseAsync(IncomingMessage message, CancellationToken ct = default) =>
        SettleAsync(message, held => _receiver.AbandonMessageAsync(held.Message, cancellationToken: ct));

    public Task DeadLetterAsync(IncomingMessage message, string reason, CancellationToken ct = default)
    {
        QueueRules.CheckReason(reason);
        return SettleAsync(message, held => DeadLetterAsync(held.Message, reason, ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var held in _held.Values) held.Timer?.Dispose();
        _held.Clear();
        await _receiver.DisposeAsync();
        await _sender.DisposeAsync();
        if (_deadLetterSender is not null) await _deadLetterSender.DisposeAsync();
        if (_sb.DisposeClient) await _client.DisposeAsync();
    }

    private async Task DeadLetterAsync(ServiceBusReceivedMessage message, string reason, CancellationToken ct)
    {
        if (_deadLetterSender is null)
        {
            var header = reason.Length <= MaxReasonHeader ? reason : reason[..MaxReasonHeader];
            await _receiver.DeadLetterMessageAsync(message, new Dictionary<string, object> { [QueueOptions.ReasonAttribute] = reason }, header, null, ct);
            return;
        }
        var copy = ToServiceBus(message.Body.ToMemory(), QueueRules.WithReason(Attributes(message), reason));
        await _deadLetterSender.SendMessageAsync(copy, ct);
        await _receiver.CompleteMessageAsync(message, ct);
    }

    /// <summary>
    /// Settles a held message. Its timer stops first, so the adapter cannot abandon it meanwhile; if the broker call
    /// fails for a reason other than a lost lock, the message is held again so the caller may retry.
    /// </summary>
    private async Task SettleAsync(IncomingMessage message, Func<Held, Task> settle)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_held.TryRemove(message.Receipt, out var held))
            throw new InvalidOperationException(
                $"message {message.MessageId} is not held by this receiver: settled already, its visibility timeout lapsed, or another receiver has it");
        held.Timer?.Dispose();
        try
        {
            await settle(held);
        }
        catch (ServiceBusException ex) when (ex.Reason != ServiceBusFailureReason.MessageLockLost && !_disposed)
        {
            held.Timer = _options.Time.CreateTimer(_ => _ = OnTimerAsync(held), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _held[message.Receipt] = held;
            Schedule(held);
            throw;
        }
    }

    /// <summary>Arms the message's timer for whichever comes first: the end of its visibility timeout, or its next lock renewal.</summary>
    private void Schedule(Held held)
    {
        var now = _options.Time.GetUtcNow();
        var lockLeft = held.LockedUntil - now;
        var margin = _sb.RenewMargin < lockLeft / 2 ? _sb.RenewMargin : lockLeft / 2;
        var renewAt = held.LockedUntil - margin;
        var due = (held.VisibleAt <= renewAt ? held.VisibleAt : renewAt) - now;
        try { held.Timer?.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan); }
        catch (ObjectDisposedException) { } // settled meanwhile
    }

    private async Task OnTimerAsync(Held held)
    {
        var token = held.Message.LockToken;
        try
        {
            if (_options.Time.GetUtcNow() >= held.VisibleAt)
            {
                if (!_held.TryRemove(new KeyValuePair<string, Held>(token, held))) return;
                held.Timer?.Dispose();
                await _receiver.AbandonMessageAsync(held.Message);
                return;
            }
            if (!_held.ContainsKey(token)) return;
            await _receiver.RenewMessageLockAsync(held.Message); // updates the message's LockedUntil
            if (_held.ContainsKey(token)) Schedule(held);
        }
        catch (Exception) when (!_disposed)
        {
            // The lock is lost, or the link broke: the broker makes the message visible again when its lock lapses,
            // which is all an abandon would have done. Stop tracking it; settling it now fails with a clear message.
            if (_held.TryRemove(new KeyValuePair<string, Held>(token, held))) held.Timer?.Dispose();
        }
        catch (Exception)
        {
            // Disposing: the receiver is closing and every lock lapses on its own.
        }
    }

    private static ServiceBusMessage ToServiceBus(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> attributes)
    {
        var message = new ServiceBusMessage(BinaryData.FromBytes(body)) { MessageId = Guid.NewGuid().ToString("N") };
        foreach (var (name, value) in attributes) message.ApplicationProperties[name] = value;
        return message;
    }

    private static IncomingMessage ToIncoming(ServiceBusReceivedMessage message) =>
        new(message.MessageId ?? message.SequenceNumber.ToString(CultureInfo.InvariantCulture), message.Body.ToMemory(),
            Attributes(message), message.DeliveryCount, message.LockToken);

    private static Dictionary<string, string> Attributes(ServiceBusReceivedMessage message) =>
        message.ApplicationProperties.ToDictionary(p => p.Key, p => Text(p.Value), StringComparer.Ordinal);

    private static string Text(object? value) => value switch
    {
        null => "",
        string text => text,
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A received, unsettled message: when it must become visible again, and until when the broker locks it.</summary>
    private sealed class Held(ServiceBusReceivedMessage message, DateTimeOffset visibleAt)
    {
        public ServiceBusReceivedMessage Message { get; } = message;
        public DateTimeOffset VisibleAt { get; } = visibleAt;
        public DateTimeOffset LockedUntil => Message.LockedUntil;
        public ITimer? Timer { get; set; }
    }
}
