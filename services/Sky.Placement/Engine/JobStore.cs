using Google.Protobuf;
using Sky.Placement.V1;
using StackExchange.Redis;

namespace Sky.Placement.Engine;

/// <summary>Jobs as last written (the whole Job message), newest first per tenant, and Launch's request ids.</summary>
public interface IJobStore
{
    Task PutAsync(Job job, CancellationToken ct);
    Task<Job?> GetAsync(string jobId, CancellationToken ct);
    /// <summary>Every job of <paramref name="tenant"/> (all tenants when null), newest first.</summary>
    Task<IReadOnlyList<Job>> ListAsync(string? tenant, CancellationToken ct);
    /// <summary>Claims <paramref name="requestId"/> for <paramref name="jobId"/>; returns the job id that holds it (the given one if new).</summary>
    Task<string> ClaimRequestAsync(string tenant, string requestId, string jobId, CancellationToken ct);
}

public sealed class MemoryJobStore : IJobStore
{
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> _requests = [];
    private readonly Lock _gate = new();

    public Task PutAsync(Job job, CancellationToken ct)
    {
        lock (_gate) _jobs[job.JobId] = job.Clone();
        return Task.CompletedTask;
    }

    public Task<Job?> GetAsync(string jobId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_jobs.TryGetValue(jobId, out var job) ? job.Clone() : null);
    }

    public Task<IReadOnlyList<Job>> ListAsync(string? tenant, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<Job>>([.. _jobs.Values.Where(j => tenant is null || j.TenantId == tenant)
                .OrderByDescending(j => j.CreatedAt.ToDateTimeOffset()).ThenByDescending(j => j.JobId, StringComparer.Ordinal).Select(j => j.Clone())]);
    }

    public Task<string> ClaimRequestAsync(string tenant, string requestId, string jobId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_requests.TryAdd((tenant, requestId), jobId) ? jobId : _requests[(tenant, requestId)]);
    }
}

/// <summary>Jobs in Redis: one key per job (protobuf), a sorted set per tenant and one for all by creation time, request ids with SET NX.</summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis) : IJobStore
{
    private const string Prefix = "sky:placement:";
    private static RedisKey JobKey(string id) => Prefix + "job:" + id;
    private static RedisKey TenantKey(string tenant) => Prefix + "jobs:" + tenant;
    private static readonly RedisKey All = Prefix + "jobs";

    public async Task PutAsync(Job job, CancellationToken ct)
    {
        var tx = redis.GetDatabase().CreateTransaction();
        var created = job.CreatedAt.ToDateTimeOffset().ToUnixTimeMilliseconds();
        _ = tx.StringSetAsync(JobKey(job.JobId), job.ToByteArray());
        _ = tx.SortedSetAddAsync(TenantKey(job.TenantId), job.JobId, created);
        _ = tx.SortedSetAddAsync(All, job.JobId, created);
        await tx.ExecuteAsync();
    }

    public async Task<Job?> GetAsync(string jobId, CancellationToken ct)
    {
        var bytes = await redis.GetDatabase().StringGetAsync(JobKey(jobId));
        return bytes.IsNull ? null : Job.Parser.ParseFrom((byte[])bytes!);
    }

    public async Task<IReadOnlyList<Job>> ListAsync(string? tenant, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var ids = await db.SortedSetRangeByRankAsync(tenant is null ? All : TenantKey(tenant), order: Order.Descending);
        if (ids.Length == 0) return [];
        var values = await db.StringGetAsync([.. ids.Select(id => JobKey((string)id!))]);
        return [.. values.Where(v => !v.IsNull).Select(v => Job.Parser.ParseFrom((byte[])v!))];
    }

    public async Task<string> ClaimRequestAsync(string tenant, string requestId, string jobId, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        RedisKey key = Prefix + "request:" + tenant + ":" + requestId;
        if (await db.StringSetAsync(key, jobId, TimeSpan.FromDays(7), When.NotExists)) return jobId;
        return (string)(await db.StringGetAsync(key))!;
    }
}
