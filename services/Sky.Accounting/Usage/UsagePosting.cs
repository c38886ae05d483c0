using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Pricing;

namespace Sky.Accounting.Usage;

/// <summary>
/// Rates usage and posts it to the ledger, once per idempotency key. Each posting balances by construction: the tenant
/// is debited what it pays, the provider credited its list amount, the peering agreement (if one waived part of it)
/// debited the discount on the provider's behalf, the broker credited its margin. Usage goes to the period its end falls
/// in; when that period is closed (also when the close races the posting) it goes to the next open one, marked as an
/// adjustment of the closed one, so a closed invoice never changes.
/// </summary>
public sealed class UsagePosting(ILedger ledger, UsageRater rater, BillingCalendar calendar, TimeProvider time, BillingSignal? signal = null)
{
    private const decimal NanosPerUnit = 1_000_000_000m;

    /// <summary>A usage record rated and ready to post: the record and its charge.</summary>
    public sealed record Rated(RatedUsage Usage, RatedCharge Charge);

    /// <summary>Rates placement's compute usage (per-node hourly price at the time of use, node-seconds).</summary>
    /// <exception cref="ArgumentException">The event cannot be rated; the message says why.</exception>
    public Rated Rate(PlacementJobUsage e)
    {
        if (e.Service != "compute")
            throw new ArgumentException($"usage {e.IdempotencyKey}: service '{e.Service}' is not rated from placement events (compute only; egress is rated from transfers)");
        if (e.Unit != "second" || e.PriceUnit != "hour")
            throw new ArgumentException($"usage {e.IdempotencyKey}: compute is {e.Unit} at a price per {e.PriceUnit}; expected seconds at a price per hour");
        var quantity = Quantity(e.Quantity, e.IdempotencyKey);
        var price = e.UnitPrice?.ToDecimal() ?? throw new ArgumentException($"usage {e.IdempotencyKey}: unit_price is missing");
        var usage = new RatedUsage
        {
            IdempotencyKey = e.IdempotencyKey,
            TenantId = e.TenantId,
            Provider = e.Location?.Provider ?? "",
            Service = e.Service,
            Location = e.Location,
            OfferId = e.OfferId,
            Sku = e.Sku,
            Quantity = e.Quantity,
            Unit = e.Unit,
            UnitPrice = e.UnitPrice,
            PriceUnit = e.PriceUnit,
            PriceBookRevision = e.PriceBookRevision,
            QuoteId = e.QuoteId,
            QuoteLineId = e.QuoteLineId,
            SubjectId = e.JobId,
            UsageStart = e.UsageStart,
            UsageEnd = e.UsageEnd,
        };
        if (usage.Provider.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: location.provider is missing");
        if (usage.TenantId.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: tenant_id is missing");
        if (usage.UsageEnd is null) throw new ArgumentException($"usage {e.IdempotencyKey}: usage_end is missing");
        return new Rated(usage, rater.Compute(price, quantity, Math.Max(1, e.NumNodes)));
    }

    /// <summary>A decimal quantity string as the contract writes it (digits, optional fraction; no sign or exponent).</summary>
    public static decimal Quantity(string text, string key)
    {
        if (string.IsNullOrEmpty(text) || text.Any(c => c is not (>= '0' and <= '9') and not '.') || text.Count(c => c == '.') > 1
            || text[0] == '.' || text[^1] == '.'
            || !decimal.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"usage {key}: quantity '{text}' is not a decimal number (digits with an optional fraction, e.g. \"3600\" or \"0.25\")");
        return value;
    }

    /// <summary>Posts rated usage; returns one result per record in order.</summary>
    public async Task<IReadOnlyList<PostResult>> PostAsync(IReadOnlyList<Rated> records, CancellationToken ct)
    {
        var results = new PostResult[records.Count];
        var pending = Enumerable.Range(0, records.Count).ToList();
        var periods = records.Select(r => calendar.PeriodOf(r.Usage.UsageEnd.ToDateTimeOffset())).ToArray();
        var closed = await ledger.ClosedPeriodsAsync(ct);
        // A period closed between the read above and the posting answers PeriodClosed: move on to the next and try again.
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round > 24) throw new InvalidOperationException("usage could not be posted: billing periods keep closing under it");
            foreach (var i in pending)
                while (closed.Contains(periods[i])) periods[i] = calendar.Next(periods[i]);
            var batch = pending.Select(i => Transaction(records[i], periods[i])).ToList();
            var posted = await ledger.PostAsync(batch, ct);
            var retry = new List<int>();
            for (var k = 0; k < pending.Count; k++)
            {
                if (posted[k].Outcome == PostOutcome.PeriodClosed) retry.Add(pending[k]);
                else results[pending[k]] = posted[k];
            }
            if (retry.Count > 0) closed = await ledger.ClosedPeriodsAsync(ct);
            pending = retry;
        }
        // Wake the billing feed, which turns postings into billing.usage.rated events.
        signal?.Pulse();
        return results;
    }

    private LedgerTransaction Transaction(Rated rated, string period)
    {
        var usage = rated.Usage.Clone();
        var charge = rated.Charge;
        var home = calendar.PeriodOf(usage.UsageEnd.ToDateTimeOffset());
        usage.PeriodId = period;
        usage.AdjustsPeriodId = period == home ? "" : home;
        usage.ListAmount = Usd(charge.ListAmount);
        usage.PeeringDiscount = Usd(charge.PeeringDiscount);
        usage.PeeringAgreementId = charge.AgreementId ?? "";
        usage.Margin = Usd(charge.Margin);
        usage.Amount = Usd(charge.Amount);
        usage.RatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        var entries = new List<LedgerEntry>(4)
        {
            new(LedgerAccounts.Tenant(usage.TenantId), -Nanos(charge.Amount)),
            new(LedgerAccounts.Provider(usage.Provider), Nanos(charge.ListAmount)),
            new(LedgerAccounts.BrokerMargin, Nanos(charge.Margin)),
        };
        if (charge.PeeringDiscount != 0)
            entries.Add(new(LedgerAccounts.Peering(charge.AgreementId ?? "unknown", usage.Provider), -Nanos(charge.PeeringDiscount)));
        return new LedgerTransaction { IdempotencyKey = usage.IdempotencyKey, PeriodId = period, Entries = entries, Usage = usage };
    }

    private static Money Usd(decimal amount) => Money.FromDecimal(amount, "USD");

    private static long Nanos(decimal amount) => decimal.ToInt64(amount * NanosPerUnit);
}
