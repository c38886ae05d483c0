namespace Sky.Queues;

/// <summary>A message to send: an opaque body and string attributes (CloudEvent attributes, content type...).</summary>
public sealed record OutgoingMessage(ReadOnlyMemory<byte> Body, IReadOnlyDictionary<string, string>? Attributes = null)
{
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = Attributes ?? new Dictionary<string, string>();
}

/// <summary>
/// A message received and not yet settled. Until it is acknowledged, released or dead-lettered, no other
/// receiver gets it before its visibility timeout lapses; then it is delivered again with a higher
/// <see cref="DeliveryCount"/>. <see cref="Receipt"/> is the adapter's handle for settling it (an SQS receipt
/// handle, a Service Bus lock token, a Pub/Sub ack id, a Redis stream entry id).
/// </summary>
public sealed record IncomingMessage(
    string MessageId, ReadOnlyMemory<byte> Body, IReadOnlyDictionary<string, string> Attributes, int DeliveryCount, string Receipt);

/// <summary>
/// The compatibility layer's queue: the few operations every cloud queue has, with at-least-once delivery.
/// Receive hides a message for a visibility timeout; Ack removes it; Release makes it visible again at once (a failed
/// attempt); DeadLetter moves it aside with a reason. A message delivered more than <see cref="QueueOptions.MaxDeliveries"/>
/// times is dead-lettered by Receive instead of being returned (the poison-message rule, the same on every adapter).
/// </summary>
public interface IMessageQueue : IAsyncDisposable
{
    /// <summary>Where the queue is, as a URI without secrets (e.g. <c>sqs://orders</c>, <c>redis://host:6379/0?stream=s&amp;group=g</c>).</summary>
    string Address { get; }

    /// <summary>Sends one message; returns the id the queue gave it.</summary>
    Task<string> SendAsync(OutgoingMessage message, CancellationToken ct = default);

    /// <summary>
    /// Up to <paramref name="max"/> messages, waiting at most <paramref name="wait"/> for the first one (an empty list
    /// when none came); each stays hidden from other receivers for <paramref name="visibilityTimeout"/> unless settled.
    /// </summary>
    Task<IReadOnlyList<IncomingMessage>> ReceiveAsync(int max, TimeSpan visibilityTimeout, TimeSpan wait, CancellationToken ct = default);

    /// <summary>Removes a received message for good (its handler succeeded).</summary>
    Task AckAsync(IncomingMessage message, CancellationToken ct = default);

    /// <summary>Makes a received message visible again now, for another attempt.</summary>
    Task ReleaseAsync(IncomingMessage message, CancellationToken ct = default);

    /// <summary>Moves a received message to the dead-letter queue, recording <paramref name="reason"/>.</summary>
    Task DeadLetterAsync(IncomingMessage message, string reason, CancellationToken ct = default);
}

/// <summary>Settings every adapter honours.</summary>
public sealed record QueueOptions
{
    /// <summary>Deliveries before a message is dead-lettered by Receive (the first delivery counts as 1).</summary>
    public int MaxDeliveries { get; init; } = 5;

    /// <summary>Clock for timeouts and timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The attribute Receive records the dead-letter reason in, on the dead-lettered copy.</summary>
    public const string ReasonAttribute = "sky-dead-letter-reason";
}
