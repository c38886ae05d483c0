using System.Text;
using System.Text.RegularExpressions;
using Sky.Accounting.Focus;
using Sky.Accounting.Ledger;
using Sky.Accounting.Tests.Ledger;

namespace Sky.Accounting.Tests.Focus;

/// <summary>
/// The FOCUS file of a tenant and period, read back with CsvHelper: a valid FOCUS 1.2 column set, FOCUS date/times and
/// numbers, nulls as empty fields, only that tenant's rows, and a BilledCost column that sums exactly to what the ledger
/// says the tenant owes for the period.
/// </summary>
public sealed partial class FocusExportTests
{
    private static readonly DateTimeOffset Jan10 = FocusBooks.January.AddDays(9);
    private static readonly string[] DateColumns = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"];

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    private static partial Regex FocusDateTime();

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")]
    private static partial Regex PlainDecimal();

    private static async Task<FocusBooks> BooksWithUsageAsync()
    {
        var books = new FocusBooks();
        await books.PostAsync(
            books.Compute("a1", "acme", "aws", Jan10, 3600, 0.096m, zone: "us-east-1a"),
            books.Compute("a2", "acme", "gcp", Jan10.AddHours(1), 30, 0.5m, region: "europe-west4"),
            books.Egress("a3", "acme", "aws", "gcp", Jan10.AddHours(2), 12.5m, 0.09m, discountRate: 0.25m),
            books.Compute("g1", "globex", "azure", Jan10, 7200, 1.25m));
        return books;
    }

    [SkippableFact]
    public async Task The_header_is_a_valid_FOCUS_1_2_column_set()
    {
        var reference = FocusReferenceColumn.Load();
        var file = await (await BooksWithUsageAsync()).ExportAsync("acme", "2026-01");

        Assert.Equal(file.Header.Count, file.Header.Distinct(StringComparer.Ordinal).Count());
        foreach (var mandatory in reference.Where(c => c.FeatureLevel == "Mandatory"))
            Assert.Contains(mandatory.Name, file.Header);
        var known = reference.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in file.Header)
            Assert.True(known.Contains(name) || name.StartsWith(FocusColumns.CustomPrefix, StringComparison.Ordinal),
                $"column '{name}' is neither a FOCUS 1.2 column nor a custom x_ column");
        Assert.Contains("x_IdempotencyKey", file.Header);
        Assert.StartsWith("AvailabilityZone,BilledCost,BillingAccountId,", Encoding.UTF8.GetString(file.Bytes), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_column_that_FOCUS_says_is_never_null_has_a_value_in_every_row()
    {
        var notNull = FocusReferenceColumn.Load().Where(c => !c.AllowsNulls).Select(c => c.Name).ToList();
        var books = await BooksWithUsageAsync();
        var january = (await books.Ledger.ReadAllAsync("2026-01")).First(t => t.Usage.TenantId == "acme");
        await books.ReverseAsync(january, "2026-01");
        var file = await books.ExportAsync("acme", "2026-01");

        Assert.Equal(4, file.Rows.Count);
        foreach (var row in file.Rows)
            foreach (var column in notNull.Where(row.ContainsKey))
                Assert.False(string.IsNullOrEmpty(row[column]), $"{column} is empty in {row["x_UsageId"]}");
    }

    [Fact]
    public async Task Dates_are_UTC_to_the_second_and_charge_periods_cover_the_usage()
    {
        var books = new FocusBooks();
        var end = Jan10.AddMilliseconds(400);
        await books.PostAsync(books.Compute("frac", "acme", "aws", end, 90.2m, 1m));
        var file = await books.ExportAsync("acme", "2026-01");

        var row = Assert.Single(file.Rows);
        foreach (var column in DateColumns) Assert.Matches(FocusDateTime(), row[column]);
        Assert.Equal("2026-01-01T00:00:00Z", row["BillingPeriodStart"]);
        Assert.Equal("2026-02-01T00:00:00Z", row["BillingPeriodEnd"]);
        // The usage ran from 23:58:30.200 to 00:00:00.400: the start rounds down and the end up, so the interval still covers it.
        Assert.Equal("2026-01-09T23:58:30Z", row["ChargePeriodStart"]);
        Assert.Equal("2026-01-10T00:00:01Z", row["ChargePeriodEnd"]);
    }

    [Fact]
    public async Task Nulls_are_empty_fields_and_values_are_FOCUS_numbers()
    {
        var file = await (await BooksWithUsageAsync()).ExportAsync("acme", "2026-01");
        var text = Encoding.UTF8.GetString(file.Bytes);

        Assert.DoesNotContain("NULL", text, StringComparison.OrdinalIgnoreCase);
        Assert.All(file.Rows, r => Assert.Equal("", r["ChargeClass"]));
        Assert.All(file.Rows, r => Assert.Equal("", r["BillingAccountName"]));
        Assert.All(file.Rows, r => Assert.Equal("", r["InvoiceId"]));
        var gcp = Assert.Single(file.Where("RegionId", "europe-west4"));
        Assert.Equal("", gcp["AvailabilityZone"]);
        Assert.Equal("us-east-1", Assert.Single(file.Where("AvailabilityZone", "us-east-1a"))["RegionId"]);
        foreach (var row in file.Rows)
            foreach (var column in new[] { "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "PricingQuantity", "ConsumedQuantity", "x_BrokerMargin", "x_PeeringDiscount" })
                Assert.Matches(PlainDecimal(), row[column]);
        Assert.All(file.Rows, r => Assert.Equal("USD", r["BillingCurrency"]));
    }

    [Fact]
    public async Task The_broker_issues_the_invoice_and_the_cloud_provides_and_publishes()
    {
        var books = new FocusBooks(new FocusOptions { InvoiceIssuerName = "Example Broker" });
        await books.PostAsync(books.Compute("p1", "acme", "aws", Jan10, 3600, 0.5m), books.Compute("p2", "acme", "oci", Jan10, 3600, 0.5m));
        var file = await books.ExportAsync("acme", "2026-01", invoiceId: "inv-acme-2026-01");

        Assert.All(file.Rows, r => Assert.Equal("Example Broker", r["InvoiceIssuerName"]));
        Assert.All(file.Rows, r => Assert.Equal("inv-acme-2026-01", r["InvoiceId"]));
        Assert.All(file.Rows, r => Assert.Equal("acme", r["BillingAccountId"]));
        Assert.Equal(["AWS", "oci"], file.Rows.Select(r => r["ProviderName"]).Order().ToArray());
        Assert.All(file.Rows, r => Assert.Equal(r["ProviderName"], r["PublisherName"]));
        Assert.All(file.Rows, r => Assert.Equal(("Compute", "Virtual Machines", "compute"), (r["ServiceCategory"], r["ServiceSubcategory"], r["ServiceName"])));
        Assert.Equal("Sky.Mesh", new FocusBooks().Exporter.Options.InvoiceIssuerName);
    }

    [Fact]
    public async Task Money_columns_are_exact_and_add_up_row_by_row()
    {
        var file = await (await BooksWithUsageAsync()).ExportAsync("acme", "2026-01");

        // 12.5 GB at 0.09 = 1.125 list, 25 % peering discount 0.28125, 5 % margin on the rest 0.0421875.
        var egress = Assert.Single(file.Where("ServiceName", "egress"));
        Assert.Equal(("1.125", "0.28125", "0.0421875", "0.84375", "0.8859375"),
            (egress["ListCost"], egress["x_PeeringDiscount"], egress["x_BrokerMargin"], egress["ContractedCost"], egress["BilledCost"]));
        Assert.Equal(("Networking", "Network Connectivity", "gcp/europe-west4", "peer-1"),
            (egress["ServiceCategory"], egress["ServiceSubcategory"], egress["x_Destination"], egress["x_PeeringAgreementId"]));
        foreach (var row in file.Rows)
        {
            decimal D(string column) => FocusFile.Decimal(row[column]);
            Assert.Equal(D("BilledCost"), D("ListCost") - D("x_PeeringDiscount") + D("x_BrokerMargin"));
            Assert.Equal(D("BilledCost"), D("ContractedCost") + D("x_BrokerMargin"));
            Assert.Equal(D("BilledCost"), D("EffectiveCost"));
        }
    }

    [Fact]
    public async Task Pricing_quantity_times_list_unit_price_is_the_list_cost_and_shows_the_billing_minimum()
    {
        var file = await (await BooksWithUsageAsync()).ExportAsync("acme", "2026-01");

        foreach (var row in file.Rows)
        {
            var product = FocusFile.Decimal(row["ListUnitPrice"]) * FocusFile.Decimal(row["PricingQuantity"]);
            Assert.Equal(FocusFile.Decimal(row["ListCost"]), Math.Round(product, 9, MidpointRounding.AwayFromZero));
        }
        // 30 seconds used, billed for the 60-second minimum: an hourly price times 1/60 hour.
        var shortRun = Assert.Single(file.Where("ConsumedQuantity", "30"));
        Assert.Equal(("Seconds", "Hours", "0.5", "0.008333333"), (shortRun["ConsumedUnit"], shortRun["PricingUnit"], shortRun["ListUnitPrice"], shortRun["ListCost"]));
        Assert.Equal("0.016666666", shortRun["PricingQuantity"]);
        var hour = Assert.Single(file.Where("ConsumedQuantity", "3600"));
        Assert.Equal(("1", "0.096"), (hour["PricingQuantity"], hour["ListCost"]));
        var egress = Assert.Single(file.Where("ServiceName", "egress"));
        Assert.Equal(("12.5", "GB", "12.5", "GB"), (egress["ConsumedQuantity"], egress["ConsumedUnit"], egress["PricingQuantity"], egress["PricingUnit"]));
    }

    [Fact]
    public async Task Skus_and_resources_name_the_offer_the_price_and_the_job()
    {
        var file = await (await BooksWithUsageAsync()).ExportAsync("acme", "2026-01");

        var compute = Assert.Single(file.Where("AvailabilityZone", "us-east-1a"));
        Assert.Equal(("aws/us-east-1/m5.large", "aws/us-east-1/m5.large@7", "m5.large"), (compute["SkuId"], compute["SkuPriceId"], compute["SkuMeter"]));
        Assert.Equal(("job-1", "Job", ""), (compute["ResourceId"], compute["ResourceType"], compute["ResourceName"]));
        var egress = Assert.Single(file.Where("ServiceName", "egress"));
        Assert.Equal(("aws/egress", "aws/egress>gcp/europe-west4@7", "Transfer"), (egress["SkuId"], egress["SkuPriceId"], egress["ResourceType"]));
        Assert.All(file.Rows, r => Assert.StartsWith(LedgerTransaction.IdPrefix, r["x_UsageId"], StringComparison.Ordinal));
        Assert.All(file.Rows, r => Assert.Equal(LedgerTransaction.IdFor(r["x_IdempotencyKey"]), r["x_UsageId"]));
    }

    [Fact]
    public async Task Another_tenants_rows_are_absent()
    {
        var books = await BooksWithUsageAsync();
        var acme = await books.ExportAsync("acme", "2026-01");
        var globex = await books.ExportAsync("globex", "2026-01");

        var acmeIds = (await books.Ledger.ReadAllAsync("2026-01")).Where(t => t.Usage.TenantId == "acme").Select(t => t.Id).Order();
        Assert.Equal(acmeIds, acme.Rows.Select(r => r["x_UsageId"]).Order());
        Assert.All(acme.Rows, r => Assert.Equal("acme", r["BillingAccountId"]));
        var only = Assert.Single(globex.Rows);
        Assert.Equal(("globex", "Microsoft"), (only["BillingAccountId"], only["ProviderName"]));
        Assert.DoesNotContain("globex", Encoding.UTF8.GetString(acme.Bytes), StringComparison.Ordinal);
        Assert.Empty((await books.ExportAsync("initech", "2026-01")).Rows);
    }

    [Fact]
    public async Task Late_usage_is_usage_correcting_the_closed_period_billed_in_the_next()
    {
        var books = await BooksWithUsageAsync();
        await books.Ledger.ClosePeriodAsync("2026-01", CancellationToken.None);
        await books.PostAsync(books.Compute("late", "acme", "aws", Jan10.AddDays(5), 600, 0.096m));

        var january = await books.ExportAsync("acme", "2026-01");
        var february = await books.ExportAsync("acme", "2026-02");

        Assert.Equal(3, january.Rows.Count);
        var late = Assert.Single(february.Rows);
        Assert.Equal(("Usage", "Correction", "2026-01"), (late["ChargeCategory"], late["ChargeClass"], late["x_AdjustsPeriodId"]));
        Assert.Equal(("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"), (late["BillingPeriodStart"], late["BillingPeriodEnd"]));
        Assert.Equal(("2026-01-14T23:50:00Z", "2026-01-15T00:00:00Z"), (late["ChargePeriodStart"], late["ChargePeriodEnd"]));
        Assert.Equal(("600", "Seconds"), (late["ConsumedQuantity"], late["ConsumedUnit"]));
        Assert.Contains("late usage of period 2026-01", late["ChargeDescription"], StringComparison.Ordinal);
        Assert.Equal(await books.OwedAsync("acme", "2026-02"), february.Summary.BilledCostNanos);
    }

    [Fact]
    public async Task A_correction_is_an_adjustment_classed_Correction_only_when_it_corrects_another_period()
    {
        var books = await BooksWithUsageAsync();
        var posted = (await books.Ledger.ReadAllAsync("2026-01")).Where(t => t.Usage.TenantId == "acme").ToList();
        var sameMonth = await books.ReverseAsync(posted[0], "2026-01");
        await books.Ledger.ClosePeriodAsync("2026-01", CancellationToken.None);
        var nextMonth = await books.ReverseAsync(posted[2], "2026-02");

        var january = await books.ExportAsync("acme", "2026-01");
        var february = await books.ExportAsync("acme", "2026-02");

        var within = Assert.Single(january.Where("x_UsageId", sameMonth.Id));
        Assert.Equal(("Adjustment", "", posted[0].Id), (within["ChargeCategory"], within["ChargeClass"], within["x_Corrects"]));
        var across = Assert.Single(february.Rows);
        Assert.Equal(("Adjustment", "Correction", posted[2].Id, nextMonth.Id), (across["ChargeCategory"], across["ChargeClass"], across["x_Corrects"], across["x_UsageId"]));
        foreach (var row in new[] { within, across })
        {
            Assert.True(FocusFile.Decimal(row["BilledCost"]) < 0, "a reversal credits the tenant");
            Assert.Equal(("", "", "", "", ""), (row["ConsumedQuantity"], row["ConsumedUnit"], row["PricingQuantity"], row["PricingUnit"], row["ListUnitPrice"]));
            Assert.StartsWith("Correction of tx-", row["ChargeDescription"], StringComparison.Ordinal);
        }
        var original = Assert.Single(january.Where("x_UsageId", posted[2].Id));
        Assert.Equal("-" + original["BilledCost"], across["BilledCost"]);
        Assert.Equal("-" + original["ListCost"], across["ListCost"]);
        Assert.Equal(await books.OwedAsync("acme", "2026-01"), january.Summary.BilledCostNanos);
        Assert.Equal(await books.OwedAsync("acme", "2026-02"), february.Summary.BilledCostNanos);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task BilledCost_sums_exactly_to_what_the_ledger_says_each_tenant_owes(int seed)
    {
        var random = new Random(seed);
        var books = new FocusBooks();
        string[] tenants = ["acme", "globex", "initech"], providers = ["aws", "gcp", "azure", "lambda"];
        var n = 0;
        for (var round = 0; round < 3; round++)
        {
            var batch = new List<Sky.Accounting.Usage.UsagePosting.Rated>();
            for (var i = 0; i < 80; i++, n++)
            {
                var tenant = tenants[random.Next(tenants.Length)];
                var provider = providers[random.Next(providers.Length)];
                var end = FocusBooks.January.AddSeconds(random.Next(1, 31 * 86_400)).AddMilliseconds(random.Next(1000));
                batch.Add(random.Next(4) == 0
                    ? books.Egress($"r{n}", tenant, provider, providers[random.Next(providers.Length)], end, random.Next(1, 100_000) / 1000m, 0.02m + random.Next(10) / 100m, random.Next(3) == 0 ? random.Next(1, 100) / 100m : 0)
                    : books.Compute($"r{n}", tenant, provider, end, random.Next(1, 20_000) / 10m, Math.Round(random.Next(1, 5000) / 997m, 9)));
            }
            await books.Posting.PostAsync(batch, CancellationToken.None);
            // Reversals into February: of January charges (another period) in the first round, of February's own later.
            var posted = await books.Ledger.ReadAllAsync(round == 0 ? "2026-01" : "2026-02");
            foreach (var tx in posted.Where(t => t.Corrects is null && !t.IdempotencyKey.StartsWith("correction:", StringComparison.Ordinal)).OrderBy(_ => random.Next()).Take(5))
                if (await books.Ledger.GetAsync(LedgerTransaction.IdFor("correction:" + tx.IdempotencyKey), CancellationToken.None) is null)
                    await books.ReverseAsync(tx, "2026-02");
            if (round == 0) await books.Ledger.ClosePeriodAsync("2026-01", CancellationToken.None);
        }

        foreach (var tenant in tenants)
            foreach (var period in new[] { "2026-01", "2026-02" })
            {
                var file = await books.ExportAsync(tenant, period);
                var owed = await books.OwedAsync(tenant, period);
                Assert.Equal(owed / 1_000_000_000m, file.Rows.Sum(r => FocusFile.Decimal(r["BilledCost"])));
                Assert.Equal(owed, file.Summary.BilledCostNanos);
                Assert.Equal(file.Rows.Count, file.Summary.Rows);
                Assert.Equal(file.Rows.Count, (await books.Ledger.ReadAllAsync(period)).Count(t => t.Usage.TenantId == tenant));
            }
    }

    [Fact]
    public async Task Text_with_separators_quotes_and_line_breaks_survives_the_round_trip()
    {
        var books = new FocusBooks();
        var rated = books.Compute("odd", "acme", "aws", Jan10, 3600, 1m);
        rated.Usage.Service = "cold \"archive\", tier 2";
        rated.Usage.SubjectId = "job\r\nwith lines";
        await books.PostAsync(rated);

        var row = Assert.Single((await books.ExportAsync("acme", "2026-01")).Rows);
        Assert.Equal("cold \"archive\", tier 2", row["ServiceName"]);
        Assert.Equal("job\r\nwith lines", row["ResourceId"]);
        Assert.Equal(("Other", "Other (Other)"), (row["ServiceCategory"], row["ServiceSubcategory"]));
    }

    [Fact]
    public async Task A_period_without_usage_is_the_header_alone()
    {
        var file = await new FocusBooks().ExportAsync("acme", "2026-03");

        Assert.Empty(file.Rows);
        Assert.Equal(FocusColumns.All.Select(c => c.Name), file.Header);
        Assert.EndsWith("x_Destination\r\n", Encoding.UTF8.GetString(file.Bytes), StringComparison.Ordinal);
        Assert.Equal(new FocusExportSummary(0, 0), file.Summary);
    }

    [Fact]
    public async Task Chunks_are_the_same_file_in_64_KiB_pieces()
    {
        var books = new FocusBooks();
        var records = Enumerable.Range(0, 2500).Select(i => books.Compute($"c{i}", "acme", "aws", Jan10.AddSeconds(i), 60 + i, 0.25m)).ToArray();
        await books.PostAsync(records);
        var file = await books.ExportAsync("acme", "2026-01");

        var chunks = new List<ReadOnlyMemory<byte>>();
        await foreach (var chunk in books.Exporter.ChunksAsync(books.Exporter.Scope("acme", "2026-01"))) chunks.Add(chunk);

        Assert.Equal(2500, file.Rows.Count);
        Assert.True(chunks.Count > 3, $"only {chunks.Count} chunks");
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(FocusExporter.MaxChunkBytes, c.Length));
        Assert.InRange(chunks[^1].Length, 1, FocusExporter.MaxChunkBytes);
        Assert.Equal(file.Bytes, chunks.SelectMany(c => c.ToArray()).ToArray());
    }

    [Fact]
    public void A_scope_without_a_tenant_or_with_a_period_the_calendar_does_not_know_is_refused()
    {
        var exporter = new FocusBooks().Exporter;

        Assert.Equal("tenant_id", Assert.Throws<ArgumentException>(() => exporter.Scope("", "2026-01")).ParamName);
        Assert.Equal("tenant_id", Assert.Throws<ArgumentException>(() => exporter.Scope("ac me", "2026-01")).ParamName);
        var period = Assert.Throws<ArgumentException>(() => exporter.Scope("acme", "2026-13"));
        Assert.Equal("period_id", period.ParamName);
        Assert.Contains("monthly billing period (YYYY-MM)", period.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new FocusExporter(new MemoryLedger(TimeProvider.System), new Sky.Accounting.Billing.BillingCalendar(),
            new FocusOptions { InvoiceIssuerName = " " }));
    }
}
