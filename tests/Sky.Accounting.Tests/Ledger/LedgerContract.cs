using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Ledger;
using static Sky.Accounting.Tests.Ledger.LedgerSamples;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>What every <see cref="ILedger"/> guarantees, run against each store by a subclass.</summary>
public abstract class LedgerContract
{
    protected static readonly CancellationToken None = CancellationToken.None;
    protected readonly FakeTimeProvider Time = new(Now);

    protected abstract Task<ILedger> NewLedgerAsync();

    [SkippableFact]
    public async Task A_posted_transaction_reads_back_with_its_id_stamp_and_sequence()
    {
        var ledger = await NewLedgerAsync();
        var tx = Charge("placement:job-1:0", quote: "q-1", subject: "job-1");
        var results = await ledger.PostAsync([tx], None);

        Assert.Equal([new PostResult(tx.Id, PostOutcome.Posted)], results);
        Assert.Equal(LedgerTransaction.IdFor("placement:job-1:0"), tx.Id);
        Assert.Matches("^tx-[0-9a-f]{24}$", tx.Id);
        var got = await ledger.GetAsync(tx.Id, None);
        Assert.NotNull(got);
        Assert.Equal((tx.IdempotencyKey, tx.PeriodId, (string?)null), (got.IdempotencyKey, got.PeriodId, got.Corrects));
        Assert.Equal(tx.Entries, got.Entries);
        Assert.Equal((Now, 1L), (got.PostedAt, got.Sequence));
        // The stored usage is the caller's with its ledger fields filled in; the caller's own object is left alone.
        var expected = tx.Usage.Clone();
        expected.UsageId = tx.Id;
        expected.IdempotencyKey = tx.IdempotencyKey;
        expected.PeriodId = tx.PeriodId;
        Assert.Equal(expected, got.Usage);
        Assert.Equal("", tx.Usage.UsageId);

        Assert.Null(await ledger.GetAsync(LedgerTransaction.IdFor("never posted"), None));
        Assert.Null(await ledger.GetAsync("not-an-id", None));
    }

    [SkippableFact]
    public async Task Reading_from_a_sequence_gives_every_later_posting_once_in_order_and_periods_are_listed()
    {
        var ledger = await NewLedgerAsync();
        await ledger.PostAsync([Charge("a", period: "2026-01"), Charge("b", period: "2026-02"), Charge("a", period: "2026-01")], None);
        await ledger.PostAsync([Charge("c", period: "2026-02")], None);
        async Task<List<(long, string)>> From(long after)
        {
            var seen = new List<(long, string)>();
            await foreach (var tx in ledger.ReadFromAsync(after, None)) seen.Add((tx.Sequence, tx.IdempotencyKey));
            return seen;
        }
        Assert.Equal([(1L, "a"), (2L, "b"), (3L, "c")], await From(0));
        Assert.Equal([(3L, "c")], await From(2));
        Assert.Empty(await From(3));

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await ledger.ClosePeriodAsync("2025-12", None));
        Assert.Equal(["2025-12", "2026-01", "2026-02"], await ledger.PeriodsAsync(None));
        Assert.Equal(Now.AddMinutes(1), (await ledger.ClosedAtAsync(None))["2025-12"]);
    }

    [SkippableFact]
    public async Task The_same_key_posts_once_across_batches_and_within_one()
    {
        var ledger = await NewLedgerAsync();
        var first = Charge("k-1", list: 5_000, margin: 500);
        Assert.Equal(PostOutcome.Posted, (await ledger.PostAsync([first], None)).Single().Outcome);
        var before = await ledger.BalancesAsync(None);

        // A re-delivery, even with different content, is a duplicate and writes nothing.
        var again = await ledger.PostAsync([first, Charge("k-1", list: 9_999_999, tenant: "other")], None);
        Assert.Equal([new PostResult(first.Id, PostOutcome.Duplicate), new PostResult(first.Id, PostOutcome.Duplicate)], again);
        Assert.Equal(before, await ledger.BalancesAsync(None));
        Assert.Equal(-5_500, (await ledger.GetAsync(first.Id, None))!.Entries[0].AmountNanos);

        var twice = await ledger.PostAsync([Charge("k-2"), Charge("k-3"), Charge("k-2")], None);
        Assert.Equal([PostOutcome.Posted, PostOutcome.Posted, PostOutcome.Duplicate], twice.Select(r => r.Outcome));
        Assert.Equal(twice[0].TransactionId, twice[2].TransactionId);
        Assert.Equal(3, (await ledger.ReadAllAsync("2026-01")).Count);
        Assert.Equal(-(5_500 + 2 * 1_100_000), (await ledger.BalancesAsync(None))[LedgerAccounts.Tenant("acme")]);
    }

    [SkippableFact]
    public async Task A_closed_period_takes_no_posting_but_a_retry_of_one_it_has_is_still_a_duplicate()
    {
        var ledger = await NewLedgerAsync();
        var early = Charge("early", period: "2026-01");
        await ledger.PostAsync([early], None);
        var before = await ledger.BalancesAsync(None);

        Assert.True(await ledger.ClosePeriodAsync("2026-01", None));
        Assert.False(await ledger.ClosePeriodAsync("2026-01", None));
        Assert.Equal(new HashSet<string> { "2026-01" }, await ledger.ClosedPeriodsAsync(None));

        var late = Charge("late", period: "2026-01");
        var results = await ledger.PostAsync([late, early, Charge("late", period: "2026-02")], None);
        Assert.Equal([PostOutcome.PeriodClosed, PostOutcome.Duplicate, PostOutcome.Posted], results.Select(r => r.Outcome));
        // Re-rated into the next period, the late usage posts under its own key once.
        Assert.Equal(late.Id, results[2].TransactionId);
        Assert.Equal("2026-02", (await ledger.GetAsync(late.Id, None))!.PeriodId);
        Assert.Equal([early.Id], (await ledger.ReadAllAsync("2026-01")).Select(t => t.Id));
        Assert.Equal(-2_200_000, (await ledger.BalancesAsync(None))[LedgerAccounts.Tenant("acme")]);
        Assert.Equal(-1_100_000, before[LedgerAccounts.Tenant("acme")]);
    }

    [SkippableFact]
    public async Task An_unbalanced_transaction_is_refused_by_position_and_key_and_nothing_of_its_batch_is_written()
    {
        var ledger = await NewLedgerAsync();
        var good = Charge("good");
        var bad = Charge("bad") with { Entries = [new("tenant:acme:receivable", -100), new("provider:aws:payable", 99)] };

        var error = await Assert.ThrowsAsync<InvalidTransactionException>(() => ledger.PostAsync([good, bad], None));
        Assert.Equal((1, "bad"), (error.Index, error.IdempotencyKey));
        Assert.Contains("transaction 1 (key 'bad')", error.Message);
        Assert.Contains("sum to -1 nanos", error.Message);
        Assert.IsAssignableFrom<ArgumentException>(error);

        Assert.Null(await ledger.GetAsync(good.Id, None));
        Assert.Empty(await ledger.BalancesAsync(None));
        Assert.Empty(await ledger.ReadAllAsync("2026-01"));
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "no-key", "idempotency key must have 1 to 200" },
        { "long-key", "idempotency key must have 1 to 200" },
        { "one-entry", "at least two entries" },
        { "no-account", "entry 1 has no account" },
        { "no-period", "period '' must have" },
        { "spaced-period", "period '2026 01' must have" },
        { "no-usage", "has no usage record" },
        { "corrects-itself", "not the id of another transaction" },
        { "corrects-garbage", "not the id of another transaction" },
        { "foreign-usage-id", "is not its transaction id" },
        { "other-usage-period", "its usage names period '2025-12'" },
        { "other-usage-key", "posted under another key" },
        { "overflowing-sum", "must balance" },
    };

    [SkippableTheory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_transaction_is_refused_with_the_reason(string kind, string reason)
    {
        var ledger = await NewLedgerAsync();
        var tx = Charge("k");
        tx = kind switch
        {
            "no-key" => tx with { IdempotencyKey = "" },
            "long-key" => tx with { IdempotencyKey = new string('k', 201) },
            "one-entry" => tx with { Entries = [new("a", 0)] },
            "no-account" => tx with { Entries = [new("a", 5), new("", -5)] },
            "no-period" => tx with { PeriodId = "" },
            "spaced-period" => tx with { PeriodId = "2026 01" },
            "no-usage" => tx with { Usage = null! },
            "corrects-itself" => tx with { Corrects = tx.Id },
            "corrects-garbage" => tx with { Corrects = "invoice-7" },
            "foreign-usage-id" => tx with { Usage = WithUsage(tx, u => u.UsageId = "tx-000000000000000000000000") },
            "other-usage-period" => tx with { Usage = WithUsage(tx, u => u.PeriodId = "2025-12") },
            "other-usage-key" => tx with { Usage = WithUsage(tx, u => u.IdempotencyKey = "k2") },
            "overflowing-sum" => tx with { Entries = [new("a", long.MaxValue), new("b", long.MaxValue), new("c", 2)] },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var error = await Assert.ThrowsAsync<InvalidTransactionException>(() => ledger.PostAsync([Charge("fine"), tx], None));
        Assert.Equal(1, error.Index);
        Assert.Contains(reason, error.Message);
        Assert.Empty(await ledger.BalancesAsync(None));
    }

    private static Sky.Accounting.V1.RatedUsage WithUsage(LedgerTransaction tx, Action<Sky.Accounting.V1.RatedUsage> change)
    {
        var usage = tx.Usage.Clone();
        change(usage);
        return usage;
    }

    [SkippableFact]
    public async Task A_correction_is_a_new_transaction_that_references_the_one_it_corrects()
    {
        var ledger = await NewLedgerAsync();
        var original = Charge("usage-1", list: 4_000_000, margin: 400_000);
        await ledger.PostAsync([original], None);
        var stored = (await ledger.GetAsync(original.Id, None))!;

        // Rated too high: reverse it and post the right charge, both referencing the original.
        var reversal = Reversal("usage-1:reversal", stored);
        var corrected = Charge("usage-1:corrected", list: 3_000_000, margin: 300_000, corrects: original.Id);
        var results = await ledger.PostAsync([reversal, corrected], None);
        Assert.All(results, r => Assert.Equal(PostOutcome.Posted, r.Outcome));

        Assert.Equal(LedgerSamples.Describe(stored), LedgerSamples.Describe((await ledger.GetAsync(original.Id, None))!));
        Assert.Equal(original.Id, (await ledger.GetAsync(reversal.Id, None))!.Corrects);
        Assert.Equal(original.Id, (await ledger.GetAsync(corrected.Id, None))!.Corrects);
        var balances = await ledger.BalancesAsync(None);
        Assert.Equal(-3_300_000, balances[LedgerAccounts.Tenant("acme")]);
        Assert.Equal(3_000_000, balances[LedgerAccounts.Provider("aws")]);
        Assert.Equal(300_000, balances[LedgerAccounts.BrokerMargin]);
        Assert.Equal(3, (await ledger.ReadAllAsync("2026-01")).Count);

        // A correction names a transaction posted by an earlier call: not one never posted, nor one of its own batch
        // (which the batch might yet refuse, say for a closed period).
        var orphan = Reversal("usage-3:reversal", Charge("usage-3"));
        var error = await Assert.ThrowsAsync<InvalidTransactionException>(() => ledger.PostAsync([Charge("usage-4"), orphan], None));
        Assert.Equal(1, error.Index);
        Assert.Contains($"corrects {orphan.Corrects}, which has not been posted", error.Message);
        Assert.Null(await ledger.GetAsync(LedgerTransaction.IdFor("usage-4"), None));
        var fresh = Charge("usage-5");
        await Assert.ThrowsAsync<InvalidTransactionException>(() => ledger.PostAsync([fresh, Reversal("usage-5:reversal", fresh)], None));
        await ledger.PostAsync([fresh], None);
        Assert.Equal(PostOutcome.Posted, (await ledger.PostAsync([Reversal("usage-5:reversal", fresh)], None)).Single().Outcome);
    }

    [SkippableFact]
    public async Task Nothing_handed_to_or_out_of_the_ledger_changes_what_it_stored()
    {
        var ledger = await NewLedgerAsync();
        var entries = new List<LedgerEntry> { new("a", -7), new("b", 7) };
        var tx = Charge("k") with { Entries = entries };
        await ledger.PostAsync([tx], None);
        entries[0] = new("a", -1_000);
        tx.Usage.TenantId = "mallory";

        var read = (await ledger.GetAsync(tx.Id, None))!;
        read.Usage.TenantId = "mallory";
        if (read.Entries is LedgerEntry[] array) array[0] = new("a", -1_000);
        (await ledger.QueryAsync(new LedgerQuery(), None)).Transactions[0].Usage.Provider = "mallory";
        await foreach (var t in ledger.ReadPeriodAsync("2026-01", None)) t.Usage.QuoteId = "mallory";

        var again = (await ledger.GetAsync(tx.Id, None))!;
        Assert.Equal([new("a", -7), new("b", 7)], again.Entries);
        Assert.Equal(("acme", "aws", ""), (again.Usage.TenantId, again.Usage.Provider, again.Usage.QuoteId));
        Assert.Equal(new Dictionary<string, long> { ["a"] = -7, ["b"] = 7 }, await ledger.BalancesAsync(None));
    }

    [SkippableFact]
    public async Task Queries_filter_on_the_usage_newest_first_and_page_without_repeats_or_gaps()
    {
        var ledger = await NewLedgerAsync();
        var posted = new List<LedgerTransaction>();
        var batch = new List<LedgerTransaction>();
        for (var i = 0; i < 120; i++)
        {
            var tx = Charge($"q:{i}", period: i % 3 == 0 ? "2026-02" : "2026-01", tenant: $"t{i % 4}", provider: i % 5 == 0 ? "gcp" : "aws",
                quote: i % 7 == 0 ? "quote:7" : "", subject: $"job/{i % 6}", usageEnd: Now.AddMinutes(-i));
            batch.Add(tx);
            if (batch.Count == 17) { posted.AddRange(batch); await ledger.PostAsync(batch, None); batch.Clear(); }
        }
        posted.AddRange(batch);
        await ledger.PostAsync(batch, None);

        var queries = new LedgerQuery[]
        {
            new(),
            new() { TenantId = "t1" },
            new() { Provider = "gcp" },
            new() { PeriodId = "2026-02" },
            new() { TenantId = "t2", PeriodId = "2026-01" },
            new() { Provider = "aws", PeriodId = "2026-02" },
            new() { QuoteId = "quote:7" },
            new() { SubjectId = "job/5" },
            new() { TenantId = "t0", Provider = "gcp" },
            new() { SubjectId = "job/1", PeriodId = "2026-01", TenantId = "t1" },
            new() { UsageEndFrom = Now.AddMinutes(-50), UsageEndBefore = Now.AddMinutes(-20) },
            new() { TenantId = "nobody" },
        };
        foreach (var query in queries)
            foreach (var size in new[] { 1, 7, 100, 1000 })
            {
                var expected = posted.AsEnumerable().Reverse().Where(t => Matches(query, t)).Select(t => t.Id).ToList();
                var pages = await ledger.PagesAsync(query with { PageSize = size });
                var got = pages.SelectMany(p => p.Transactions).ToList();
                Assert.Equal(expected, got.Select(t => t.Id));
                Assert.All(pages.SkipLast(1), p => Assert.Equal(size, p.Transactions.Count));
                Assert.Equal(got.Select(t => t.Sequence).OrderDescending(), got.Select(t => t.Sequence));
            }

        var first = await ledger.QueryAsync(new LedgerQuery { TenantId = "t1", PageSize = 5 }, None);
        var other = await Assert.ThrowsAsync<ArgumentException>(() => ledger.QueryAsync(new LedgerQuery { TenantId = "t2", PageToken = first.NextPageToken }, None));
        Assert.Contains("different filters", other.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => ledger.QueryAsync(new LedgerQuery { PageToken = "garbage!" }, None));
        await Assert.ThrowsAsync<ArgumentException>(() => ledger.QueryAsync(new LedgerQuery { PageSize = 1001 }, None));
        Assert.Equal(LedgerQuery.DefaultPageSize, (await ledger.QueryAsync(new LedgerQuery(), None)).Transactions.Count);

        // Postings after the first page do not shift the pages that follow it.
        var tenantPages = new List<string>(first.Transactions.Select(t => t.Id));
        await ledger.PostAsync([Charge("q:late", tenant: "t1")], None);
        foreach (var page in await ledger.PagesAsync(new LedgerQuery { TenantId = "t1", PageSize = 5, PageToken = first.NextPageToken }))
            tenantPages.AddRange(page.Transactions.Select(t => t.Id));
        Assert.Equal(posted.AsEnumerable().Reverse().Where(t => t.Usage.TenantId == "t1").Select(t => t.Id), tenantPages);
    }

    private static bool Matches(LedgerQuery q, LedgerTransaction t) =>
        (q.TenantId is null || t.Usage.TenantId == q.TenantId) && (q.Provider is null || t.Usage.Provider == q.Provider)
        && (q.PeriodId is null || t.PeriodId == q.PeriodId) && (q.QuoteId is null || t.Usage.QuoteId == q.QuoteId)
        && (q.SubjectId is null || t.Usage.SubjectId == q.SubjectId)
        && (q.UsageEndFrom is null || t.Usage.UsageEnd.ToDateTimeOffset() >= q.UsageEndFrom)
        && (q.UsageEndBefore is null || t.Usage.UsageEnd.ToDateTimeOffset() < q.UsageEndBefore);

    [SkippableFact]
    public async Task A_period_reads_back_complete_and_in_posting_order_across_pages()
    {
        var ledger = await NewLedgerAsync();
        var expected = new List<string>();
        for (var b = 0; b < 5; b++)
        {
            var batch = Enumerable.Range(0, 500).Select(i => Charge($"r:{b}:{i}", period: i % 5 == 0 ? "2026-02" : "2026-01")).ToList();
            await ledger.PostAsync(batch, None);
            expected.AddRange(batch.Where(t => t.PeriodId == "2026-01").Select(t => t.Id));
        }
        var read = await ledger.ReadAllAsync("2026-01");
        Assert.Equal(2000, read.Count);
        Assert.Equal(expected, read.Select(t => t.Id));
        Assert.All(read.Zip(read.Skip(1)), p => Assert.True(p.First.Sequence < p.Second.Sequence));
        Assert.Equal(500, (await ledger.ReadAllAsync("2026-02")).Count);
        Assert.Empty(await ledger.ReadAllAsync("2025-12"));
    }

    [SkippableFact]
    public async Task A_close_racing_postings_lets_each_either_land_before_it_or_be_refused()
    {
        var ledger = await NewLedgerAsync();
        using var stop = new CancellationTokenSource();
        var posters = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var outcomes = new List<(PostResult Result, bool StartedAfterClose)>();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var startedAfterClose = _closeReturned;
                var batch = Enumerable.Range(0, 20).Select(j => Charge($"race:{w}:{i}:{j}")).ToList();
                foreach (var r in await ledger.PostAsync(batch, None))
                {
                    outcomes.Add((r, startedAfterClose));
                    Interlocked.Increment(ref _outcomes[(int)r.Outcome]);
                }
            }
            return outcomes;
        })).ToList();
        // Close once postings are landing, and stop once some have been refused (however slowly this machine runs).
        await Until(() => Volatile.Read(ref _outcomes[(int)PostOutcome.Posted]) >= 100);
        Assert.True(await ledger.ClosePeriodAsync("2026-01", None));
        _closeReturned = true;
        var atClose = (await ledger.ReadAllAsync("2026-01")).Select(t => t.Id).ToHashSet();
        await Until(() => Volatile.Read(ref _outcomes[(int)PostOutcome.PeriodClosed]) >= 100);
        await stop.CancelAsync();
        var outcomes = (await Task.WhenAll(posters)).SelectMany(o => o).ToList();

        var posted = outcomes.Where(o => o.Result.Outcome == PostOutcome.Posted).Select(o => o.Result.TransactionId).ToHashSet();
        Assert.NotEmpty(posted);
        Assert.Contains(outcomes, o => o.Result.Outcome == PostOutcome.PeriodClosed);
        Assert.DoesNotContain(outcomes, o => o.StartedAfterClose && o.Result.Outcome != PostOutcome.PeriodClosed);
        // The period as read right after the close is the period for good, and it is exactly what was posted.
        Assert.Equal(posted.Order(), atClose.Order());
        Assert.Equal(atClose.Order(), (await ledger.ReadAllAsync("2026-01")).Select(t => t.Id).Order());
        Assert.Equal(-1_100_000L * posted.Count, (await ledger.BalancesAsync(None))[LedgerAccounts.Tenant("acme")]);
    }

    private volatile bool _closeReturned;
    private readonly int[] _outcomes = new int[3];

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the posters");
            await Task.Delay(5);
        }
    }
}

public sealed class MemoryLedgerTests : LedgerContract
{
    protected override Task<ILedger> NewLedgerAsync() => Task.FromResult<ILedger>(new MemoryLedger(Time));

    [Fact]
    public void The_ledger_has_no_operation_that_changes_or_removes_a_transaction()
    {
        // Entries are immutable: the only writes are posting new transactions and closing periods, and a transaction's
        // properties are init-only.
        var operations = typeof(ILedger).GetMethods().Select(m => m.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["BalancesAsync", "ClosePeriodAsync", "ClosedAtAsync", "ClosedPeriodsAsync", "GetAsync", "PeriodsAsync", "PostAsync", "QueryAsync", "ReadFromAsync", "ReadPeriodAsync"], operations);
        Assert.All(typeof(LedgerTransaction).GetProperties(), p => Assert.True(p.SetMethod is null
            || p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)), p.Name));
    }
}
