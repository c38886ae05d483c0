using StackExchange.Redis;

namespace Sky.Hosting.Events;

/// <summary>
/// Which events each subscriber has handled. Transports that leave the process deliver at least once (a consumer dies
/// before acknowledging, Dapr retries, an outbox entry is published again), so delivery asks here first and records
/// the event id after the handler succeeds: a duplicate is acknowledged without running the handler again. A crash
/// between the handler and the record still repeats the handler once, so handlers whose effect must not repeat
/// (postings in the ledger) also key their own writes by the event id.
/// </summary>
public interface IProcessedEvents
{
    /// <summary>For each id, whether it was handled (one round trip for a batch).</summary>
    Task<bool[]> SeenAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default);

    Task MarkAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default);
}

/// <summary>Runs a handler once per event id and subscriber.</summary>
public static class IdempotentDelivery
{
    public static async Task HandleAsync(IProcessedEvents processed, string subscriber, SkyEvent evt, Func<SkyEvent, CancellationToken, Task> handler, CancellationToken ct)
    {
        if ((await processed.SeenAsync(subscriber, [evt.Id], ct))[0]) return;
        await handler(evt, ct);
        await processed.MarkAsync(subscriber, [evt.Id], ct);
    }
}

/// <summary>In memory: the last <see cref="Capacity"/> ids per subscriber (with an in-memory state store nothing survives a restart anyway).</summary>
public sealed class MemoryProcessedEvents : IProcessedEvents
{
    public const int Capacity = 100_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (HashSet<string> Ids, Queue<string> Order)> _bySubscriber = new(StringComparer.Ordinal);

    public Task<bool[]> SeenAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult(_bySubscriber.TryGetValue(subscriber, out var seen) ? [.. eventIds.Select(seen.Ids.Contains)] : new bool[eventIds.Count]);
    }

    public Task MarkAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_bySubscriber.TryGetValue(subscriber, out var seen)) _bySubscriber[subscriber] = seen = ([], new Queue<string>());
            foreach (var eventId in eventIds)
            {
                if (!seen.Ids.Add(eventId)) continue;
                seen.Order.Enqueue(eventId);
                if (seen.Order.Count > Capacity) seen.Ids.Remove(seen.Order.Dequeue());
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// In Redis: a sorted set per subscriber (<c>sky:events:handled:SUBSCRIBER</c>, id -> when handled), trimmed to
/// <see cref="Retention"/> and to the newest <paramref name="capacity"/> ids, whichever keeps fewer. Both outlast any
/// redelivery: a stream holds about 100,000 entries (<see cref="RedisEventBusOptions.MaxLength"/>) and the outbox
/// republishes within seconds, while the default capacity is ten times that. The count bound is what keeps the set
/// (and every AOF rewrite that copies it) small at high rates: 20k events/s for 7 days would be 12 billion ids.
/// </summary>
public sealed class RedisProcessedEvents(IConnectionMultiplexer redis, TimeProvider time, long capacity = RedisProcessedEvents.DefaultCapacity) : IProcessedEvents
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);
    public const long DefaultCapacity = 1_000_000;
    private long _marks;

    private long TrimEvery => Math.Clamp(capacity / 10, 1, 1000);

    private static RedisKey Key(string subscriber) => "sky:events:handled:" + subscriber;

    public async Task<bool[]> SeenAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default)
    {
        if (eventIds.Count == 0) return [];
        var scores = await redis.GetDatabase().SortedSetScoresAsync(Key(subscriber), [.. eventIds.Select(id => (RedisValue)id)]);
        return [.. scores.Select(s => s is not null)];
    }

    public async Task MarkAsync(string subscriber, IReadOnlyList<string> eventIds, CancellationToken ct = default)
    {
        if (eventIds.Count == 0) return;
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.SortedSetAddAsync(Key(subscriber), [.. eventIds.Select(id => new SortedSetEntry(id, now))]);
        // Trim now and then rather than on every mark.
        var marks = Interlocked.Add(ref _marks, eventIds.Count);
        if (marks / TrimEvery != (marks - eventIds.Count) / TrimEvery)
        {
            await db.SortedSetRemoveRangeByScoreAsync(Key(subscriber), double.NegativeInfinity, now - Retention.TotalMilliseconds);
            await db.SortedSetRemoveRangeByRankAsync(Key(subscriber), 0, -capacity - 1);
        }
    }
}
