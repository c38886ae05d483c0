using System.Numerics;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Ledger;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>
/// A random workload driven against one or more ledgers in lockstep, with a model of what each should answer:
/// batches of new balanced transactions (two to five entries, zero and negative amounts, an account repeated),
/// re-deliveries of keys seen before (posted, refused or in the same batch), corrections of posted transactions, and
/// period closes. After every call each ledger must answer exactly as the model and as the others.
/// </summary>
internal sealed class LedgerWorkload(int seed)
{
    private static readonly string[] Periods = ["2026-01", "2026-02", "2026-03"];
    private static readonly string[] Tenants = ["acme", "globex", "initech"];
    private static readonly string[] Providers = ["aws", "gcp", "azure"];

    private readonly Random _random = new(seed);
    private readonly List<LedgerTransaction> _sent = [];
    private readonly Dictionary<string, LedgerTransaction> _posted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closed = new(StringComparer.Ordinal);
    private int _next;

    /// <summary>What the model says was posted, in posting order.</summary>
    public List<LedgerTransaction> Posted { get; } = [];

    /// <summary>The model's balance per account.</summary>
    public Dictionary<string, long> Balances { get; } = new(StringComparer.Ordinal);

    public IEnumerable<string> AllPeriods => Periods;

    public async Task RunAsync(IReadOnlyList<ILedger> ledgers, FakeTimeProvider time, int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(_random.Next(1, 5000)));
            if (_random.Next(10) == 0)
            {
                var period = Pick(Periods);
                var first = _closed.Add(period);
                foreach (var ledger in ledgers) Assert.Equal(first, await ledger.ClosePeriodAsync(period, CancellationToken.None));
                continue;
            }
            var batch = NextBatch();
            var expected = Expect(batch);
            foreach (var ledger in ledgers)
                Assert.Equal(expected, await ledger.PostAsync(batch, CancellationToken.None));
        }
    }

    private List<LedgerTransaction> NextBatch()
    {
        var batch = new List<LedgerTransaction>();
        for (var n = _random.Next(1, 25); batch.Count < n;)
        {
            var roll = _random.Next(100);
            if (roll < 20 && _sent.Count > 0) batch.Add(Pick(_sent));
            else if (roll < 25 && batch.Count > 0) batch.Add(Pick(batch));
            else if (roll < 35 && Posted.Count > 0) batch.Add(Correction(Pick(Posted)));
            else batch.Add(Fresh());
        }
        _sent.AddRange(batch);
        return batch;
    }

    /// <summary>The outcomes the model predicts, applying the postings to it.</summary>
    private List<PostResult> Expect(List<LedgerTransaction> batch)
    {
        var results = new List<PostResult>(batch.Count);
        foreach (var tx in batch)
        {
            var outcome = _posted.ContainsKey(tx.Id) ? PostOutcome.Duplicate : _closed.Contains(tx.PeriodId) ? PostOutcome.PeriodClosed : PostOutcome.Posted;
            if (outcome == PostOutcome.Posted)
            {
                _posted.Add(tx.Id, tx);
                Posted.Add(tx);
                foreach (var e in tx.Entries) Balances[e.Account] = Balances.GetValueOrDefault(e.Account) + e.AmountNanos;
            }
            results.Add(new PostResult(tx.Id, outcome));
        }
        return results;
    }

    private LedgerTransaction Fresh()
    {
        var key = $"w{seed}:{_next++}";
        var legs = _random.Next(2, 6);
        var entries = new List<LedgerEntry>(legs);
        long sum = 0;
        for (var i = 0; i < legs - 1; i++)
        {
            // Mostly charges of a few dollars; now and then a zero, a credit, or the same account twice.
            var amount = _random.Next(8) switch { 0 => 0, 1 => -_random.NextInt64(1, 5_000_000_000), _ => _random.NextInt64(1, 5_000_000_000) };
            var account = i > 0 && _random.Next(6) == 0 ? entries[0].Account : Account();
            entries.Add(new(account, amount));
            sum += amount;
        }
        entries.Add(new(Account(), -sum));
        return LedgerSamples.Charge(key, period: Pick(Periods), tenant: Pick(Tenants), provider: Pick(Providers),
            quote: _random.Next(4) == 0 ? "quote-" + _random.Next(3) : "", subject: "job-" + _random.Next(5),
            usageEnd: LedgerSamples.Now.AddMinutes(-_random.Next(10_000))) with { Entries = entries };
    }

    /// <summary>A reversal of a posted transaction, possibly into another period (a credit after a close).</summary>
    private LedgerTransaction Correction(LedgerTransaction original) =>
        LedgerSamples.Reversal($"w{seed}:{_next++}:corrects", original, Pick(Periods));

    private string Account() => _random.Next(4) switch
    {
        0 => LedgerAccounts.Tenant(Pick(Tenants)),
        1 => LedgerAccounts.Provider(Pick(Providers)),
        2 => LedgerAccounts.BrokerMargin,
        _ => LedgerAccounts.Peering("agreement-" + _random.Next(2), Pick(Providers)),
    };

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>
    /// The ledger balances to exactly zero, its balances are the sums of the entries it reads back, they are the model's,
    /// and it holds exactly the model's transactions, each period in posting order.
    /// </summary>
    public async Task VerifyAsync(ILedger ledger)
    {
        var balances = await ledger.BalancesAsync(CancellationToken.None);
        Assert.Equal(BigInteger.Zero, balances.Values.Aggregate(BigInteger.Zero, (s, v) => s + v));

        var recomputed = new Dictionary<string, long>(StringComparer.Ordinal);
        var read = new List<LedgerTransaction>();
        foreach (var period in Periods)
        {
            var inPeriod = await ledger.ReadAllAsync(period);
            Assert.Equal(Posted.Where(t => t.PeriodId == period).Select(t => t.Id), inPeriod.Select(t => t.Id));
            read.AddRange(inPeriod);
        }
        foreach (var tx in read)
        {
            Assert.Equal(0, tx.Entries.Aggregate(BigInteger.Zero, (s, e) => s + e.AmountNanos));
            foreach (var e in tx.Entries) recomputed[e.Account] = recomputed.GetValueOrDefault(e.Account) + e.AmountNanos;
            if (tx.Corrects is { } corrected) Assert.True(_posted.ContainsKey(corrected), $"{tx.Id} corrects {corrected}, which was never posted");
        }
        Assert.Equal(recomputed.OrderBy(b => b.Key, StringComparer.Ordinal), balances.OrderBy(b => b.Key, StringComparer.Ordinal));
        Assert.Equal(Balances.OrderBy(b => b.Key, StringComparer.Ordinal), balances.OrderBy(b => b.Key, StringComparer.Ordinal));
        Assert.Equal(Posted.Count, read.Count);
        Assert.Equal(_closed.Order(), (await ledger.ClosedPeriodsAsync(CancellationToken.None)).Order());
    }
}
