using Google.Protobuf;
using Sky.Accounting.V1;
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
    Task PutAsync(StoredPlan plan, CancellationToken ct);
    Task<StoredPlan?> GetAsync(string planId, CancellationToken ct);
}

public sealed class MemoryPlanStore(TimeProvider time) : IPlanStore
{
    private readonly Dictionary<string, StoredPlan> _plans = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task PutAsync(StoredPlan plan, CancellationToken ct)
    {
        lock (_gate)
        {
            // Expired plans are dropped as new ones arrive, so the map holds at most the plans of the last hour or so.
            var now = time.GetUtcNow();
            foreach (var id in _plans.Where(p => p.Value.ExpiresAt < now).Select(p => p.Key).ToList()) _plans.Remove(id);
            _plans[plan.PlanId] = plan;
        }
        return Task.CompletedTask;
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

    public async Task PutAsync(StoredPlan plan, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var key = Key(plan.PlanId);
        var tx = db.CreateTransaction();
        _ = tx.HashSetAsync(key, [
            new("tenant", plan.TenantId), new("spec", plan.Spec.ToByteArray()), new("response", plan.Response.ToByteArray()),
            new("expires", plan.ExpiresAt.ToUnixTimeMilliseconds()), new("quote", plan.Quote?.ToByteArray() ?? []),
        ]);
        _ = tx.KeyExpireAsync(key, plan.ExpiresAt.UtcDateTime.AddDays(1));
        await tx.ExecuteAsync();
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
