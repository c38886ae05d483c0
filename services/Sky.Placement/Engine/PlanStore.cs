using Google.Protobuf;
using Sky.Accounting.V1;
using Sky.Hosting.Events;
using Sky.Placement.V1;
using StackExchange.Redis;

namespace Sky.Placement.Engine;

/// <summary>
/// A plan as stored: whose it is, what was asked (so Launch can run it after a restart), what was answered and its quote
/// (issued again, naming the job, at launch). <see cref="Quote"/> is null only for a plan stored before plans had quotes.
/// </summary>
public sealed record StoredPlan(string PlanId, string TenantId, JobSpec Spec, PlanResponse Response, DateTimeOffset ExpiresAt, Quote? Quote);

/// <summary>Where plans wait to be launched: memory for one process, Redis when the store is durable.</summary>
public interface IPlanStore
{
    /// <summary>
    /// Stores the plan and appends <paramref name="events"/> (its <c>placement.quote.issued</c>) to the placement outbox in
    /// one commit, so a stored quote is always announced. Returns the outbox entry ids (none in memory) for
    /// <see cref="EventOutbox.DeliverAsync"/>.
    /// </summary>
    Task<IReadOnlyList<RedisValue>> PutAsync(StoredPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct);
    Task<StoredPlan?> GetAsync(string planId, CancellationToken ct);
}

public sealed class MemoryPlanStore(TimeProvider time) : IPlanStore
{
    private readonly Dictionary<string, StoredPlan> _plans = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    // No outbox: plans and events live and die with this one process, so the engine publishes after the write.
    public Task<IReadOnlyList<RedisValue>> PutAsync(StoredPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        lock (_gate)
        {
            // Expired plans are dropped as new ones arrive, so the map holds at most the plans of the last hour or so.
            var now = time.GetUtcNow();
            foreach (var id in _plans.Where(p => p.Value.ExpiresAt < now).Select(p => p.Key).ToList()) _plans.Remove(id);
            _plans[plan.PlanId] = plan;
        }
        return Task.FromResult<IReadOnlyList<RedisValue>>([]);
    }

    public Task<StoredPlan?> GetAsync(string planId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_plans.GetValueOrDefault(planId));
    }
}

/// <summary>Plans in Redis as a hash per plan (tenant, spec, response and quote as protobuf), expiring a day after the plan does.</summary>
public sealed class RedisPlanStore(IConnectionMultiplexer redis) : IPlanStore
{
    private static RedisKey Key(string planId) => "sky:placement:plan:" + planId;

    private static readonly RedisKey Outbox = EventOutbox.Key(Sky.Hosting.Options.MeshService.Placement.Name);

    // KEYS: plan, outbox. ARGV: tenant, spec, response, expires ms, quote (empty for none), key expiry ms, event count,
    // events (3 each).
    private const string PutScript = EventOutbox.LuaAppend + """
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'tenant', ARGV[1], 'spec', ARGV[2], 'response', ARGV[3], 'expires', ARGV[4], 'quote', ARGV[5])
        redis.call('PEXPIREAT', KEYS[1], ARGV[6])
        return sky_outbox(KEYS[2], 0, 8, tonumber(ARGV[7]))
        """;

    public async Task<IReadOnlyList<RedisValue>> PutAsync(StoredPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        var args = new List<RedisValue>
        {
            plan.TenantId, plan.Spec.ToByteArray(), plan.Response.ToByteArray(), plan.ExpiresAt.ToUnixTimeMilliseconds(),
            plan.Quote?.ToByteArray() ?? [], plan.ExpiresAt.AddDays(1).ToUnixTimeMilliseconds(), events.Count,
        };
        EventOutbox.AppendArguments(args, events);
        var ids = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(PutScript, [Key(plan.PlanId), Outbox], [.. args]))!;
        return [.. ids.Select(r => (RedisValue)r)];
    }

    public async Task<StoredPlan?> GetAsync(string planId, CancellationToken ct)
    {
        var fields = await redis.GetDatabase().HashGetAllAsync(Key(planId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => (string)f.Name!, f => f.Value);
        return new StoredPlan(planId, (string)map["tenant"]!, JobSpec.Parser.ParseFrom((byte[])map["spec"]!),
            PlanResponse.Parser.ParseFrom((byte[])map["response"]!), DateTimeOffset.FromUnixTimeMilliseconds((long)map["expires"]),
            map.TryGetValue("quote", out var quote) && ((byte[])quote!).Length > 0 ? Quote.Parser.ParseFrom((byte[])quote!) : null);
    }
}
