using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.V1;
using StackExchange.Redis;

namespace Sky.Placement.Engine;

/// <summary>
/// This placement process among those sharing a store: the owner recorded on the jobs it runs, whose heartbeat tells
/// the others that those jobs are still in hand. New for every process (and every host in a test process).
/// </summary>
public sealed record PlacementInstance(string Id)
{
    public static PlacementInstance New() => new($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
}

/// <summary>
/// Jobs as last written (the whole Job message), newest first per tenant, and Launch's request ids. While a job is not
/// final the store also keeps its owner (the <see cref="PlacementInstance"/> it was constructed with), and each owner's
/// heartbeat, so a job whose process stopped can be told from one still running.
/// </summary>
public interface IJobStore
{
    /// <summary>Writes the job; while it is not final, records this store's instance as the process running it.</summary>
    Task PutAsync(Job job, CancellationToken ct);
    Task<Job?> GetAsync(string jobId, CancellationToken ct);
    /// <summary>Every job of <paramref name="tenant"/> (all tenants when null), newest first.</summary>
    Task<IReadOnlyList<Job>> ListAsync(string? tenant, CancellationToken ct);
    /// <summary>Claims <paramref name="requestId"/> for <paramref name="jobId"/>; returns the job id that holds it (the given one if new).</summary>
    Task<string> ClaimRequestAsync(string tenant, string requestId, string jobId, CancellationToken ct);

    /// <summary>Says this store's instance is alive for <paramref name="ttl"/> from now.</summary>
    Task BeatAsync(TimeSpan ttl, CancellationToken ct);
    /// <summary>The ids among <paramref name="jobs"/> (as read) that are not final and whose owner's heartbeat has lapsed, or that have no owner.</summary>
    Task<IReadOnlySet<string>> OrphanedAsync(IReadOnlyList<Job> jobs, CancellationToken ct);
    /// <summary>
    /// Writes <paramref name="failure"/> if the job is still exactly as expected and still orphaned (compare-and-set: of
    /// two readers only one writes), in one commit: so whoever reads the failed state reads the log's last line too.
    /// Returns the outbox entry ids (none in memory) for <see cref="EventOutbox.DeliverAsync"/>, or null when the job
    /// changed first.
    /// </summary>
    Task<IReadOnlyList<RedisValue>?> FailOrphanAsync(OrphanFailure failure, CancellationToken ct);
}

/// <summary>
/// What failing an orphaned job writes: the job as read and as failed, the line that ends its log, how long the log is
/// kept from now (as a finished job's), and the state change's events for the placement outbox.
/// </summary>
public sealed record OrphanFailure(Job Expected, Job Failed, StreamJobLogsResponse LastLine, TimeSpan LogLifetime, IReadOnlyList<PendingEvent> Events);

/// <summary>Jobs in this process; an orphan's failure and its last log line go in under one lock (<paramref name="logs"/> is this process's).</summary>
public sealed class MemoryJobStore(TimeProvider time, PlacementInstance instance, MemoryJobLogStore logs) : IJobStore
{
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _beats = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> _requests = [];
    private readonly Lock _gate = new();

    public Task PutAsync(Job job, CancellationToken ct)
    {
        lock (_gate)
        {
            _jobs[job.JobId] = job.Clone();
            if (JobRunner.IsFinal(job.State)) _owners.Remove(job.JobId);
            else _owners[job.JobId] = instance.Id;
        }
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

    public Task BeatAsync(TimeSpan ttl, CancellationToken ct)
    {
        lock (_gate) _beats[instance.Id] = time.GetUtcNow() + ttl;
        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<string>> OrphanedAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlySet<string>>(jobs.Where(j => !JobRunner.IsFinal(j.State) && Lapsed(j.JobId))
                .Select(j => j.JobId).ToHashSet(StringComparer.Ordinal));
    }

    public Task<IReadOnlyList<RedisValue>?> FailOrphanAsync(OrphanFailure failure, CancellationToken ct)
    {
        var id = failure.Expected.JobId;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(id, out var current) || !current.Equals(failure.Expected) || !Lapsed(id))
                return Task.FromResult<IReadOnlyList<RedisValue>?>(null);
            _jobs[id] = failure.Failed.Clone();
            _owners.Remove(id);
            logs.Append(id, [failure.LastLine]);
            logs.Expire(id, failure.LogLifetime);
            return Task.FromResult<IReadOnlyList<RedisValue>?>([]);
        }
    }

    private bool Lapsed(string jobId) =>
        !_owners.TryGetValue(jobId, out var owner) || !_beats.TryGetValue(owner, out var until) || until <= time.GetUtcNow();
}

/// <summary>
/// Jobs in Redis (keys under <c>sky:placement:</c>): <c>job:&lt;id&gt;</c> the job (protobuf), sorted sets per tenant
/// (<c>jobs:&lt;tenant&gt;</c>) and for all (<c>jobs</c>) by creation time, request ids with SET NX,
/// <c>owner:&lt;id&gt;</c> the instance running a job not yet final, and <c>instance:&lt;instance&gt;</c> that instance's
/// heartbeat, a key that lives as long as the instance keeps refreshing it (Redis's clock decides when it lapsed).
/// </summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, PlacementInstance instance) : IJobStore
{
    private const string Prefix = "sky:placement:";
    private static RedisKey JobKey(string id) => Prefix + "job:" + id;
    private static RedisKey TenantKey(string tenant) => Prefix + "jobs:" + tenant;
    private static RedisKey OwnerKey(string id) => Prefix + "owner:" + id;
    private static RedisKey HeartbeatKey(string instance) => Prefix + "instance:" + instance;
    private static readonly RedisKey All = Prefix + "jobs";
    private static readonly RedisKey Outbox = EventOutbox.Key(Sky.Hosting.Options.MeshService.Placement.Name);

    public async Task PutAsync(Job job, CancellationToken ct)
    {
        var tx = redis.GetDatabase().CreateTransaction();
        var created = job.CreatedAt.ToDateTimeOffset().ToUnixTimeMilliseconds();
        _ = tx.StringSetAsync(JobKey(job.JobId), job.ToByteArray());
        _ = tx.SortedSetAddAsync(TenantKey(job.TenantId), job.JobId, created);
        _ = tx.SortedSetAddAsync(All, job.JobId, created);
        _ = JobRunner.IsFinal(job.State) ? tx.KeyDeleteAsync(OwnerKey(job.JobId)) : tx.StringSetAsync(OwnerKey(job.JobId), instance.Id);
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

    public Task BeatAsync(TimeSpan ttl, CancellationToken ct) =>
        redis.GetDatabase().StringSetAsync(HeartbeatKey(instance.Id), 1, ttl);

    public async Task<IReadOnlySet<string>> OrphanedAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        var open = jobs.Where(j => !JobRunner.IsFinal(j.State)).Select(j => j.JobId).ToList();
        var orphaned = new HashSet<string>(StringComparer.Ordinal);
        if (open.Count == 0) return orphaned;
        var db = redis.GetDatabase();
        var owners = await db.StringGetAsync([.. open.Select(OwnerKey)]);
        var alive = await Task.WhenAll(owners.Select(o => o.IsNull ? Task.FromResult(false) : db.KeyExistsAsync(HeartbeatKey((string)o!))));
        for (var i = 0; i < open.Count; i++)
            if (!alive[i]) orphaned.Add(open[i]);
        return orphaned;
    }

    // KEYS: job, owner, owner's heartbeat, outbox, log.
    // ARGV: expected job, failed job, expected owner ('' for none), last log line, log lifetime ms, event count, events (3 each).
    private const string FailOrphanScript = EventOutbox.LuaAppend + """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'changed'} end
        local owner = redis.call('GET', KEYS[2]) or ''
        if owner ~= ARGV[3] then return {'changed'} end
        if owner ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return {'alive'} end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('DEL', KEYS[2])
        redis.call('XADD', KEYS[5], '*', 'l', ARGV[4])
        redis.call('PEXPIRE', KEYS[5], ARGV[5])
        local ids = sky_outbox(KEYS[4], 0, 7, tonumber(ARGV[6]))
        return {'done', unpack(ids)}
        """;

    public async Task<IReadOnlyList<RedisValue>?> FailOrphanAsync(OrphanFailure failure, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var id = failure.Expected.JobId;
        var owner = (string?)await db.StringGetAsync(OwnerKey(id)) ?? "";
        var args = new List<RedisValue>
        {
            failure.Expected.ToByteArray(), failure.Failed.ToByteArray(), owner, failure.LastLine.ToByteArray(),
            (long)failure.LogLifetime.TotalMilliseconds, failure.Events.Count,
        };
        EventOutbox.AppendArguments(args, failure.Events);
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(FailOrphanScript,
            [JobKey(id), OwnerKey(id), HeartbeatKey(owner), Outbox, RedisJobLogStore.Key(id)], [.. args]))!;
        return (string?)result[0] == "done" ? [.. result.Skip(1).Select(r => (RedisValue)r)] : null;
    }
}

/// <summary>
/// Keeps this process's heartbeat alive (<see cref="PlacementOptions.HeartbeatTtl"/>, refreshed every
/// <see cref="PlacementOptions.HeartbeatInterval"/>) so other processes reading its jobs do not take them for orphans.
/// </summary>
public sealed class JobHeartbeat(IJobStore store, TimeProvider time, PlacementOptions options, ILogger<JobHeartbeat> log) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval >= options.HeartbeatTtl)
            throw new InvalidOperationException(
                $"PlacementOptions.HeartbeatInterval ({options.HeartbeatInterval}) must be positive and shorter than HeartbeatTtl ({options.HeartbeatTtl})");
        // Beat before serving, so the first job launched here is never read as orphaned.
        await BeatAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await BeatAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task BeatAsync(CancellationToken ct)
    {
        try
        {
            await store.BeatAsync(options.HeartbeatTtl, ct);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning(e, "placement heartbeat failed; jobs run here may be read as orphaned once it lapses");
        }
    }
}

/// <summary>
/// Fails jobs whose process stopped: a job read from the store in a non-final state whose owner's heartbeat lapsed
/// would otherwise show RUNNING forever. The first reader to see it writes FAILED (compare-and-set), announces the
/// change as the runner announces its own (placement.job.failed through the placement outbox), and, in the same commit,
/// ends its log with a line saying why and lets the log expire like any finished job's.
/// </summary>
public sealed class OrphanedJobs(
    IJobStore store, TimeProvider time, PlacementOptions options,
    [Microsoft.Extensions.DependencyInjection.FromKeyedServices("placement")] EventOutbox outbox, ILogger<OrphanedJobs> log)
{
    public const string Reason = "the placement process running it stopped (its heartbeat lapsed)";

    /// <summary><paramref name="jobs"/> as read, with each orphan among them failed. Pass only jobs not running in this process.</summary>
    public async Task<IReadOnlyList<Job>> SettleAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        if (jobs.All(j => JobRunner.IsFinal(j.State))) return jobs;
        var orphaned = await store.OrphanedAsync(jobs, ct);
        if (orphaned.Count == 0) return jobs;
        var settled = new List<Job>(jobs.Count);
        foreach (var job in jobs) settled.Add(orphaned.Contains(job.JobId) ? await FailAsync(job, ct) : job);
        return settled;
    }

    private async Task<Job> FailAsync(Job job, CancellationToken ct)
    {
        var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        var failed = job.Clone();
        failed.State = JobState.Failed;
        failed.EndedAt = now;
        failed.Message = Reason;
        foreach (var task in failed.Tasks.Where(t => !JobRunner.IsFinal(t.State)))
        {
            task.State = JobState.Failed;
            task.EndedAt = now;
            foreach (var attempt in task.Attempts.Where(a => a.Outcome == AttemptOutcome.InProgress))
            {
                attempt.Outcome = AttemptOutcome.ProviderError;
                attempt.Message = Reason;
                attempt.EndedAt = now;
            }
        }
        var announce = outbox.Prepare(Topics.Placement, EventTypes.JobStatePrefix + "failed", new PlacementJobStateChanged
        {
            JobId = job.JobId, TenantId = job.TenantId, State = JobState.Failed, PreviousState = job.State, Job = failed.Clone(), Time = now,
        }, job.JobId);
        var lastLine = new StreamJobLogsResponse { Stream = LogStream.System, Text = "job failed: " + Reason, Time = now };
        if (await store.FailOrphanAsync(new OrphanFailure(job, failed, lastLine, options.FinishedLogLifetime, [announce]), ct) is not { } entries)
            return await store.GetAsync(job.JobId, ct) ?? job;   // another reader failed it first, or its owner wrote after all
        log.LogWarning("job {Job} was {State} but {Reason}; marked failed", job.JobId, job.State, Reason);
        await outbox.DeliverAsync([announce], 0, entries);
        return failed;
    }
}
