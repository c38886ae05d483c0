using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Sky.Directory.Engine;
using Sky.Directory.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using StackExchange.Redis;

namespace Sky.Directory.Store;

/// <summary>
/// The directory in Redis, shared by every host that points at it. A Lua script checks a commit's
/// conditions, takes the next revisions from one counter, writes the offers and leases, and appends
/// each change to a stream under the id "&lt;revision&gt;-0" (so the stream is the revision history),
/// then publishes the revision. Each host tails the stream (woken by the publish, polling once a
/// second in case a message is lost) and applies changes to its view in order; a host that falls
/// behind the trimmed stream reloads a snapshot. StackExchange.Redis has no blocking XREAD, hence
/// publish + XRANGE.
///
/// Keys (prefix sky:dir:): rev (counter), offers (id -> Offer bytes, revision unset), revs (id -> revision),
/// leaseof (id -> lease id), lease (lease id -> "offerId|provider|ttlMs"), leases (zset lease id by expiry ms),
/// and outside the prefix the directory's outbox, sky:outbox:directory (<see cref="EventOutbox"/>),
/// log (stream), grid:egress / grid:throughput (key -> bytes), gridrev (kind -> revision), seeded.
/// </summary>
public sealed class RedisDirectoryLog(IConnectionMultiplexer redis, TimeProvider time, DirectoryOptions options, ILogger<RedisDirectoryLog> logger) : IDirectoryLog
{
    private const string Prefix = "sky:dir:";
    private static readonly RedisKey Rev = Prefix + "rev", Offers = Prefix + "offers", Revs = Prefix + "revs", LeaseOf = Prefix + "leaseof",
        Lease = Prefix + "lease", Leases = Prefix + "leases", Stream = Prefix + "log", GridRev = Prefix + "gridrev", Seeded = Prefix + "seeded",
        OfferBook = Prefix + "book:offers", EgressBook = Prefix + "book:egress";
    private static readonly RedisKey Outbox = EventOutbox.Key(Sky.Hosting.Options.MeshService.Directory.Name);
    private static readonly RedisChannel Notify = RedisChannel.Literal(Prefix + "notify");
    private const int Stride = 10;
    private const int PullBatch = 5000;

    // KEYS: rev offers revs leaseof lease leases log outbox book. ARGV: n, maxlen, channel, then n x
    // [type id expectedRev body leaseId provider ttlMs expiresMs dueMs bookBody], then k and k events (EventOutbox.AppendArguments).
    // Returns {first, last, outbox entry ids...} or {-1, index}.
    private const string CommitScript = EventOutbox.LuaAppend + PriceBook.LuaAppend + """
        local n = tonumber(ARGV[1])
        for i = 0, n - 1 do
          local b = 3 + i * 10
          local id, expected, due = ARGV[b + 2], tonumber(ARGV[b + 3]), ARGV[b + 9]
          local cur = tonumber(redis.call('HGET', KEYS[3], id) or '0')
          if expected >= 0 and cur ~= expected then return {-1, i} end
          if due ~= '' then
            local lease = redis.call('HGET', KEYS[4], id)
            if not lease then return {-1, i} end
            local score = redis.call('ZSCORE', KEYS[6], lease)
            if not score or tonumber(score) > tonumber(due) then return {-1, i} end
          end
        end
        local rev = tonumber(redis.call('GET', KEYS[1]) or '0')
        local first = rev + 1
        for i = 0, n - 1 do
          local b = 3 + i * 10
          local t, id, body, leaseId = ARGV[b + 1], ARGV[b + 2], ARGV[b + 4], ARGV[b + 5]
          rev = rev + 1
          local old = redis.call('HGET', KEYS[4], id)
          if old then
            redis.call('ZREM', KEYS[6], old)
            redis.call('HDEL', KEYS[5], old)
            redis.call('HDEL', KEYS[4], id)
          end
          if t == '1' or t == '2' then
            redis.call('HSET', KEYS[2], id, body)
            redis.call('HSET', KEYS[3], id, rev)
            if leaseId ~= '' then
              redis.call('ZADD', KEYS[6], ARGV[b + 8], leaseId)
              redis.call('HSET', KEYS[5], leaseId, id .. '|' .. ARGV[b + 6] .. '|' .. ARGV[b + 7])
              redis.call('HSET', KEYS[4], id, leaseId)
            end
            redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[2], rev .. '-0', 't', t, 'id', id, 'b', body)
            sky_book(KEYS[9], id, rev, ARGV[b + 10])
          else
            redis.call('HDEL', KEYS[2], id)
            redis.call('HDEL', KEYS[3], id)
            redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[2], rev .. '-0', 't', t, 'id', id)
            sky_book(KEYS[9], id, rev, '')
          end
        end
        redis.call('SET', KEYS[1], rev)
        local k = 4 + n * 10
        local ids = sky_outbox(KEYS[8], first, k + 1, tonumber(ARGV[k]))
        redis.call('PUBLISH', ARGV[3], rev)
        return {first, rev, unpack(ids)}
        """;

    // KEYS: lease leases. ARGV: nowMs, isOperator (1/0), provider, lease ids... Returns ttlMs per lease, 0 = not alive.
    private const string RenewScript = """
        local now = tonumber(ARGV[1])
        local out = {}
        for i = 4, #ARGV do
          local entry = redis.call('HGET', KEYS[1], ARGV[i])
          local ttl = 0
          if entry then
            local offer, provider, ms = string.match(entry, '^(.*)|(.*)|(%d+)$')
            local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
            if (ARGV[2] == '1' or provider == ARGV[3]) and score and tonumber(score) > now then
              redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ms), ARGV[i])
              ttl = tonumber(ms)
            end
          end
          out[#out + 1] = ttl
        end
        return out
        """;

    // KEYS: grid gridrev rev log outbox book. ARGV: kind, maxlen, channel, replace providers count r, r providers, k and k
    // events (EventOutbox.AppendArguments), then key/value pairs. Returns {removed, revision, outbox entry ids...}.
    // Egress entries are versioned in the price book (throughput is not a price).
    private const string GridScript = EventOutbox.LuaAppend + PriceBook.LuaAppend + """
        local r = tonumber(ARGV[4])
        local removed = {}
        local rev = redis.call('INCR', KEYS[3])
        local book = ARGV[1] == 'Egress'
        if r > 0 then
          local keys = redis.call('HKEYS', KEYS[1])
          for _, k in ipairs(keys) do
            for j = 5, 4 + r do
              local p = ARGV[j] .. '/'
              if string.sub(k, 1, #p) == p then
                redis.call('HDEL', KEYS[1], k)
                removed[#removed + 1] = k
                break
              end
            end
          end
        end
        local k = tonumber(ARGV[5 + r])
        for j = 6 + r + k * 3, #ARGV, 2 do
          redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1])
          if book then sky_book(KEYS[6], ARGV[j], rev, '\1' .. ARGV[j + 1]) end
        end
        if book then
          for _, key in ipairs(removed) do
            if redis.call('HEXISTS', KEYS[1], key) == 0 then sky_book(KEYS[6], key, rev, '') end
          end
        end
        redis.call('HSET', KEYS[2], ARGV[1], rev)
        redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], rev .. '-0', 't', '0', 'id', '')
        local ids = sky_outbox(KEYS[5], rev, 6 + r, k)
        redis.call('PUBLISH', ARGV[3], rev)
        return {#removed, rev, unpack(ids)}
        """;

    private readonly SemaphoreSlim _pull = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Action<IReadOnlyList<LogEntry>, long> _load = (_, _) => { };
    private Action<IReadOnlyList<LogEntry>, long> _apply = (_, _) => { };
    private long _applied;
    private Task _tail = Task.CompletedTask;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private ChannelMessageQueue? _subscription;

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey GridKey(GridKind kind) => Prefix + (kind == GridKind.Egress ? "grid:egress" : "grid:throughput");

    public async Task StartAsync(Action<IReadOnlyList<LogEntry>, long> load, Action<IReadOnlyList<LogEntry>, long> apply, CancellationToken ct)
    {
        (_load, _apply) = (load, apply);
        if (_subscription is null)
        {
            _subscription = await redis.GetSubscriber().SubscribeAsync(Notify);
            _subscription.OnMessage(_ => Wake());
        }
        await LoadSnapshotAsync();
        _tail = Task.Run(TailAsync, CancellationToken.None);
    }

    private void Wake()
    {
        try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>Reads the revision and every offer in one MULTI, so the snapshot is consistent.</summary>
    private async Task LoadSnapshotAsync()
    {
        var tx = Db.CreateTransaction();
        var rev = tx.StringGetAsync(Rev);
        var offers = tx.HashGetAllAsync(Offers);
        var revs = tx.HashGetAllAsync(Revs);
        await tx.ExecuteAsync();
        var revisions = (await revs).ToDictionary(e => (string)e.Name!, e => (long)e.Value, StringComparer.Ordinal);
        var entries = new List<LogEntry>();
        foreach (var e in await offers)
        {
            var offer = Offer.Parser.ParseFrom((byte[])e.Value!);
            offer.Revision = revisions.GetValueOrDefault((string)e.Name!);
            entries.Add(new LogEntry(offer.Revision, OfferChangeType.Registered, offer.OfferId, offer));
        }
        var revision = (long?)await rev ?? 0;
        _load(entries, revision);
        Interlocked.Exchange(ref _applied, revision);
    }

    private async Task TailAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), _stop.Token);
                await PullAsync(long.MaxValue, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning(ex, "directory: reading the change stream failed; retrying");
            }
        }
    }

    /// <summary>Applies stream entries after the applied revision until <paramref name="until"/> is reached or the stream ends.</summary>
    private async Task PullAsync(long until, CancellationToken ct)
    {
        if (Interlocked.Read(ref _applied) >= until) return;
        await _pull.WaitAsync(ct);
        try
        {
            while (_applied < until)
            {
                var entries = await Db.StreamRangeAsync(Stream, $"{_applied + 1}-0", "+", PullBatch);
                if (entries.Length == 0) return;
                if (Revision(entries[0].Id) != _applied + 1)
                {
                    logger.LogWarning("directory: this host fell behind the retained history at revision {Revision}; reloading", _applied);
                    await LoadSnapshotAsync();
                    continue;
                }
                var batch = new List<LogEntry>(entries.Length);
                foreach (var entry in entries) batch.Add(Decode(entry));
                var last = Revision(entries[^1].Id);
                _apply(batch, last);
                Interlocked.Exchange(ref _applied, last);
                if (entries.Length < PullBatch) return;
            }
        }
        finally { _pull.Release(); }
    }

    private static long Revision(RedisValue streamId)
    {
        var id = (string)streamId!;
        return long.Parse(id.AsSpan(0, id.IndexOf('-')), CultureInfo.InvariantCulture);
    }

    private static LogEntry Decode(StreamEntry entry)
    {
        var revision = Revision(entry.Id);
        var type = (OfferChangeType)(int)entry["t"];
        var id = (string)entry["id"]!;
        if (type is not (OfferChangeType.Registered or OfferChangeType.Updated)) return new LogEntry(revision, type, id, null);
        var offer = Offer.Parser.ParseFrom((byte[])entry["b"]!);
        offer.Revision = revision;
        return new LogEntry(revision, type, id, offer);
    }

    public async Task<CommitResult> CommitAsync(IReadOnlyList<LogWrite> writes, IReadOnlyList<PendingEvent> announce, CancellationToken ct)
    {
        var args = new List<RedisValue>(4 + writes.Count * Stride + announce.Count * 3) { writes.Count, options.HistoryCapacity, Prefix + "notify" };
        foreach (var w in writes)
        {
            args.Add((int)w.Type);
            args.Add(w.OfferId);
            args.Add(w.ExpectedRevision);
            args.Add(w.Offer is { } offer ? offer.ToByteArray() : RedisValue.EmptyString);
            args.Add(w.Lease?.LeaseId ?? "");
            args.Add(w.Lease?.Provider ?? "");
            args.Add(w.Lease is null ? 0 : (long)w.Lease.Ttl.TotalMilliseconds);
            args.Add(w.Lease?.ExpiresAt.ToUnixTimeMilliseconds() ?? 0);
            args.Add(w.OnlyIfLeaseDue is { } due ? due.ToUnixTimeMilliseconds() : RedisValue.EmptyString);
            args.Add(w.Offer is { } priced ? PriceBook.OfferBody(priced) : RedisValue.EmptyString);
        }
        args.Add(announce.Count);
        EventOutbox.AppendArguments(args, announce);
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(CommitScript, [Rev, Offers, Revs, LeaseOf, Lease, Leases, Stream, Outbox, OfferBook], [.. args]))!;
        var first = (long)result[0];
        if (first < 0) return CommitResult.Conflict((int)result[1]);
        for (var i = 0; i < writes.Count; i++)
            if (writes[i].Offer is { } put) put.Revision = first + i;
        var last = (long)result[1];
        await PullAsync(last, ct);
        return new CommitResult(first, last, OutboxEntries: OutboxIds(result));
    }

    private static RedisValue[] OutboxIds(RedisResult[] result) => [.. result.Skip(2).Select(r => (RedisValue)r)];

    public async Task<Offer?> ReadOfferAsync(string offerId, CancellationToken ct)
    {
        var tx = Db.CreateTransaction();
        var body = tx.HashGetAsync(Offers, offerId);
        var rev = tx.HashGetAsync(Revs, offerId);
        await tx.ExecuteAsync();
        if ((await body).IsNull) return null;
        var offer = Offer.Parser.ParseFrom((byte[])(await body)!);
        offer.Revision = (long)await rev;
        return offer;
    }

    public async Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<string> leaseIds, Principal caller, DateTimeOffset now, CancellationToken ct)
    {
        if (leaseIds.Count == 0) return [];
        var args = new RedisValue[3 + leaseIds.Count];
        args[0] = now.ToUnixTimeMilliseconds();
        args[1] = caller.IsOperator ? "1" : "0";
        args[2] = caller.Kind == Sky.Common.V1.PrincipalKind.Provider ? caller.Scope : "\n";
        for (var i = 0; i < leaseIds.Count; i++) args[3 + i] = leaseIds[i];
        var ttls = (long[])(await Db.ScriptEvaluateAsync(RenewScript, [Lease, Leases], args))!;
        return [.. leaseIds.Select((id, i) => ttls[i] > 0
            ? new LeaseStatus { LeaseId = id, Alive = true, Ttl = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(ttls[i])) }
            : new LeaseStatus { LeaseId = id })];
    }

    public async Task<IReadOnlyList<DateTimeOffset?>> LeaseExpiriesAsync(IReadOnlyList<string> leaseIds, CancellationToken ct)
    {
        var scores = await Db.SortedSetScoresAsync(Leases, [.. leaseIds.Select(id => (RedisValue)id)]);
        return [.. scores.Select(s => s is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds((long)ms) : (DateTimeOffset?)null)];
    }

    public async Task<IReadOnlyList<(string LeaseId, string OfferId)>> DueLeasesAsync(DateTimeOffset now, int max, CancellationToken ct)
    {
        var due = await Db.SortedSetRangeByScoreAsync(Leases, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: max);
        if (due.Length == 0) return [];
        var entries = await Db.HashGetAsync(Lease, due);
        var result = new List<(string, string)>(due.Length);
        for (var i = 0; i < due.Length; i++)
        {
            if (entries[i].IsNull) continue;
            var text = (string)entries[i]!;
            result.Add(((string)due[i]!, text[..text.IndexOf('|')]));
        }
        return result;
    }

    public async Task<(int Removed, CommitResult Commit)> PutGridAsync(GridKind kind, IReadOnlyList<GridEntry> entries, IReadOnlySet<string> replaceProviders,
        IReadOnlyList<PendingEvent> announce, CancellationToken ct)
    {
        var args = new List<RedisValue>(6 + replaceProviders.Count + announce.Count * 3 + entries.Count * 2)
        {
            kind.ToString(), options.HistoryCapacity, Prefix + "notify", replaceProviders.Count,
        };
        args.AddRange(replaceProviders.Select(p => (RedisValue)p));
        args.Add(announce.Count);
        EventOutbox.AppendArguments(args, announce);
        foreach (var e in entries) { args.Add(e.Key); args.Add(e.Data); }
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(GridScript, [GridKey(kind), GridRev, Rev, Stream, Outbox, EgressBook], [.. args]))!;
        var revision = (long)result[1];
        await PullAsync(revision, ct);
        return ((int)result[0], new CommitResult(revision, revision, OutboxEntries: OutboxIds(result)));
    }

    public async Task<(IReadOnlyList<GridEntry> Entries, long Revision)> ReadGridAsync(GridKind kind, CancellationToken ct)
    {
        var tx = Db.CreateTransaction();
        var rev = tx.HashGetAsync(GridRev, kind.ToString());
        var all = tx.HashGetAllAsync(GridKey(kind));
        await tx.ExecuteAsync();
        var entries = (await all).Select(e =>
        {
            var key = (string)e.Name!;
            return new GridEntry(key, key[..key.IndexOf('/')], (byte[])e.Value!);
        }).ToList();
        return (entries, (long?)await rev ?? 0);
    }

    public async Task<IReadOnlyList<PricePoint?>> PricesAtAsync(PriceBookKind kind, long revision, IReadOnlyList<string> items, CancellationToken ct)
    {
        var key = kind == PriceBookKind.Offer ? OfferBook : EgressBook;
        var upTo = revision.ToString("D20", CultureInfo.InvariantCulture);
        var reads = items.Select(item => Db.SortedSetRangeByValueAsync(key, item + "\0", item + "\0" + upTo + "\u0001", Exclude.Stop, Order.Descending, 0, 1)).ToList();
        var points = new PricePoint?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var found = await reads[i];
            if (found.Length == 0) continue;
            // "item NUL revision(20) NUL body"; an empty body is a removal.
            var member = (byte[])found[0]!;
            var at = System.Text.Encoding.UTF8.GetByteCount(items[i]) + 1;
            var body = member.AsSpan(at + 21);
            if (body.Length > 0)
                points[i] = new PricePoint(long.Parse(System.Text.Encoding.ASCII.GetString(member, at, 20), CultureInfo.InvariantCulture), body.ToArray());
        }
        return points;
    }

    public Task<bool> ClaimSeedAsync(CancellationToken ct) => Db.StringSetAsync(Seeded, time.GetUtcNow().ToString("O"), when: When.NotExists);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_subscription is not null) await _subscription.UnsubscribeAsync();
        await _tail;
        _stop.Dispose();
    }
}
