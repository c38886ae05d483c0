namespace Sky.Queues;

/// <summary>
/// The argument checks and the poison-message rule every adapter shares, so that the same call fails the same way
/// and a message is dead-lettered after the same number of deliveries whichever cloud holds it.
/// </summary>
public static class QueueRules
{
    /// <summary>Checks <see cref="IMessageQueue.ReceiveAsync"/>'s arguments.</summary>
    public static void CheckReceive(int max, TimeSpan visibilityTimeout, TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (visibilityTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(visibilityTimeout), visibilityTimeout, "the visibility timeout must be positive");
        if (wait < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(wait), wait, "the wait must not be negative");
    }

    /// <summary>Checks the settings every adapter is built with.</summary>
    public static QueueOptions Check(QueueOptions? options)
    {
        options ??= new QueueOptions();
        if (options.MaxDeliveries < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDeliveries, "MaxDeliveries must be at least 1");
        return options;
    }

    /// <summary>Checks a dead-letter reason: it is recorded, so it must say something.</summary>
    public static void CheckReason(string reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new ArgumentException("a dead-letter reason is required", nameof(reason));
    }

    /// <summary>
    /// A visibility timeout in the whole seconds cloud APIs take, rounded up so a message is never visible sooner
    /// than asked; above <paramref name="limit"/> seconds the transport cannot hide it, which is the caller's error.
    /// </summary>
    public static int WholeSeconds(TimeSpan visibilityTimeout, int limit, string transport)
    {
        var seconds = Math.Ceiling(visibilityTimeout.TotalSeconds);
        if (seconds > limit)
            throw new ArgumentOutOfRangeException(nameof(visibilityTimeout), visibilityTimeout,
                $"{transport} hides a message for at most {limit} s");
        return (int)seconds;
    }

    /// <summary>When a receive that may wait <paramref name="wait"/> from now must give up (saturating, so a huge wait is "forever").</summary>
    public static DateTimeOffset Deadline(TimeProvider time, TimeSpan wait)
    {
        var now = time.GetUtcNow();
        return wait >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + wait;
    }

    /// <summary>The poison rule: the first delivery counts as 1, and a count above the limit is dead-lettered by Receive.</summary>
    public static bool IsPoison(int deliveryCount, QueueOptions options) => deliveryCount > options.MaxDeliveries;

    /// <summary>The reason Receive records on a poison message.</summary>
    public static string PoisonReason(int deliveryCount, QueueOptions options) =>
        $"delivered {deliveryCount} times, more than the limit of {options.MaxDeliveries}";

    /// <summary>A message's attributes plus the dead-letter reason, as the dead-lettered copy carries them.</summary>
    public static Dictionary<string, string> WithReason(IReadOnlyDictionary<string, string> attributes, string reason)
    {
        var copy = new Dictionary<string, string>(attributes, StringComparer.Ordinal) { [QueueOptions.ReasonAttribute] = reason };
        return copy;
    }
}
