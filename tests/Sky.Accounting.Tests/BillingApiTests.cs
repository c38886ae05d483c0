using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using Sky.Accounting.Usage;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Pricing;
using Sky.Testing;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests;

/// <summary>Closing a period into invoices and settlements, reading them back, and the tenants' billing streams, over gRPC.</summary>
public sealed class BillingApiTests
{
    private static readonly DateTimeOffset Start = new(2026, 10, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    internal static UsagePosting.Rated Compute(string key, string tenant, string provider, string region, int seconds, decimal hourly, DateTimeOffset? end = null)
    {
        var until = end ?? Start;
        var usage = new RatedUsage
        {
            IdempotencyKey = key, TenantId = tenant, Provider = provider, Service = "compute", OfferId = $"{provider}-offer",
            Location = new Location { Provider = provider, Region = region }, Sku = "g6.xlarge", Quantity = seconds.ToString(), Unit = "second",
            UnitPrice = Money.FromDecimal(hourly, "USD"), PriceUnit = "hour", SubjectId = "job-1",
            UsageStart = Timestamp.FromDateTimeOffset(until.AddSeconds(-seconds)), UsageEnd = Timestamp.FromDateTimeOffset(until),
        };
        return new UsagePosting.Rated(usage, new UsageRater().Compute(hourly, seconds, 1));
    }

    internal static UsagePosting.Rated Egress(string key, string tenant, decimal gb, decimal perGb, string? agreement)
    {
        var usage = new RatedUsage
        {
            IdempotencyKey = key, TenantId = tenant, Provider = "aws", Service = "egress", OfferId = "aws-egress",
            Location = new Location { Provider = "aws", Region = "us-east-1" }, Destination = new Location { Provider = "gcp", Region = "us-central1" },
            Sku = "egress", Quantity = gb.ToString(System.Globalization.CultureInfo.InvariantCulture), Unit = "gb",
            UnitPrice = Money.FromDecimal(perGb, "USD"), PriceUnit = "gb", SubjectId = "tr-1",
            UsageStart = Timestamp.FromDateTimeOffset(Start.AddMinutes(-5)), UsageEnd = Timestamp.FromDateTimeOffset(Start),
        };
        var list = gb * perGb;
        var discount = agreement is null ? 0m : list;
        return new UsagePosting.Rated(usage, new RatedCharge(list, discount, agreement, (list - discount) * 0.05m));
    }

    private static async Task PostAsync(TestMesh mesh, params UsagePosting.Rated[] records) =>
        Assert.All(await mesh.Services.GetRequiredService<UsagePosting>().PostAsync(records, None), r => Assert.Equal(PostOutcome.Posted, r.Outcome));

    [Fact]
    public async Task Closing_a_period_issues_one_invoice_per_tenant_and_one_settlement_per_provider_that_add_up_to_the_ledger()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        await PostAsync(mesh,
            Compute("k1", "acme", "aws", "us-east-1", 3600, 0.8048m),
            Compute("k2", "acme", "aws", "us-east-1", 1800, 0.8048m),
            Compute("k3", "acme", "gcp", "us-central1", 7200, 1.10m),
            Compute("k4", "globex", "aws", "us-west-2", 30, 2.00m),       // billed the 60 s minimum
            Egress("k5", "acme", 100m, 0.09m, "pa-1"),                   // free under a peering agreement
            Egress("k6", "globex", 10m, 0.09m, null));
        var op = mesh.Client<AccountingClient>();

        // Before the close the open period's drafts are listed, and the period has not ended: closing it needs force.
        var drafts = await op.ListInvoicesAsync(new ListInvoicesRequest { PeriodId = "2026-10" });
        Assert.Equal(["acme", "globex"], drafts.Invoices.Select(i => i.TenantId).Order());
        Assert.All(drafts.Invoices, i => Assert.Equal(InvoiceStatus.Draft, i.Status));
        var draftId = drafts.Invoices.Single(i => i.TenantId == "acme").InvoiceId;

        var closed = await op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });
        Assert.Equal((2, 2, BillingPeriodState.Closed), (closed.InvoicesIssued, closed.SettlementsIssued, closed.Period.State));

        var balances = await mesh.Services.GetRequiredService<ILedger>().BalancesAsync(None);
        var acme = (await op.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = draftId })).Invoice;
        Assert.Equal(InvoiceStatus.Issued, acme.Status);
        Assert.Equal(-balances[LedgerAccounts.Tenant("acme")], Nanos(acme.Total));
        Assert.Equal(acme.Total.ToDecimal(), acme.Lines.Sum(l => l.Amount.ToDecimal()));
        // Lines per provider, service, region and SKU: the two aws compute usages are one line.
        var awsCompute = acme.Lines.Single(l => l.Provider == "aws" && l.Service == "compute");
        Assert.Equal(("5400", "second", 1.267560m), (awsCompute.Quantity, awsCompute.Unit, awsCompute.Amount.ToDecimal()));
        Assert.Equal(0m, acme.Lines.Single(l => l.Service == "egress").Amount.ToDecimal());
        Assert.Equal(closed.InvoicedTotal.ToDecimal(), -(balances[LedgerAccounts.Tenant("acme")] + balances[LedgerAccounts.Tenant("globex")]) / 1e9m);

        var settlements = (await op.ListSettlementsAsync(new ListSettlementsRequest { PeriodId = "2026-10" })).Settlements;
        var aws = settlements.Single(s => s.Provider == "aws");
        Assert.Equal(9m, aws.PeeringDiscount.ToDecimal());
        var peering = Assert.Single(aws.PeeringLines);
        Assert.Equal(("pa-1", "gcp", 100_000_000_000L, 9m), (peering.AgreementId, peering.PeerProvider, peering.Bytes, peering.Discount.ToDecimal()));
        Assert.Equal(aws.Gross.ToDecimal() - 9m, aws.Total.ToDecimal());
        Assert.Equal(balances[LedgerAccounts.Provider("aws")] + balances[LedgerAccounts.Peering("pa-1", "aws")], Nanos(aws.Total));
        Assert.Equal(closed.SettledTotal.ToDecimal(), settlements.Sum(s => s.Total.ToDecimal()));
        Assert.Equal(balances[LedgerAccounts.BrokerMargin], Nanos(closed.BrokerMargin));
        // Invoiced = settled + margin: the broker's books balance.
        Assert.Equal(closed.InvoicedTotal.ToDecimal(), closed.SettledTotal.ToDecimal() + closed.BrokerMargin.ToDecimal());

        // Closing again is idempotent.
        Assert.Equal(closed, await op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" }));
    }

    [Fact]
    public async Task Late_usage_goes_to_the_next_period_as_an_adjustment_and_never_changes_the_issued_invoice()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        await PostAsync(mesh, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m));
        var op = mesh.Client<AccountingClient>();
        await op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });
        var id = InvoiceIds.For("2026-10", "acme");
        var issued = (await op.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = id })).Invoice;

        await PostAsync(mesh, Compute("k2", "acme", "aws", "us-east-1", 600, 1m, end: Start.AddHours(1)));
        Assert.Equal(issued, (await op.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = id })).Invoice);
        var november = (await op.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = InvoiceIds.For("2026-11", "acme") })).Invoice;
        Assert.Equal(InvoiceStatus.Draft, november.Status);
        var adjustment = Assert.Single(november.Lines);
        Assert.Equal(("2026-10", 0.175m), (adjustment.AdjustsPeriodId, adjustment.Amount.ToDecimal()));
    }

    [Fact]
    public async Task Closing_a_period_that_has_not_ended_needs_force_and_a_bad_period_is_invalid()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var op = mesh.Client<AccountingClient>();
        var current = mesh.Services.GetRequiredService<BillingCalendar>().PeriodOf(DateTimeOffset.UtcNow.AddMinutes(1));
        var early = await Assert.ThrowsAsync<RpcException>(() => op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = current }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, early.StatusCode);
        var bad = await Assert.ThrowsAsync<RpcException>(() => op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-13" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        var forced = await op.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = current, Force = true });
        Assert.Equal((0, 0m), (forced.InvoicesIssued, forced.InvoicedTotal.ToDecimal()));
    }

    [Fact]
    public async Task Tenants_read_only_their_own_invoices_and_providers_only_their_own_settlements()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        await PostAsync(mesh, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m), Compute("k2", "globex", "gcp", "us-central1", 3600, 1m));
        await mesh.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });
        var acme = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        var mine = await acme.ListInvoicesAsync(new ListInvoicesRequest { PeriodId = "2026-10" });
        Assert.Equal("acme", Assert.Single(mine.Invoices).TenantId);
        Assert.Empty(mine.Invoices[0].Lines);
        var theirs = await Assert.ThrowsAsync<RpcException>(() => acme.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = InvoiceIds.For("2026-10", "globex") }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, theirs.StatusCode);
        var list = await Assert.ThrowsAsync<RpcException>(() => acme.ListInvoicesAsync(new ListInvoicesRequest { TenantId = "globex" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, list.StatusCode);
        var settlements = await Assert.ThrowsAsync<RpcException>(() => acme.ListSettlementsAsync(new ListSettlementsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, settlements.StatusCode);

        var gcp = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(PrincipalKind.Provider, "gcp"));
        Assert.Equal("gcp", Assert.Single((await gcp.ListSettlementsAsync(new ListSettlementsRequest())).Settlements).Provider);
        var other = await Assert.ThrowsAsync<RpcException>(() => gcp.ListSettlementsAsync(new ListSettlementsRequest { Provider = "aws" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        var close = await Assert.ThrowsAsync<RpcException>(() => gcp.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-09" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, close.StatusCode);
    }

    [Fact]
    public async Task A_tenant_streams_its_own_usage_and_invoice_events_and_resumes_after_the_last_it_saw()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var acme = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var call = acme.StreamBilling(new StreamBillingRequest(), cancellationToken: cts.Token);
        var onTopic = new List<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Billing, "test", (e, _) => { lock (onTopic) onTopic.Add(e); return Task.CompletedTask; });
        await Task.Delay(300);   // the stream starts "from now on"
        await PostAsync(mesh, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m), Compute("k2", "globex", "aws", "us-east-1", 3600, 1m));
        await mesh.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });

        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        var usage = call.ResponseStream.Current;
        Assert.Equal(("billing.usage.rated", "acme"), (usage.Type, usage.UsageRated.TenantId));
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        var invoice = call.ResponseStream.Current;
        Assert.Equal(("billing.invoice.issued", InvoiceIds.For("2026-10", "acme")), (invoice.Type, invoice.InvoiceIssued.InvoiceId));
        cts.Cancel();

        // Resuming after the usage event gives the invoice again, and nothing of globex's.
        using var resume = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var again = acme.StreamBilling(new StreamBillingRequest { AfterEventId = usage.EventId }, cancellationToken: resume.Token);
        Assert.True(await again.ResponseStream.MoveNext(resume.Token));
        Assert.Equal(invoice.EventId, again.ResponseStream.Current.EventId);
        resume.Cancel();

        // The same events, with the same ids, went to the billing topic (subject = tenant).
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until) { lock (onTopic) if (onTopic.Count >= 4) break; await Task.Delay(25); }
        lock (onTopic)
        {
            Assert.Contains(onTopic, e => e.Id == usage.EventId && e.Subject == "acme" && e.Type == "billing.usage.rated");
            Assert.Contains(onTopic, e => e.Id == invoice.EventId && e.Type == "billing.invoice.issued");
            Assert.Equal(4, onTopic.Count);
        }

        var expired = acme.StreamBilling(new StreamBillingRequest { AfterEventId = "no-such-event" });
        var error = await Assert.ThrowsAsync<RpcException>(() => expired.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task The_focus_export_of_a_closed_period_sums_to_the_issued_invoice_and_names_it()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        await PostAsync(mesh,
            Compute("k1", "acme", "aws", "us-east-1", 3600, 0.8048m), Compute("k2", "acme", "gcp", "us-central1", 45, 1.10m),
            Egress("k3", "acme", 100m, 0.09m, "pa-1"), Egress("k4", "acme", 7m, 0.09m, null), Compute("k5", "globex", "aws", "us-east-1", 600, 3m));
        await mesh.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10" });
        var acme = mesh.Client<AccountingClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        var invoice = (await acme.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = InvoiceIds.For("2026-10", "acme") })).Invoice;

        using var call = acme.ExportFocus(new ExportFocusRequest { PeriodId = "2026-10" });
        var bytes = new MemoryStream();
        while (await call.ResponseStream.MoveNext(None)) call.ResponseStream.Current.Data.WriteTo(bytes);
        var file = Focus.FocusFile.Read(bytes.ToArray(), default!);
        Assert.Equal(5 - 1, file.Rows.Count);
        Assert.Equal(invoice.Total.ToDecimal(), file.Rows.Sum(r => Focus.FocusFile.Decimal(r["BilledCost"])));
        Assert.All(file.Rows, r => Assert.Equal((invoice.InvoiceId, "acme", "Sky.Mesh"), (r["InvoiceId"], r["BillingAccountId"], r["InvoiceIssuerName"])));
    }

    [Fact]
    public async Task Billing_periods_can_be_daily_by_configuration()
    {
        await using var mesh = await TestMesh.StartAsync("accounting", configure: b => b.Configuration["Accounting:BillingPeriod"] = "daily");
        await PostAsync(mesh, Compute("k1", "acme", "aws", "us-east-1", 3600, 1m));
        var closed = await mesh.Client<AccountingClient>().CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = "2026-10-10" });
        Assert.Equal((1, TimeSpan.FromDays(1)), (closed.InvoicesIssued, closed.Period.End.ToDateTimeOffset() - closed.Period.Start.ToDateTimeOffset()));
    }

    private static long Nanos(Money m) => m.Units * 1_000_000_000 + m.Nanos;
}
