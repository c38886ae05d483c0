using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Common.V1;

namespace Sky.Accounting.Ledger;

/// <summary>What <see cref="LedgerLoad.RunAsync"/> did and how fast.</summary>
public sealed record LedgerLoadResult(int Records, int Deliveries, int Posted, int Duplicates, TimeSpan Elapsed)
{
    /// <summary>Deliveries (records and re-deliveries) per second.</summary>
    public double RecordsPerSecond => Deliveries / Elapsed.TotalSeconds;
}

/// <summary>
/// A synthetic ingest load for bench/: compute usage for 50 tenants on four providers, each record a balanced
/// three-entry transaction (tenant receivable, provider payable, broker margin), posted in batches.
/// </summary>
public static class LedgerLoad
{
    private static readonly string[] Providers = ["aws", "gcp", "azure", "lambda"];

    /// <summary>
    /// Posts <paramref name="records"/> distinct records in batches of <paramref name="batch"/>, with
    /// <paramref name="concurrency"/> batches in flight. A <paramref name="duplicateFraction"/> of the records is delivered
    /// a second time in the following batch, as at-least-once pub/sub does; each should post once. Keys start with
    /// <paramref name="runId"/>, so runs on one ledger do not collide.
    /// </summary>
    public static async Task<LedgerLoadResult> RunAsync(ILedger ledger, int records, int batch, int concurrency = 1,
        double duplicateFraction = 0, string periodId = "2026-01", string? runId = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        if (duplicateFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(duplicateFraction), "between 0 and 1");
        runId ??= Guid.NewGuid().ToString("N")[..8];
        var batches = (records + batch - 1) / batch;
        var threshold = (int)Math.Round(duplicateFraction * 1000);
        int nextBatch = -1, deliveries = 0, posted = 0, duplicates = 0;

        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref nextBatch)) < batches)
            {
                var txs = new List<LedgerTransaction>(batch + batch * threshold / 1000 + 1);
                for (var r = b * batch; r < Math.Min(records, (b + 1) * batch); r++) txs.Add(Record(runId, r, periodId));
                if (b > 0)
                    for (var r = (b - 1) * batch; r < b * batch; r++)
                        if (IsDuplicated(r, threshold)) txs.Add(Record(runId, r, periodId));
                var results = await ledger.PostAsync(txs, ct);
                Interlocked.Add(ref deliveries, txs.Count);
                Interlocked.Add(ref posted, results.Count(r => r.Outcome == PostOutcome.Posted));
                Interlocked.Add(ref duplicates, results.Count(r => r.Outcome == PostOutcome.Duplicate));
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        // The last batch's re-deliveries have no following batch: send them now, as a late re-delivery would arrive.
        var lastStart = (batches - 1) * batch;
        var tail = batches == 0 ? [] : Enumerable.Range(lastStart, records - lastStart)
            .Where(r => IsDuplicated(r, threshold)).Select(r => Record(runId, r, periodId)).ToList();
        if (tail.Count > 0)
        {
            var results = await ledger.PostAsync(tail, ct);
            deliveries += tail.Count;
            posted += results.Count(r => r.Outcome == PostOutcome.Posted);
            duplicates += results.Count(r => r.Outcome == PostOutcome.Duplicate);
        }
        return new LedgerLoadResult(records, deliveries, posted, duplicates, clock.Elapsed);
    }

    /// <summary>A fixed, evenly spread choice of records, about <paramref name="perMille"/> in 1000.</summary>
    private static bool IsDuplicated(int record, int perMille) => perMille > 0 && (int)((uint)record * 2654435761u % 1000) < perMille;

    private static LedgerTransaction Record(string runId, int r, string periodId)
    {
        var tenant = "tenant-" + (r % 50).ToString(CultureInfo.InvariantCulture);
        var provider = Providers[r % Providers.Length];
        long list = 1_000_000 + r % 997 * 1_000, margin = list / 10;
        var start = DateTimeOffset.UnixEpoch.AddDays(20454).AddSeconds(r % 86_400);
        return new LedgerTransaction
        {
            IdempotencyKey = $"placement:{runId}:{r.ToString(CultureInfo.InvariantCulture)}",
            PeriodId = periodId,
            Entries =
            [
                new(LedgerAccounts.Tenant(tenant), -(list + margin)),
                new(LedgerAccounts.Provider(provider), list),
                new(LedgerAccounts.BrokerMargin, margin),
            ],
            Usage = new RatedUsage
            {
                TenantId = tenant,
                Provider = provider,
                Service = "compute",
                Location = new Location { Provider = provider, Region = "region-" + (r % 7).ToString(CultureInfo.InvariantCulture) },
                OfferId = provider + "/m5.large",
                Sku = "m5.large",
                Quantity = "60",
                Unit = "second",
                PriceUnit = "hour",
                ListAmount = Usd(list),
                Margin = Usd(margin),
                Amount = Usd(list + margin),
                SubjectId = "job-" + (r / 100).ToString(CultureInfo.InvariantCulture),
                UsageStart = Timestamp.FromDateTimeOffset(start),
                UsageEnd = Timestamp.FromDateTimeOffset(start.AddSeconds(60)),
            },
        };
    }

    private static Money Usd(long nanos) => new() { CurrencyCode = "USD", Units = nanos / 1_000_000_000, Nanos = (int)(nanos % 1_000_000_000) };
}
