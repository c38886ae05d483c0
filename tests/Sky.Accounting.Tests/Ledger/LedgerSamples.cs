using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>Transactions for ledger tests: a usage charge posted the way the broker posts it.</summary>
internal static class LedgerSamples
{
    public static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-02-03T04:05:06.789Z");

    /// <summary>
    /// The tenant debited <paramref name="list"/> + <paramref name="margin"/>, the provider credited the list amount and
    /// the broker its margin.
    /// </summary>
    public static LedgerTransaction Charge(string key, string period = "2026-01", string tenant = "acme", string provider = "aws",
        long list = 1_000_000, long margin = 100_000, string quote = "", string subject = "", DateTimeOffset? usageEnd = null, string? corrects = null) =>
        new()
        {
            IdempotencyKey = key,
            PeriodId = period,
            Entries =
            [
                new(LedgerAccounts.Tenant(tenant), -(list + margin)),
                new(LedgerAccounts.Provider(provider), list),
                new(LedgerAccounts.BrokerMargin, margin),
            ],
            Corrects = corrects,
            Usage = Usage(tenant, provider, quote, subject, usageEnd ?? Now.AddDays(-3)),
        };

    /// <summary>A credit that reverses <paramref name="original"/> entry by entry.</summary>
    public static LedgerTransaction Reversal(string key, LedgerTransaction original, string? period = null) => original with
    {
        IdempotencyKey = key,
        PeriodId = period ?? original.PeriodId,
        Entries = [.. original.Entries.Select(e => e with { AmountNanos = -e.AmountNanos })],
        Corrects = original.Id,
        Usage = Usage(original.Usage.TenantId, original.Usage.Provider, original.Usage.QuoteId, original.Usage.SubjectId, original.Usage.UsageEnd.ToDateTimeOffset()),
    };

    public static RatedUsage Usage(string tenant, string provider, string quote, string subject, DateTimeOffset end) => new()
    {
        TenantId = tenant,
        Provider = provider,
        Service = "compute",
        Location = new Sky.Common.V1.Location { Provider = provider, Region = "us-east-1" },
        OfferId = provider + "/m5.large",
        Sku = "m5.large",
        Quantity = "3600",
        Unit = "second",
        PriceUnit = "hour",
        QuoteId = quote,
        SubjectId = subject,
        UsageStart = Timestamp.FromDateTimeOffset(end.AddHours(-1)),
        UsageEnd = Timestamp.FromDateTimeOffset(end),
    };

    public static async Task<List<LedgerTransaction>> ReadAllAsync(this ILedger ledger, string period)
    {
        var all = new List<LedgerTransaction>();
        await foreach (var tx in ledger.ReadPeriodAsync(period, CancellationToken.None)) all.Add(tx);
        return all;
    }

    /// <summary>Every page of a query, with the tokens that led to them.</summary>
    public static async Task<List<LedgerPage>> PagesAsync(this ILedger ledger, LedgerQuery query)
    {
        var pages = new List<LedgerPage>();
        for (var q = query; ;)
        {
            var page = await ledger.QueryAsync(q, CancellationToken.None);
            pages.Add(page);
            if (page.NextPageToken is null) return pages;
            Assert.True(pages.Count < 10_000, "paging does not end");
            q = q with { PageToken = page.NextPageToken };
        }
    }

    /// <summary>What a test compares between stores: everything but object identity.</summary>
    public static string Describe(LedgerTransaction tx) =>
        $"{tx.Id} {tx.Sequence} {tx.IdempotencyKey} {tx.PeriodId} {tx.Corrects} {tx.PostedAt:O} [{string.Join(", ", tx.Entries.Select(e => $"{e.Account}={e.AmountNanos}"))}] {tx.Usage}";
}
