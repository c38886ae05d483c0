using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Ledger;
using Sky.Hosting.Options;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Accounting.Tests.Ledger.LedgerSamples;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>
/// The Redis ledger: the whole contract, the same answers as the memory ledger under a random workload, and nothing
/// lost or doubled when another process (a "restart") opens the same Redis. Each test has its own database and prefix.
/// </summary>
public sealed class RedisLedgerTests(RedisServer redis) : LedgerContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Prefix = "sky:test:accounting:";
    private readonly List<IConnectionMultiplexer> _connections = [];
    private string? _store;

    protected override async Task<ILedger> NewLedgerAsync() => new RedisLedger(await ConnectAsync(fresh: true), Time, Prefix);

    /// <summary>A new connection, to a fresh database or to the one this test used last (as a restarted process would).</summary>
    private async Task<IConnectionMultiplexer> ConnectAsync(bool fresh)
    {
        if (fresh || _store is null) _store = await redis.NewDatabaseAsync();
        var connection = await ConnectionMultiplexer.ConnectAsync(StoreLocation.Parse(_store).RedisConfiguration!);
        _connections.Add(connection);
        return connection;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }

    [SkippableFact]
    public async Task Another_process_on_the_same_redis_sees_every_transaction_balance_and_closed_period()
    {
        var first = new RedisLedger(await ConnectAsync(fresh: true), Time, Prefix);
        var batch = Enumerable.Range(0, 2500).Select(i => Charge($"restart:{i}", period: i % 2 == 0 ? "2026-01" : "2026-02", tenant: $"t{i % 3}")).ToList();
        await first.PostAsync(batch, None);
        var correction = Reversal("restart:0:reversal", batch[0], period: "2026-02");
        await first.PostAsync([correction], None);
        await first.ClosePeriodAsync("2026-01", None);
        var balances = await first.BalancesAsync(None);
        var page = await first.QueryAsync(new LedgerQuery { TenantId = "t1", PageSize = 10 }, None);
        foreach (var connection in _connections) await connection.DisposeAsync();

        var second = new RedisLedger(await ConnectAsync(fresh: false), Time, Prefix);
        Assert.Equal(balances, await second.BalancesAsync(None));
        Assert.Equal(new HashSet<string> { "2026-01" }, await second.ClosedPeriodsAsync(None));
        Assert.Equal(batch.Where(t => t.PeriodId == "2026-01").Select(t => t.Id), (await second.ReadAllAsync("2026-01")).Select(t => t.Id));
        Assert.Equal(batch[0].Id, (await second.GetAsync(correction.Id, None))!.Corrects);
        // The page token of the first process is good in the second.
        var next = await second.QueryAsync(new LedgerQuery { TenantId = "t1", PageSize = 10, PageToken = page.NextPageToken }, None);
        Assert.Equal(page.Transactions[^1].Sequence - 3, next.Transactions[0].Sequence);

        // A retry after the restart doubles nothing (batch[2] is in the closed period: still a duplicate); the sequence goes on.
        var retried = await second.PostAsync([batch[1], Charge("restart:new", period: "2026-02"), batch[2]], None);
        Assert.Equal([PostOutcome.Duplicate, PostOutcome.Posted, PostOutcome.Duplicate], retried.Select(r => r.Outcome));
        Assert.Equal(2502, (await second.GetAsync(retried[1].TransactionId, None))!.Sequence);
    }

    [SkippableFact]
    public async Task Ledgers_under_different_prefixes_share_a_database_without_seeing_each_other()
    {
        var connection = await ConnectAsync(fresh: true);
        var a = new RedisLedger(connection, Time, "sky:a:");
        var b = new RedisLedger(connection, Time, "sky:b:");
        await a.PostAsync([Charge("same-key")], None);
        await a.ClosePeriodAsync("2026-01", None);

        Assert.Equal(PostOutcome.Posted, (await b.PostAsync([Charge("same-key", period: "2026-02")], None)).Single().Outcome);
        Assert.Empty(await b.ClosedPeriodsAsync(None));
        Assert.Empty(await b.ReadAllAsync("2026-01"));
        Assert.Equal("2026-01", (await a.GetAsync(LedgerTransaction.IdFor("same-key"), None))!.PeriodId);
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(100, 8)];

    [SkippableTheory]
    [MemberData(nameof(Seeds))]
    public async Task A_random_workload_gets_the_same_answers_from_redis_and_memory(int seed)
    {
        var time = new FakeTimeProvider(Now);
        var memory = new MemoryLedger(time);
        var stored = new RedisLedger(await ConnectAsync(fresh: true), time, Prefix);
        var workload = new LedgerWorkload(seed);
        await workload.RunAsync([memory, stored], time, steps: 50);
        await workload.VerifyAsync(memory);
        await workload.VerifyAsync(stored);

        Assert.Equal(await memory.BalancesAsync(None), await stored.BalancesAsync(None));
        foreach (var period in workload.AllPeriods)
            Assert.Equal((await memory.ReadAllAsync(period)).Select(Describe), (await stored.ReadAllAsync(period)).Select(Describe));
        foreach (var query in new LedgerQuery[]
        {
            new() { PageSize = 9 },
            new() { TenantId = "acme", PageSize = 4 },
            new() { Provider = "gcp", PeriodId = "2026-02", PageSize = 3 },
            new() { QuoteId = "quote-1", PageSize = 2 },
            new() { SubjectId = "job-3", TenantId = "globex" },
            new() { UsageEndBefore = Now.AddMinutes(-5_000), PageSize = 11 },
        })
        {
            var inMemory = await memory.PagesAsync(query);
            var inRedis = await stored.PagesAsync(query);
            Assert.Equal(inMemory.Select(p => p.NextPageToken), inRedis.Select(p => p.NextPageToken));
            Assert.Equal(inMemory.SelectMany(p => p.Transactions).Select(Describe), inRedis.SelectMany(p => p.Transactions).Select(Describe));
        }
    }
}
