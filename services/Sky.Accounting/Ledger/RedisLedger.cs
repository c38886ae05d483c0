using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Sky.Accounting.Ledger;

/// <summary>
/// The ledger in Redis, shared by every host on it and durable with AOF. One Lua script per batch (of up to
/// <see cref="ScriptBatch"/> transactions) checks each transaction's key and period and writes it whole: the record,
/// its index entries and its balance increments, so a retry doubles nothing and a crash leaves no half transaction.
///
/// Keys, under <c>&lt;prefix&gt;ledger:</c>: <c>tx</c> (hash: id -> record, <see cref="LedgerRecordCodec"/>),
/// <c>seq</c> (last posting sequence), <c>balances</c> (hash: account -> nanos, HINCRBY), <c>closed</c> (hash: period ->
/// unix ms it closed), <c>periods</c> (set of periods with a posting), <c>ix:&lt;index&gt;</c> (lists of ids in posting order, <see cref="LedgerIndex"/>). Indexes are
/// lists, not sorted sets, because they are only ever appended to in sequence order: RPUSH is cheaper and smaller than
/// ZADD, a script pushes each index once per batch, and a position stays valid for good, so pages continue from one.
/// Balances are 64-bit: an account past ±9.2·10^18 nanos ($9.2 billion) would make HINCRBY fail part-way through a
/// script, which Redis does not roll back; the memory store refuses such a transaction whole.
/// </summary>
public sealed class RedisLedger(IConnectionMultiplexer redis, TimeProvider time, string prefix = "sky:accounting:") : ILedger
{
    /// <summary>
    /// Transactions per script run: bounds the time Redis spends in one script (about a millisecond) and keeps the
    /// argument array (about 18 values of 16 bytes per transaction) under the large-object heap's 85 KB; at 1,000 a
    /// full GC came every few batches.
    /// </summary>
    public const int ScriptBatch = 200;
    private const int ReadChunk = 1000;

    private readonly RedisKey _tx = prefix + "ledger:tx", _seq = prefix + "ledger:seq", _balances = prefix + "ledger:balances", _closed = prefix + "ledger:closed",
        _periods = prefix + "ledger:periods";
    private readonly string _index = prefix + "ledger:ix:";

    // KEYS: tx seq balances closed periods. ARGV: index key prefix, n, then n x [id, record, period, k, k index names, m, m x (account, nanos)].
    // Returns a code per transaction: 0 posted, 1 duplicate, 2 period closed. Appends field 8 (sequence, fixed64: tag byte 65) to each record.
    // To keep Redis calls per transaction to one (HSETNX, which is the duplicate check too), it looks each period up
    // once, collects the ids per index and pushes each index once at the end, in posting order, and sums the amounts per
    // account before HINCRBY while the sums are exact in Lua's doubles (below 2^53), applying them early otherwise.
    private const string PostScript = """
        local exact = 9007199254740992
        local sums, accounts = {}, {}
        local function add(account, text)
          local a = tonumber(text)
          local s = sums[account]
          if s == nil then
            s = 0
            accounts[#accounts + 1] = account
          end
          if math.abs(a) >= exact then
            redis.call('HINCRBY', KEYS[3], account, text)
          elseif math.abs(s + a) >= exact then
            redis.call('HINCRBY', KEYS[3], account, string.format('%d', s))
            s = a
          else
            s = s + a
          end
          sums[account] = s
        end
        local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
        local out, lists, names, closed = {}, {}, {}, {}
        local p = 3
        for i = 1, tonumber(ARGV[2]) do
          local id, period, k = ARGV[p], ARGV[p + 2], tonumber(ARGV[p + 3])
          local m = tonumber(ARGV[p + 4 + k])
          local e = p + 5 + k
          if closed[period] == nil then
            closed[period] = redis.call('HEXISTS', KEYS[4], period) == 1
            if not closed[period] then redis.call('SADD', KEYS[5], period) end
          end
          if closed[period] then
            out[i] = (redis.call('HEXISTS', KEYS[1], id) == 1) and 1 or 2
          elseif redis.call('HSETNX', KEYS[1], id, ARGV[p + 1] .. struct.pack('<Bi8', 65, seq + 1)) == 0 then
            out[i] = 1
          else
            seq = seq + 1
            for j = p + 4, p + 3 + k do
              local ids = lists[ARGV[j]]
              if not ids then
                ids = {}
                lists[ARGV[j]] = ids
                names[#names + 1] = ARGV[j]
              end
              ids[#ids + 1] = id
            end
            for j = e, e + 2 * m - 1, 2 do add(ARGV[j], ARGV[j + 1]) end
            out[i] = 0
          end
          p = e + 2 * m
        end
        for _, name in ipairs(names) do
          local ids = lists[name]
          for from = 1, #ids, 500 do
            redis.call('RPUSH', ARGV[1] .. name, unpack(ids, from, math.min(from + 499, #ids)))
          end
        end
        for _, account in ipairs(accounts) do
          redis.call('HINCRBY', KEYS[3], account, string.format('%d', sums[account]))
        end
        redis.call('SET', KEYS[2], string.format('%d', seq))
        return out
        """;

    // KEYS: index, tx. ARGV: from, to (positions, inclusive; negative 'to' counts from the end as LRANGE does).
    // Returns {position of the first id, records...}.
    private const string ReadScript = """
        local from = tonumber(ARGV[1])
        if from < 0 then from = math.max(0, redis.call('LLEN', KEYS[1]) + from) end
        local ids = redis.call('LRANGE', KEYS[1], from, ARGV[2])
        if #ids == 0 then return {from} end
        local bodies = redis.call('HMGET', KEYS[2], unpack(ids))
        table.insert(bodies, 1, from)
        return bodies
        """;

    private IDatabase Db => redis.GetDatabase();

    public async Task<IReadOnlyList<PostResult>> PostAsync(IReadOnlyList<LedgerTransaction> transactions, CancellationToken ct)
    {
        var prepared = LedgerValidation.Prepare(transactions, time.GetUtcNow());
        await CheckCorrectionsAsync(prepared);
        var results = new PostResult[prepared.Count];
        // One chunk at a time, so chunks run in batch order whatever the connection does (a retried or re-sent script
        // could otherwise overtake the next one and turn which of two equal keys counts as the duplicate).
        for (var from = 0; from < prepared.Count; from += ScriptBatch)
        {
            ct.ThrowIfCancellationRequested();
            var count = Math.Min(ScriptBatch, prepared.Count - from);
            var codes = (long[])(await Db.ScriptEvaluateAsync(PostScript, [_tx, _seq, _balances, _closed, _periods], Arguments(prepared, from, count)))!;
            for (var i = 0; i < count; i++)
                results[from + i] = new PostResult(prepared[from + i].Id, codes[i] switch
                {
                    0 => PostOutcome.Posted,
                    1 => PostOutcome.Duplicate,
                    _ => PostOutcome.PeriodClosed,
                });
        }
        return results;
    }

    /// <summary>The post script's arguments for <paramref name="count"/> transactions from <paramref name="from"/>, in one array sized exactly.</summary>
    private RedisValue[] Arguments(IReadOnlyList<PreparedTransaction> prepared, int from, int count)
    {
        var indexes = new List<string>[count];
        var length = 2;
        for (var i = 0; i < count; i++)
        {
            indexes[i] = LedgerIndex.Of(prepared[from + i].Stored);
            length += 5 + indexes[i].Count + 2 * prepared[from + i].Stored.Entries.Count;
        }
        var args = new RedisValue[length];
        var a = 0;
        args[a++] = _index;
        args[a++] = count;
        for (var i = 0; i < count; i++)
        {
            var (id, tx) = prepared[from + i];
            args[a++] = id;
            args[a++] = LedgerRecordCodec.Encode(tx);
            args[a++] = tx.PeriodId;
            args[a++] = indexes[i].Count;
            foreach (var name in indexes[i]) args[a++] = name;
            args[a++] = tx.Entries.Count;
            foreach (var e in tx.Entries)
            {
                args[a++] = e.Account;
                args[a++] = e.AmountNanos;
            }
        }
        return args;
    }

    /// <summary>
    /// A correction must name a transaction posted by an earlier call. Checked before the first script runs, which is
    /// sound because transactions are never removed: one that exists now exists when the script runs.
    /// </summary>
    private async Task CheckCorrectionsAsync(IReadOnlyList<PreparedTransaction> prepared)
    {
        var lookups = new List<(int Index, Task<bool> Exists)>();
        for (var i = 0; i < prepared.Count; i++)
            if (prepared[i].Stored.Corrects is { } corrected) lookups.Add((i, Db.HashExistsAsync(_tx, corrected)));
        foreach (var (i, exists) in lookups)
            if (!await exists)
                throw new InvalidTransactionException(i, prepared[i].Stored.IdempotencyKey, $"corrects {prepared[i].Stored.Corrects}, which has not been posted");
    }

    public async Task<LedgerTransaction?> GetAsync(string transactionId, CancellationToken ct)
    {
        if (!LedgerTransaction.IsId(transactionId)) return null;
        var body = await Db.HashGetAsync(_tx, transactionId);
        return body.IsNull ? null : LedgerRecordCodec.Decode((byte[])body!);
    }

    public async Task<LedgerPage> QueryAsync(LedgerQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var size = LedgerIndex.PageSize(query);
        var before = LedgerPageToken.Decode(query);
        var index = LedgerIndex.For(query);
        var page = new List<LedgerTransaction>(Math.Min(size, 64));
        var chunk = Math.Min(ReadChunk, size + 1);
        while (before is not <= 0)
        {
            ct.ThrowIfCancellationRequested();
            // The first page reads the newest `chunk` ids (a negative start counts from the end); later ones end below `before`.
            var (first, bodies) = before is { } b
                ? await ReadAsync(index, Math.Max(0, b - chunk), b - 1)
                : await ReadAsync(index, -chunk, -1);
            for (var i = bodies.Count - 1; i >= 0; i--)
            {
                // Same rule as the memory store: a full page has a next one when the index holds anything older.
                if (page.Count == size) return new LedgerPage(page, LedgerPageToken.Issue(query, first + i + 1));
                var tx = LedgerRecordCodec.Decode(bodies[i]);
                if (LedgerIndex.Matches(query, tx)) page.Add(tx);
            }
            before = first;
        }
        return new LedgerPage(page, null);
    }

    public IAsyncEnumerable<LedgerTransaction> ReadPeriodAsync(string periodId, CancellationToken ct)
    {
        LedgerValidation.CheckPeriod(periodId);
        return ReadIndexAsync(LedgerIndex.Period(periodId), 0, ct);
    }

    public IAsyncEnumerable<LedgerTransaction> ReadFromAsync(long afterSequence, CancellationToken ct) =>
        // Position i of the All index holds sequence i + 1: the post script pushes both in the same run.
        ReadIndexAsync(LedgerIndex.All, Math.Max(0, afterSequence), ct);

    private async IAsyncEnumerable<LedgerTransaction> ReadIndexAsync(string index, long start, [EnumeratorCancellation] CancellationToken ct)
    {
        Task<(long First, List<byte[]> Bodies)>? next = ReadAsync(index, start, start + ReadChunk - 1);
        while (next is not null)
        {
            var (first, bodies) = await next;
            ct.ThrowIfCancellationRequested();
            // Ask for the next page while this one is consumed: two pages in memory at most.
            var from = first + bodies.Count;
            next = bodies.Count == ReadChunk ? ReadAsync(index, from, from + ReadChunk - 1) : null;
            foreach (var body in bodies) yield return LedgerRecordCodec.Decode(body);
        }
    }

    private async Task<(long First, List<byte[]> Bodies)> ReadAsync(string index, long from, long to)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(ReadScript, [_index + index, _tx], [from, to]))!;
        var bodies = new List<byte[]>(result.Length - 1);
        for (var i = 1; i < result.Length; i++)
            bodies.Add((byte[])result[i]! ?? throw new InvalidDataException($"ledger index {index} names a transaction that is not stored"));
        return ((long)result[0], bodies);
    }

    public async Task<IReadOnlyDictionary<string, long>> BalancesAsync(CancellationToken ct)
    {
        var entries = await Db.HashGetAllAsync(_balances);
        var balances = new Dictionary<string, long>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries) balances[(string)e.Name!] = (long)e.Value;
        return balances;
    }

    public Task<bool> ClosePeriodAsync(string periodId, CancellationToken ct)
    {
        LedgerValidation.CheckPeriod(periodId);
        return Db.HashSetAsync(_closed, periodId, time.GetUtcNow().ToUnixTimeMilliseconds(), When.NotExists);
    }

    public async Task<IReadOnlySet<string>> ClosedPeriodsAsync(CancellationToken ct)
    {
        var periods = await Db.HashKeysAsync(_closed);
        return periods.Select(p => (string)p!).ToHashSet(StringComparer.Ordinal);
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> ClosedAtAsync(CancellationToken ct)
    {
        var closed = await Db.HashGetAllAsync(_closed);
        return closed.ToDictionary(e => (string)e.Name!, e => DateTimeOffset.FromUnixTimeMilliseconds((long)e.Value), StringComparer.Ordinal);
    }

    public async Task<IReadOnlyList<string>> PeriodsAsync(CancellationToken ct)
    {
        var posted = Db.SetMembersAsync(_periods);
        var closed = Db.HashKeysAsync(_closed);
        return (await posted).Concat(await closed).Select(p => (string)p!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}
