using System.Globalization;
using CsvHelper;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Billing;
using Sky.Accounting.Focus;
using Sky.Accounting.Ledger;
using Sky.Accounting.Usage;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Pricing;

namespace Sky.Accounting.Tests.Focus;

/// <summary>
/// A broker's books for FOCUS tests: a memory ledger that usage is posted to the way the broker posts it
/// (<see cref="UsagePosting"/>: tenant debited, provider credited its list amount, peering debited the discount, broker
/// credited its margin), and an exporter over it whose files are read back with CsvHelper.
/// </summary>
internal sealed class FocusBooks
{
    public static readonly DateTimeOffset January = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(January.AddDays(20));
    public MemoryLedger Ledger { get; }
    public BillingCalendar Calendar { get; } = new();
    public UsageRater Rater { get; } = new();
    public UsagePosting Posting { get; }
    public FocusExporter Exporter { get; }

    public FocusBooks(FocusOptions? options = null)
    {
        Ledger = new MemoryLedger(Time);
        Posting = new UsagePosting(Ledger, Rater, Calendar, Time);
        Exporter = new FocusExporter(Ledger, Calendar, options);
    }

    public async Task<IReadOnlyList<PostResult>> PostAsync(params UsagePosting.Rated[] records) => await Posting.PostAsync(records, CancellationToken.None);

    /// <summary>Compute usage rated at <paramref name="hourly"/> per hour for <paramref name="seconds"/> ending at <paramref name="end"/>.</summary>
    public UsagePosting.Rated Compute(string key, string tenant, string provider, DateTimeOffset end, decimal seconds, decimal hourly,
        string region = "us-east-1", string zone = "", string subject = "job-1")
    {
        var usage = new RatedUsage
        {
            IdempotencyKey = "placement:" + key,
            TenantId = tenant,
            Provider = provider,
            Service = "compute",
            Location = new Location { Provider = provider, Region = region, Zone = zone },
            OfferId = $"{provider}/{region}/m5.large",
            Sku = "m5.large",
            Quantity = seconds.ToString(CultureInfo.InvariantCulture),
            Unit = "second",
            UnitPrice = Money.FromDecimal(hourly, "USD"),
            PriceUnit = "hour",
            PriceBookRevision = 7,
            SubjectId = subject,
            UsageStart = Timestamp.FromDateTimeOffset(end.AddTicks(-(long)(seconds * TimeSpan.TicksPerSecond))),
            UsageEnd = Timestamp.FromDateTimeOffset(end),
        };
        return new UsagePosting.Rated(usage, Rater.Compute(hourly, seconds, 1));
    }

    /// <summary>Egress of <paramref name="gb"/> GB at <paramref name="perGb"/>, less <paramref name="discountRate"/> of it under an agreement.</summary>
    public UsagePosting.Rated Egress(string key, string tenant, string provider, string destination, DateTimeOffset end, decimal gb, decimal perGb,
        decimal discountRate = 0, string agreement = "peer-1")
    {
        var list = Rounding.ToNanos(gb * perGb);
        var discount = Rounding.ToNanos(list * discountRate);
        var usage = new RatedUsage
        {
            IdempotencyKey = "transfer:" + key,
            TenantId = tenant,
            Provider = provider,
            Service = "egress",
            Location = new Location { Provider = provider, Region = "us-east-1" },
            Destination = new Location { Provider = destination, Region = "europe-west4" },
            Sku = "egress",
            Quantity = gb.ToString(CultureInfo.InvariantCulture),
            Unit = "gb",
            UnitPrice = Money.FromDecimal(perGb, "USD"),
            PriceUnit = "gb",
            PriceBookRevision = 7,
            SubjectId = "transfer-" + key,
            UsageStart = Timestamp.FromDateTimeOffset(end.AddMinutes(-5)),
            UsageEnd = Timestamp.FromDateTimeOffset(end),
        };
        var charge = new RatedCharge(list, discount, discount == 0 ? null : agreement, Rounding.ToNanos((list - discount) * Rater.Policy.MarginRate));
        return new UsagePosting.Rated(usage, charge);
    }

    /// <summary>A credit that reverses <paramref name="original"/> entry by entry, posted to <paramref name="period"/>.</summary>
    public async Task<LedgerTransaction> ReverseAsync(LedgerTransaction original, string period)
    {
        var usage = original.Usage.Clone();
        usage.UsageId = "";
        usage.IdempotencyKey = "";
        usage.PeriodId = "";
        usage.AdjustsPeriodId = "";
        var reversal = new LedgerTransaction
        {
            IdempotencyKey = "correction:" + original.IdempotencyKey,
            PeriodId = period,
            Entries = [.. original.Entries.Select(e => e with { AmountNanos = -e.AmountNanos })],
            Corrects = original.Id,
            Usage = usage,
        };
        var result = await Ledger.PostAsync([reversal], CancellationToken.None);
        Assert.Equal(PostOutcome.Posted, result[0].Outcome);
        return (await Ledger.GetAsync(reversal.Id, CancellationToken.None))!;
    }

    public async Task<FocusFile> ExportAsync(string tenant, string period, string? invoiceId = null)
    {
        using var output = new MemoryStream();
        var summary = await Exporter.WriteAsync(Exporter.Scope(tenant, period, invoiceId), output);
        return FocusFile.Read(output.ToArray(), summary);
    }

    /// <summary>What the tenant owes for the period, from the ledger itself: minus its receivable's movement there, in nanos.</summary>
    public async Task<long> OwedAsync(string tenant, string period)
    {
        var account = LedgerAccounts.Tenant(tenant);
        long owed = 0;
        await foreach (var tx in Ledger.ReadPeriodAsync(period, CancellationToken.None))
            foreach (var e in tx.Entries)
                if (e.Account == account) owed -= e.AmountNanos;
        return owed;
    }
}

/// <summary>A FOCUS file as written and as CsvHelper reads it back: the header and each row by column name.</summary>
internal sealed record FocusFile(byte[] Bytes, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyDictionary<string, string>> Rows, FocusExportSummary Summary)
{
    public static FocusFile Read(byte[] bytes, FocusExportSummary summary)
    {
        using var reader = CsvReader.Create(bytes, new CsvReaderOptions { Separator = ',' });
        var rows = new List<IReadOnlyDictionary<string, string>>();
        string[] header = [];
        while (reader.Read())
        {
            header = [.. reader.Headers];
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Length; i++) row[header[i]] = reader.GetString(i) ?? "";
            rows.Add(row);
        }
        if (rows.Count == 0) header = [.. reader.Headers];
        return new FocusFile(bytes, header, rows, summary);
    }

    public static decimal Decimal(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    public IEnumerable<IReadOnlyDictionary<string, string>> Where(string column, string value) => Rows.Where(r => r[column] == value);
}

/// <summary>The FOCUS 1.2 column list in ../shared/reference: name, feature level and whether nulls are allowed.</summary>
internal sealed record FocusReferenceColumn(string Name, string FeatureLevel, string Type, bool AllowsNulls)
{
    public static IReadOnlyList<FocusReferenceColumn> Load()
    {
        var path = Sky.Testing.SharedData.Require("reference/focus-1.2-columns.txt");
        var columns = new List<FocusReferenceColumn>();
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split('|', StringSplitOptions.TrimEntries);
            if (parts.Length != 5 || line.StartsWith('#')) continue;
            columns.Add(new FocusReferenceColumn(parts[0], parts[1], parts[2], bool.Parse(parts[3])));
        }
        Assert.True(columns.Count > 40, $"{path} lists only {columns.Count} columns");
        return columns;
    }
}
