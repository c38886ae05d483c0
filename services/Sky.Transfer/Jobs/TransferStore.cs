using Google.Protobuf;
using Sky.Accounting.V1;
using Sky.Hosting.Events;
using Sky.Transfer.V1;
using StackExchange.Redis;

namespace Sky.Transfer.Jobs;

/// <summary>
/// This transfer process among those sharing a store: the owner recorded on the transfers it runs. Its heartbeat tells
/// the others those transfers are in hand; once it lapses, any of them adopts the transfer and resumes it from its
/// checkpoint. New for every process (and every host in a test process).
/// </summary>
public sealed record TransferInstance(string Id)
{
    public static TransferInstance New() => new($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
}

/// <summary>
/// A plan PlanTransfer stored for StartTransfer: whose, what was asked, the answer, until when it may be started, and its
/// quote (null for a plan stored before plans had quotes).
/// </summary>
public sealed record StoredTransferPlan(string PlanId, string TenantId, TransferSpec Spec, PlanTransferResponse Response, DateTimeOffset ExpiresAt,
    Quote? Quote = null)
{
    /// <summary>How long a store keeps a plan after it expired (so StartTransfer can say PLAN_EXPIRED, not NOT_FOUND).</summary>
    public static readonly TimeSpan KeptAfterExpiry = TimeSpan.FromDays(1);

    /// <summary>When a store drops the plan.</summary>
    public DateTimeOffset DropAt => ExpiresAt + KeptAfterExpiry;
}

/// <summary>
/// Transfers as last written (the whole TransferJob message), newest first per tenant; stored plans; StartTransfer's
/// request ids; and who runs each unfinished transfer. A write of a transfer carries the events that announce it and
/// commits with them (the transfer outbox), so a final state and its <c>transfer.usage</c> event cannot part ways.
/// Only the owner writes a transfer: once another process has adopted it, the old owner's writes are refused
/// (<see cref="TransferOwnershipLostException"/>), so a process that was merely slow cannot overwrite the new run.
/// </summary>
public interface ITransferStore
{
    /// <summary>
    /// Writes the plan with its quote and appends <paramref name="events"/> (its <c>transfer.quote.issued</c>) to the outbox
    /// in one commit. Returns the outbox entry ids (none in memory) for <see cref="EventOutbox.DeliverAsync"/>.
    /// </summary>
    Task<IReadOnlyList<RedisValue>> PutPlanAsync(StoredTransferPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct);

    Task<StoredTransferPlan?> GetPlanAsync(string planId, CancellationToken ct);

    /// <summary>
    /// Keeps the quote of a started transfer for as long as the transfer (a plan and its copy of the quote expire; the
    /// transfer's usage names the quote's lines whenever it ends).
    /// </summary>
    Task KeepQuoteAsync(Quote quote, CancellationToken ct);

    /// <summary>A quote kept by <see cref="KeepQuoteAsync"/>, or null.</summary>
    Task<Quote?> GetQuoteAsync(string quoteId, CancellationToken ct);

    /// <summary>Claims <paramref name="requestId"/> for <paramref name="transferId"/>; returns the transfer id that holds it (the given one if new).</summary>
    Task<string> ClaimRequestAsync(string tenant, string requestId, string transferId, CancellationToken ct);

    /// <summary>
    /// Writes the transfer and appends <paramref name="events"/> to the outbox in one commit; while it is not final this
    /// instance owns it. Returns the outbox entry ids (none in memory) for <see cref="EventOutbox.DeliverAsync"/>.
    /// </summary>
    /// <exception cref="TransferOwnershipLostException">Another instance owns the transfer now.</exception>
    Task<IReadOnlyList<RedisValue>> PutAsync(TransferJob job, IReadOnlyList<PendingEvent> events, CancellationToken ct);

    Task<TransferJob?> GetAsync(string transferId, CancellationToken ct);

    /// <summary>Every transfer of <paramref name="tenant"/> (all tenants when null), newest first.</summary>
    Task<IReadOnlyList<TransferJob>> ListAsync(string? tenant, CancellationToken ct);

    /// <summary>Ids of the transfers not yet final, whoever runs them.</summary>
    Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken ct);

    /// <summary>Says this instance is alive for <paramref name="ttl"/> from now.</summary>
    Task BeatAsync(TimeSpan ttl, CancellationToken ct);

    /// <summary>
    /// Makes this instance the owner of an unfinished transfer whose owner's heartbeat has lapsed (or that has none), or
    /// that is this instance's own (a run it stopped when the store failed): compare-and-set, so of several processes
    /// only one adopts it. False when it is final or owned by another live instance. The caller checks that the
    /// transfer does not run here.
    /// </summary>
    Task<bool> AdoptAsync(string transferId, CancellationToken ct);

    /// <summary>Records that the transfer is to stop (CancelTransfer on any process); its owner sees it at its next progress tick.</summary>
    Task RequestCancelAsync(string transferId, CancellationToken ct);

    Task<bool> CancelRequestedAsync(string transferId, CancellationToken ct);
}

/// <summary>Another process adopted the transfer after this one's heartbeat lapsed; this one must stop running it.</summary>
public sealed class TransferOwnershipLostException(string transferId)
    : Exception($"transfer {transferId} is run by another process now (this one's heartbeat lapsed)")
{
    public string TransferId { get; } = transferId;
}

/// <summary>Transfers in this process: they live and die with it, so nothing is ever adopted.</summary>
public sealed class MemoryTransferStore(TimeProvider time, TransferInstance instance) : ITransferStore
{
    private readonly Dictionary<string, TransferJob> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _beats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredTransferPlan> _plans = new(StringComparer.Ordinal);
    // Plans in the order stored, dropped from the front once past DropAt (as Redis expires their keys): a process stores
    // every plan with the same lifetime, so the front is the first to go (a read past DropAt finds none either way).
    private readonly Queue<(string PlanId, DateTimeOffset DropAt)> _planDrops = new();
    private readonly Dictionary<string, Quote> _quotes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> _requests = [];
    private readonly HashSet<string> _cancels = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task<IReadOnlyList<RedisValue>> PutPlanAsync(StoredTransferPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        lock (_gate)
        {
            DropPlans();
            _plans[plan.PlanId] = Copy(plan);
            _planDrops.Enqueue((plan.PlanId, plan.DropAt));
        }
        return Task.FromResult<IReadOnlyList<RedisValue>>([]);
    }

    public Task<StoredTransferPlan?> GetPlanAsync(string planId, CancellationToken ct)
    {
        lock (_gate)
        {
            DropPlans();
            return Task.FromResult(_plans.TryGetValue(planId, out var plan) && plan.DropAt > time.GetUtcNow() ? Copy(plan) : null);
        }
    }

    private void DropPlans()
    {
        var now = time.GetUtcNow();
        while (_planDrops.TryPeek(out var next) && next.DropAt <= now)
        {
            _planDrops.Dequeue();
            if (_plans.TryGetValue(next.PlanId, out var stored) && stored.DropAt <= now) _plans.Remove(next.PlanId);
        }
    }

    private static StoredTransferPlan Copy(StoredTransferPlan plan) =>
        plan with { Spec = plan.Spec.Clone(), Response = plan.Response.Clone(), Quote = plan.Quote?.Clone() };

    public Task KeepQuoteAsync(Quote quote, CancellationToken ct)
    {
        lock (_gate) _quotes[quote.QuoteId] = quote.Clone();
        return Task.CompletedTask;
    }

    public Task<Quote?> GetQuoteAsync(string quoteId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_quotes.TryGetValue(quoteId, out var quote) ? quote.Clone() : null);
    }

    public Task<string> ClaimRequestAsync(string tenant, string requestId, string transferId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_requests.TryAdd((tenant, requestId), transferId) ? transferId : _requests[(tenant, requestId)]);
    }

    public Task<IReadOnlyList<RedisValue>> PutAsync(TransferJob job, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_owners.TryGetValue(job.TransferId, out var owner) && owner != instance.Id) throw new TransferOwnershipLostException(job.TransferId);
            _jobs[job.TransferId] = job.Clone();
            if (TransferStates.IsFinal(job.Progress.State)) _owners.Remove(job.TransferId);
            else _owners[job.TransferId] = instance.Id;
        }
        return Task.FromResult<IReadOnlyList<RedisValue>>([]);
    }

    public Task<TransferJob?> GetAsync(string transferId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_jobs.TryGetValue(transferId, out var job) ? job.Clone() : null);
    }

    public Task<IReadOnlyList<TransferJob>> ListAsync(string? tenant, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<TransferJob>>([.. _jobs.Values.Where(j => tenant is null || j.TenantId == tenant)
                .OrderByDescending(j => j.CreatedAt.ToDateTimeOffset()).ThenByDescending(j => j.TransferId, StringComparer.Ordinal).Select(j => j.Clone())]);
    }

    public Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<string>>([.. _owners.Keys]);
    }

    public Task BeatAsync(TimeSpan ttl, CancellationToken ct)
    {
        lock (_gate) _beats[instance.Id] = time.GetUtcNow() + ttl;
        return Task.CompletedTask;
    }

    public Task<bool> AdoptAsync(string transferId, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(transferId, out var job) || TransferStates.IsFinal(job.Progress.State)) return Task.FromResult(false);
            if (_owners.TryGetValue(transferId, out var owner) && owner != instance.Id && _beats.TryGetValue(owner, out var until) && until > time.GetUtcNow())
                return Task.FromResult(false);
            _owners[transferId] = instance.Id;
            return Task.FromResult(true);
        }
    }

    public Task RequestCancelAsync(string transferId, CancellationToken ct)
    {
        lock (_gate) _cancels.Add(transferId);
        return Task.CompletedTask;
    }

    public Task<bool> CancelRequestedAsync(string transferId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_cancels.Contains(transferId));
    }
}

/// <summary>
/// Transfers in Redis (keys under <c>sky:transfer:</c>): <c>job:&lt;id&gt;</c> the transfer (protobuf), sorted sets per
/// tenant (<c>jobs:&lt;tenant&gt;</c>) and for all (<c>jobs</c>) by creation time, <c>unfinished</c> the set of transfers not
/// final, <c>owner:&lt;id&gt;</c> the instance running one, <c>instance:&lt;instance&gt;</c> that instance's heartbeat (a key that
/// lives while it is refreshed, so Redis's clock decides when it lapsed), <c>plan:&lt;id&gt;</c> stored plans with their quotes (expiring a day
/// after the plan does), <c>quote:&lt;id&gt;</c> the quotes of started transfers (kept, like the transfers), <c>request:&lt;tenant&gt;:&lt;id&gt;</c> request ids, <c>cancel:&lt;id&gt;</c> cancellations. Every write of a
/// transfer is one Lua script: the owner check, the transfer, its indexes and its outbox events.
/// </summary>
public sealed class RedisTransferStore(IConnectionMultiplexer redis, TransferInstance instance) : ITransferStore
{
    private const string Prefix = "sky:transfer:";
    private static RedisKey JobKey(string id) => Prefix + "job:" + id;
    private static RedisKey TenantKey(string tenant) => Prefix + "jobs:" + tenant;
    private static RedisKey OwnerKey(string id) => Prefix + "owner:" + id;
    private static RedisKey HeartbeatKey(string instance) => Prefix + "instance:" + instance;
    private static RedisKey PlanKey(string id) => Prefix + "plan:" + id;
    private static RedisKey QuoteKey(string id) => Prefix + "quote:" + id;
    private static RedisKey CancelKey(string id) => Prefix + "cancel:" + id;
    private static readonly RedisKey All = Prefix + "jobs";
    private static readonly RedisKey Unfinished = Prefix + "unfinished";
    private static readonly RedisKey Outbox = EventOutbox.Key(Sky.Hosting.Options.MeshService.Transfer.Name);

    // KEYS: plan, outbox. ARGV: tenant, spec, response, expires ms, quote (empty for none), key expiry ms, event count,
    // events (3 each).
    private const string PutPlanScript = EventOutbox.LuaAppend + """
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'tenant', ARGV[1], 'spec', ARGV[2], 'response', ARGV[3], 'expires', ARGV[4])
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'quote', ARGV[5]) end
        redis.call('PEXPIREAT', KEYS[1], ARGV[6])
        return sky_outbox(KEYS[2], 0, 8, tonumber(ARGV[7]))
        """;

    public async Task<IReadOnlyList<RedisValue>> PutPlanAsync(StoredTransferPlan plan, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        var args = new List<RedisValue>
        {
            plan.TenantId, plan.Spec.ToByteArray(), plan.Response.ToByteArray(), plan.ExpiresAt.ToUnixTimeMilliseconds(),
            plan.Quote is null ? RedisValue.EmptyString : plan.Quote.ToByteArray(), plan.DropAt.ToUnixTimeMilliseconds(), events.Count,
        };
        EventOutbox.AppendArguments(args, events);
        var ids = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(PutPlanScript, [PlanKey(plan.PlanId), Outbox], [.. args]))!;
        return [.. ids.Select(r => (RedisValue)r)];
    }

    public async Task<StoredTransferPlan?> GetPlanAsync(string planId, CancellationToken ct)
    {
        var fields = (await redis.GetDatabase().HashGetAllAsync(PlanKey(planId))).ToDictionary(e => (string)e.Name!, e => e.Value);
        if (!fields.TryGetValue("response", out var response)) return null;
        var quote = fields.TryGetValue("quote", out var q) && !q.IsNullOrEmpty ? Quote.Parser.ParseFrom((byte[])q!) : null;
        return new StoredTransferPlan(planId, (string)fields["tenant"]!, TransferSpec.Parser.ParseFrom((byte[])fields["spec"]!),
            PlanTransferResponse.Parser.ParseFrom((byte[])response!), DateTimeOffset.FromUnixTimeMilliseconds((long)fields["expires"]), quote);
    }

    public Task KeepQuoteAsync(Quote quote, CancellationToken ct) => redis.GetDatabase().StringSetAsync(QuoteKey(quote.QuoteId), quote.ToByteArray());

    public async Task<Quote?> GetQuoteAsync(string quoteId, CancellationToken ct)
    {
        var bytes = await redis.GetDatabase().StringGetAsync(QuoteKey(quoteId));
        return bytes.IsNull ? null : Quote.Parser.ParseFrom((byte[])bytes!);
    }

    public async Task<string> ClaimRequestAsync(string tenant, string requestId, string transferId, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        RedisKey key = Prefix + "request:" + tenant + ":" + requestId;
        if (await db.StringSetAsync(key, transferId, TimeSpan.FromDays(7), When.NotExists)) return transferId;
        return (string)(await db.StringGetAsync(key))!;
    }

    // KEYS: job, tenant index, all index, unfinished set, owner, outbox. ARGV: id, job bytes, created ms, final (0|1),
    // instance, event count, events (3 each).
    private const string PutScript = EventOutbox.LuaAppend + """
        local owner = redis.call('GET', KEYS[5])
        if owner and owner ~= ARGV[5] then return {'lost'} end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
        if ARGV[4] == '1' then
          redis.call('SREM', KEYS[4], ARGV[1])
          redis.call('DEL', KEYS[5])
        else
          redis.call('SADD', KEYS[4], ARGV[1])
          redis.call('SET', KEYS[5], ARGV[5])
        end
        local ids = sky_outbox(KEYS[6], 0, 7, tonumber(ARGV[6]))
        return {'done', unpack(ids)}
        """;

    public async Task<IReadOnlyList<RedisValue>> PutAsync(TransferJob job, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        var args = new List<RedisValue>
        {
            job.TransferId, job.ToByteArray(), job.CreatedAt.ToDateTimeOffset().ToUnixTimeMilliseconds(),
            TransferStates.IsFinal(job.Progress.State) ? "1" : "0", instance.Id, events.Count,
        };
        EventOutbox.AppendArguments(args, events);
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(PutScript,
            [JobKey(job.TransferId), TenantKey(job.TenantId), All, Unfinished, OwnerKey(job.TransferId), Outbox], [.. args]))!;
        if ((string?)result[0] == "lost") throw new TransferOwnershipLostException(job.TransferId);
        return [.. result.Skip(1).Select(r => (RedisValue)r)];
    }

    public async Task<TransferJob?> GetAsync(string transferId, CancellationToken ct)
    {
        var bytes = await redis.GetDatabase().StringGetAsync(JobKey(transferId));
        return bytes.IsNull ? null : TransferJob.Parser.ParseFrom((byte[])bytes!);
    }

    public async Task<IReadOnlyList<TransferJob>> ListAsync(string? tenant, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var ids = await db.SortedSetRangeByRankAsync(tenant is null ? All : TenantKey(tenant), order: Order.Descending);
        if (ids.Length == 0) return [];
        var values = await db.StringGetAsync([.. ids.Select(id => JobKey((string)id!))]);
        return [.. values.Where(v => !v.IsNull).Select(v => TransferJob.Parser.ParseFrom((byte[])v!))];
    }

    public async Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken ct) =>
        [.. (await redis.GetDatabase().SetMembersAsync(Unfinished)).Select(v => (string)v!)];

    public Task BeatAsync(TimeSpan ttl, CancellationToken ct) =>
        redis.GetDatabase().StringSetAsync(HeartbeatKey(instance.Id), 1, ttl);

    // KEYS: unfinished set, owner. ARGV: id, this instance, heartbeat key prefix.
    private const string AdoptScript = """
        if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
        local owner = redis.call('GET', KEYS[2])
        if owner == ARGV[2] then return 1 end
        if owner and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    public async Task<bool> AdoptAsync(string transferId, CancellationToken ct) =>
        (long)(await redis.GetDatabase().ScriptEvaluateAsync(AdoptScript, [Unfinished, OwnerKey(transferId)],
            [transferId, instance.Id, Prefix + "instance:"]))! == 1;

    public Task RequestCancelAsync(string transferId, CancellationToken ct) =>
        redis.GetDatabase().StringSetAsync(CancelKey(transferId), 1, TimeSpan.FromDays(7));

    public Task<bool> CancelRequestedAsync(string transferId, CancellationToken ct) =>
        redis.GetDatabase().KeyExistsAsync(CancelKey(transferId));
}

/// <summary>The lifecycle rules of <see cref="TransferState"/>.</summary>
public static class TransferStates
{
    public static bool IsFinal(TransferState state) => state is TransferState.Succeeded or TransferState.Failed or TransferState.Cancelled;
}
