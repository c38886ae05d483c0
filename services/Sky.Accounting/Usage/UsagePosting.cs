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

    /// <summary>
    /// Rates placement's usage: compute at the per-node hourly price at the time of use for the node-seconds; egress (data
    /// a task's output or input bucket sent to a task in another region) in bytes at the pair's tiers per GB with the
    /// peering agreements of <paramref name="peering"/> in force when it ended, as transfers are rated.
    /// </summary>
    /// <exception cref="ArgumentException">The event cannot be rated; the message says why.</exception>
    public Rated Rate(PlacementJobUsage e, PeeringBook peering)
    {
        if (e.Service == "egress") return RateEgress(e, peering);
        if (e.Service != "compute")
            throw new ArgumentException($"usage {e.IdempotencyKey}: service '{e.Service}' is not rated from placement events (compute or egress)");
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
            // As rated: the minimum applies per node, so reconciliation must re-rate with the same count.
            Nodes = Math.Max(1, e.NumNodes),
            Spot = e.UseSpot,
            UsageStart = e.UsageStart,
            UsageEnd = e.UsageEnd,
        };
        if (usage.Provider.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: location.provider is missing");
        if (usage.TenantId.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: tenant_id is missing");
        if (usage.UsageEnd is null) throw new ArgumentException($"usage {e.IdempotencyKey}: usage_end is missing");
        return new Rated(usage, rater.Compute(price, quantity, usage.Nodes));
    }

    private Rated RateEgress(PlacementJobUsage e, PeeringBook peering)
    {
        if (e.Unit != "byte" || e.PriceUnit != "gb")
            throw new ArgumentException($"usage {e.IdempotencyKey}: egress is {e.Unit} at a price per {e.PriceUnit}; expected bytes at a price per gb");
        var (src, dst) = (e.Location ?? throw new ArgumentException($"usage {e.IdempotencyKey}: location is missing"),
            e.Destination ?? throw new ArgumentException($"usage {e.IdempotencyKey}: destination is missing"));
        if (src.Provider.Length == 0 || dst.Provider.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: location and destination need a provider");
        if (e.TenantId.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: tenant_id is missing");
        if (e.UsageEnd is null) throw new ArgumentException($"usage {e.IdempotencyKey}: usage_end is missing");
        var gb = Quantity(e.Quantity, e.IdempotencyKey) / NanosPerUnit;
        var price = e.UnitPrice?.ToDecimal() ?? throw new ArgumentException($"usage {e.IdempotencyKey}: unit_price is missing");
        var tiers = e.Tiers.Count > 0 ? EgressTiers.FromProto(e.Tiers, e.UnitPrice.CurrencyCode is { Length: > 0 } code ? code : "USD") : EgressTiers.Flat(price);
        var usage = new RatedUsage
        {
            IdempotencyKey = e.IdempotencyKey, TenantId = e.TenantId, Provider = src.Provider, Service = "egress", Location = src, Destination = dst,
            OfferId = e.OfferId, Sku = "egress", Quantity = e.Quantity, Unit = "byte", UnitPrice = e.UnitPrice, PriceUnit = "gb",
            PriceBookRevision = e.PriceBookRevision, QuoteId = e.QuoteId, QuoteLineId = e.QuoteLineId, SubjectId = e.JobId,
            UsageStart = e.UsageStart, UsageEnd = e.UsageEnd, Tiers = { e.Tiers },
        };
        var agreements = peering.InForce(e.UsageEnd.ToDateTimeOffset());
        return new Rated(usage, rater.Egress(tiers, agreements, src.Provider, src.Region, dst.Provider, dst.Region, gb));
    }

    /// <summary>
    /// Rates a finished transfer's usage: egress per region pair at the list price per GB the event names (the price book
    /// revision it ran under) with the peering agreements in force when it ended, and gateway VM time per region like
    /// compute (per second, the minimum per VM). Each part has its own key under the transfer's, so a redelivered event
    /// posts nothing twice.
    /// </summary>
    /// <exception cref="ArgumentException">The event cannot be rated; the message says why.</exception>
    public IReadOnlyList<Rated> Rate(TransferUsage e, PeeringBook peering)
    {
        if (e.IdempotencyKey.Length == 0) throw new ArgumentException($"transfer {e.TransferId}: idempotency_key is missing");
        if (e.TenantId.Length == 0) throw new ArgumentException($"usage {e.IdempotencyKey}: tenant_id is missing");
        if (e.UsageEnd is null) throw new ArgumentException($"usage {e.IdempotencyKey}: usage_end is missing");
        var agreements = peering.InForce(e.UsageEnd.ToDateTimeOffset());
        var rated = new List<Rated>(e.Egress.Count + e.Gateways.Count);
        foreach (var x in e.Egress)
        {
            var (src, dst) = (x.Source ?? throw Missing(e, "egress.source"), x.Destination ?? throw Missing(e, "egress.destination"));
            var perUnit = x.UnitPrice?.ToDecimal() ?? throw Missing(e, "egress.unit_price");
            if (x.Bytes < 0) throw new ArgumentException($"usage {e.IdempotencyKey}: {src.Provider}/{src.Region} -> {dst.Provider}/{dst.Region} sent {x.Bytes} bytes");
            var (gb, perGb) = x.PriceUnit switch
            {
                "gb" => (x.Bytes / 1_000_000_000m, perUnit),
                "gib" => (x.Bytes / 1_073_741_824m, perUnit),   // priced per GiB: count GiB, so the unit price stays exact
                _ => throw new ArgumentException($"usage {e.IdempotencyKey}: egress priced per '{x.PriceUnit}'; expected gb or gib"),
            };
            var usage = Transfer(e, $"{e.IdempotencyKey}:egress:{src.Provider}/{src.Region}->{dst.Provider}/{dst.Region}", "egress", src, x.OfferId, "egress",
                PeriodStatement.Text(gb), x.PriceUnit, x.UnitPrice, x.PriceUnit, x.QuoteLineId);
            usage.Destination = dst;
            // With the pair's tiers (per GB, from 0 GB for this transfer, as its quote priced them); else the unit price for every unit.
            var tiers = EgressTiers.Flat(perGb);
            if (x.Tiers.Count > 0)
            {
                if (x.PriceUnit != "gb") throw new ArgumentException($"usage {e.IdempotencyKey}: egress tiers are per GB, but the price is per '{x.PriceUnit}'");
                tiers = EgressTiers.FromProto(x.Tiers, x.UnitPrice.CurrencyCode is { Length: > 0 } code ? code : "USD");
                usage.Tiers.Add(x.Tiers);
            }
            rated.Add(new Rated(usage, rater.Egress(tiers, agreements, src.Provider, src.Region, dst.Provider, dst.Region, gb)));
        }
        foreach (var g in e.Gateways)
        {
            var at = g.Location ?? throw Missing(e, "gateways.location");
            if (g.PriceUnit != "hour") throw new ArgumentException($"usage {e.IdempotencyKey}: gateway VMs priced per '{g.PriceUnit}'; expected hour");
            var hourly = g.UnitPrice?.ToDecimal() ?? throw Missing(e, "gateways.unit_price");
            var seconds = (decimal)(g.VmTime ?? throw Missing(e, "gateways.vm_time")).ToTimeSpan().Ticks / TimeSpan.TicksPerSecond;
            var usage = Transfer(e, $"{e.IdempotencyKey}:gateway:{at.Provider}/{at.Region}/{g.InstanceType}", "transfer-gateway", at, g.OfferId, g.InstanceType,
                PeriodStatement.Text(seconds), "second", g.UnitPrice, "hour", g.QuoteLineId);
            usage.Nodes = Math.Max(1, g.VmCount);
            rated.Add(new Rated(usage, rater.Compute(hourly, seconds, usage.Nodes)));
        }
        return rated;
    }

    private static RatedUsage Transfer(TransferUsage e, string key, string service, Location at, string offer, string sku, string quantity, string unit,
        Money price, string priceUnit, string quoteLine)
    {
        if (at.Provider.Length == 0) throw new ArgumentException($"usage {key}: location.provider is missing");
        return new RatedUsage
        {
            IdempotencyKey = key, TenantId = e.TenantId, Provider = at.Provider, Service = service, Location = at, OfferId = offer, Sku = sku,
            Quantity = quantity, Unit = unit, UnitPrice = price, PriceUnit = priceUnit, PriceBookRevision = e.PriceBookRevision,
            QuoteId = e.QuoteId, QuoteLineId = quoteLine, SubjectId = e.TransferId, UsageStart = e.UsageStart, UsageEnd = e.UsageEnd,
        };
    }

    private static ArgumentException Missing(TransferUsage e, string field) => new($"usage {e.IdempotencyKey}: {field} is missing");

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
