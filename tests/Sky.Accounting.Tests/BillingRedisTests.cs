using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using Sky.Accounting.Usage;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Accounting.Tests.BillingApiTests;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests;

/// <summary>
/// Billing on Redis: what a close issues outlives its host, a close that died after freezing the ledger is finished by
/// the next host, and hosts sharing one Redis journal each posting once.
/// </summary>
public sealed class BillingRedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task PostAsync(TestMesh mesh, params UsagePosting.Rated[] records) =>
        await mesh.Services.GetRequiredService<UsagePosting>().PostAsync(records, None);

    [SkippableFact]
    public async Task Invoices_settlements_and_the_billing_stream_survive_a_restart()
    {
        var store = await redis.NewDatabaseAsync();
        CloseBillingPeriodResponse closed;
        StreamBillingResponse first;
        await using (var host = await TestMesh.StartAsync("accounting", store: store))
        {
            await PostAsync(host, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m), Egress("k2", "acme", 50m, 0.09m, "pa-1"));
            closed = await host.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });
            var journal = host.Services.GetRequiredService<IBillingStore>();
            first = await WaitForAsync(async () => (await journal.ReadAsync("acme", new JournalCursor("0-0"), 10, None)).Events.FirstOrDefault());
        }
        await using var again = await TestMesh.StartAsync("accounting", store: store);
        var op = again.Client<AccountingClient>();
        Assert.Equal(closed, await op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" }));
        var invoice = (await op.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = InvoiceIds.For("2026-10", "acme") })).Invoice;
        Assert.Equal((InvoiceStatus.Issued, 2), (invoice.Status, invoice.Lines.Count));
        Assert.Equal(closed.InvoicedTotal, invoice.Total);
        var aws = Assert.Single((await op.ListSettlementsAsync(new ListSettlementsRequest())).Settlements);
        Assert.Equal((50_000_000_000L, 4.5m), (aws.PeeringLines.Single().Bytes, aws.PeeringDiscount.ToDecimal()));

        var acme = again.Client<AccountingClient>(await again.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = acme.StreamBilling(new StreamBillingRequest { AfterEventId = first.EventId }, cancellationToken: cts.Token);
        var types = new List<string>();
        while (types.Count < 2 && await call.ResponseStream.MoveNext(cts.Token)) types.Add(call.ResponseStream.Current.Type);
        Assert.Equal(["billing.usage.rated", "billing.invoice.issued"], types);
    }

    [SkippableFact]
    public async Task A_close_that_died_after_freezing_the_ledger_is_issued_by_the_next_host()
    {
        var store = await redis.NewDatabaseAsync();
        await using (var host = await TestMesh.StartAsync("accounting", store: store))
        {
            await PostAsync(host, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m), Compute("k2", "globex", "gcp", "us-central1", 60, 3m));
            // The close's first step, then the process "dies": the period is frozen but nothing is issued.
            Assert.True(await host.Services.GetRequiredService<ILedger>().ClosePeriodAsync("2026-10", None));
        }
        await using var next = await TestMesh.StartAsync("accounting", store: store);
        var billing = next.Services.GetRequiredService<IBillingStore>();
        var summary = await WaitForAsync(() => billing.GetCloseAsync("2026-10", None));
        Assert.Equal((2, 2), (summary.InvoicesIssued, summary.SettlementsIssued));
        var invoices = await next.Client<AccountingClient>().ListInvoicesAsync(new ListInvoicesRequest { PeriodId = "2026-10" });
        Assert.All(invoices.Invoices, i => Assert.Equal(InvoiceStatus.Issued, i.Status));
        Assert.Equal(summary.InvoicedTotal.ToDecimal(), invoices.Invoices.Sum(i => i.Total.ToDecimal()));
    }

    [SkippableFact]
    public async Task Two_hosts_on_one_redis_journal_each_posting_once()
    {
        var store = await redis.NewDatabaseAsync();
        await using var a = await TestMesh.StartAsync("accounting", store: store);
        await using var b = await TestMesh.StartAsync("accounting", store: store);
        var records = Enumerable.Range(0, 300).Select(i => Compute($"k{i}", "acme", "aws", "us-east-1", 60 + i, 1m)).ToArray();
        await Task.WhenAll(PostAsync(a, records[..150]), PostAsync(b, records[150..]));
        var journal = a.Services.GetRequiredService<IBillingStore>();
        await WaitForAsync(async () => await journal.UsageCheckpointAsync(None) == 300 ? "done" : null);
        var (events, _) = await journal.ReadAsync("acme", new JournalCursor("0-0"), 1000, None);
        Assert.Equal(300, events.Count);
        Assert.Equal(300, events.Select(e => e.EventId).Distinct().Count());
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe) where T : class
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > until) throw new TimeoutException("the condition did not hold within 15 s");
            await Task.Delay(50);
        }
    }
}
