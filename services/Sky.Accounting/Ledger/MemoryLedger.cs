using System.Runtime.CompilerServices;

namespace Sky.Accounting.Ledger;

/// <summary>
/// The ledger in this process (the embedded default): one lock around a map of transactions, the indexes of
/// <see cref="LedgerIndex"/> as lists in posting order, and the balances. Readers get copies of the usage records, so
/// nothing handed out can change what is stored.
/// </summary>
public sealed class MemoryLedger(TimeProvider time) : ILedger
{
    private const int ReadChunk = 1000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LedgerTransaction> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<LedgerTransaction>> _indexes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _balances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _closed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _periods = new(StringComparer.Ordinal);
    private long _sequence;

    public Task<IReadOnlyList<PostResult>> PostAsync(IReadOnlyList<LedgerTransaction> transactions, CancellationToken ct)
    {
        var prepared = LedgerValidation.Prepare(transactions, time.GetUtcNow());
        var indexes = prepared.Select(p => LedgerIndex.Of(p.Stored)).ToArray();
        var results = new PostResult[prepared.Count];
        lock (_gate)
        {
            CheckCorrections(prepared);
            for (var i = 0; i < prepared.Count; i++)
            {
                var (id, tx) = prepared[i];
                if (_byId.ContainsKey(id)) results[i] = new PostResult(id, PostOutcome.Duplicate);
                else if (_closed.ContainsKey(tx.PeriodId)) results[i] = new PostResult(id, PostOutcome.PeriodClosed);
                else
                {
                    Apply(tx.Entries);
                    var stored = tx with { Sequence = ++_sequence };
                    _byId.Add(id, stored);
                    _periods.Add(tx.PeriodId);
                    foreach (var name in indexes[i]) Index(name).Add(stored);
                    results[i] = new PostResult(id, PostOutcome.Posted);
                }
            }
        }
        return Task.FromResult<IReadOnlyList<PostResult>>(results);
    }

    /// <summary>A correction must name a transaction posted by an earlier call (not one of its own batch, which may yet be refused).</summary>
    private void CheckCorrections(IReadOnlyList<PreparedTransaction> prepared)
    {
        for (var i = 0; i < prepared.Count; i++)
            if (prepared[i].Stored.Corrects is { } corrected && !_byId.ContainsKey(corrected))
                throw new InvalidTransactionException(i, prepared[i].Stored.IdempotencyKey, $"corrects {corrected}, which has not been posted");
    }

    /// <summary>Applies a transaction's entries all or none: an account that would overflow 64 bits undoes the lot.</summary>
    private void Apply(IReadOnlyList<LedgerEntry> entries)
    {
        var applied = 0;
        try
        {
            for (; applied < entries.Count; applied++)
            {
                var e = entries[applied];
                _balances[e.Account] = checked(_balances.GetValueOrDefault(e.Account) + e.AmountNanos);
            }
        }
        catch (OverflowException)
        {
            for (var i = 0; i < applied; i++) _balances[entries[i].Account] -= entries[i].AmountNanos;
            throw;
        }
    }

    private List<LedgerTransaction> Index(string name)
    {
        if (!_indexes.TryGetValue(name, out var list)) _indexes[name] = list = [];
        return list;
    }

    public Task<LedgerTransaction?> GetAsync(string transactionId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_byId.TryGetValue(transactionId, out var tx) ? Copy(tx) : null);
    }

    public Task<LedgerPage> QueryAsync(LedgerQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var size = LedgerIndex.PageSize(query);
        var before = LedgerPageToken.Decode(query);
        var page = new List<LedgerTransaction>(Math.Min(size, 64));
        string? next = null;
        lock (_gate)
        {
            if (_indexes.TryGetValue(LedgerIndex.For(query), out var list))
            {
                var i = (int)Math.Min(before ?? list.Count, list.Count) - 1;
                for (; i >= 0 && page.Count < size; i--)
                    if (LedgerIndex.Matches(query, list[i])) page.Add(Copy(list[i]));
                // Same rule as the Redis store: a full page has a next one when the index holds anything older.
                if (page.Count == size && i >= 0) next = LedgerPageToken.Issue(query, i + 1);
            }
        }
        return Task.FromResult(new LedgerPage(page, next));
    }

    public IAsyncEnumerable<LedgerTransaction> ReadPeriodAsync(string periodId, CancellationToken ct)
    {
        LedgerValidation.CheckPeriod(periodId);
        return ReadIndexAsync(LedgerIndex.Period(periodId), 0, ct);
    }

    public IAsyncEnumerable<LedgerTransaction> ReadFromAsync(long afterSequence, CancellationToken ct) =>
        // Position i of the All index holds sequence i + 1: both grow by one per posting, under the same lock.
        ReadIndexAsync(LedgerIndex.All, (int)Math.Clamp(afterSequence, 0, int.MaxValue), ct);

    private async IAsyncEnumerable<LedgerTransaction> ReadIndexAsync(string name, int from, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunk = new List<LedgerTransaction>(ReadChunk);
        for (var next = from; ; next += chunk.Count)
        {
            ct.ThrowIfCancellationRequested();
            chunk.Clear();
            lock (_gate)
            {
                // Index lists only grow at the end, so a position read under one lock is still right under the next.
                if (_indexes.TryGetValue(name, out var list))
                    for (var i = next; i < list.Count && chunk.Count < ReadChunk; i++) chunk.Add(list[i]);
            }
            if (chunk.Count == 0) yield break;
            foreach (var tx in chunk) yield return Copy(tx);
            await Task.Yield();
        }
    }

    public Task<IReadOnlyDictionary<string, long>> BalancesAsync(CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>(_balances, StringComparer.Ordinal));
    }

    public Task<bool> ClosePeriodAsync(string periodId, CancellationToken ct)
    {
        LedgerValidation.CheckPeriod(periodId);
        lock (_gate) return Task.FromResult(_closed.TryAdd(periodId, time.GetUtcNow()));
    }

    public Task<IReadOnlySet<string>> ClosedPeriodsAsync(CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<IReadOnlySet<string>>(new HashSet<string>(_closed.Keys, StringComparer.Ordinal));
    }

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> ClosedAtAsync(CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(new Dictionary<string, DateTimeOffset>(_closed, StringComparer.Ordinal));
    }

    public Task<IReadOnlyList<string>> PeriodsAsync(CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<string>>(_periods.Union(_closed.Keys).Order(StringComparer.Ordinal).ToList());
    }

    private static LedgerTransaction Copy(LedgerTransaction tx) => tx with { Usage = tx.Usage.Clone() };
}
