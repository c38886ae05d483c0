using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Pricing;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;

namespace Sky.Transfer.Jobs;

/// <summary>
/// The quote of a transfer plan: one egress line per region pair the plan sends bytes over and one gateway line per
/// region and instance type, priced by the one <see cref="UsageRater"/> exactly as accounting will rate the transfer's
/// usage (egress at the pair's list price per GB as a flat price, gateway VMs per second with the per-VM minimum). It reads
/// the plan with <see cref="TransferUsageBuilder"/>'s split and prices, so a transfer that sends what was planned in the
/// planned time is billed the quote's total to the nano. Pure, so it can be tested without a host.
/// </summary>
public static class TransferQuoteBuilder
{
    private const decimal BytesPerGb = 1_000_000_000m;

    /// <summary>The quote of plan <paramref name="planId"/> (one quote per plan).</summary>
    public static string QuoteId(string planId) => "q-" + planId;

    /// <summary>"egress:&lt;src provider&gt;/&lt;src region&gt;-&gt;&lt;dst provider&gt;/&lt;dst region&gt;".</summary>
    public static string EgressLineId(CloudRegion from, CloudRegion to) => $"egress:{from}->{to}";

    /// <summary>"gateway:&lt;provider&gt;/&lt;region&gt;/&lt;instance type&gt;".</summary>
    public static string GatewayLineId(Location at, string instanceType) => $"gateway:{at.Provider}/{at.Region}/{instanceType}";

    /// <summary>
    /// Prices <paramref name="plan"/> at the prices of <paramref name="catalog"/> (the snapshot it was planned on) with the
    /// peering agreements of <paramref name="peering"/> (those in force at quote time; null for none). Pairs the egress
    /// grid has no price for (a local folder) and regions without a gateway offer get no line: nothing will be billed for them.
    /// </summary>
    /// <exception cref="ArgumentException">The plan has no predicted duration, or a gateway group is listed twice.</exception>
    public static Quote Build(string planId, string tenantId, TransferPlan plan, TransferCatalogSnapshot catalog, IEgressAdjuster? peering,
        UsageRater rater, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(planId);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(rater);
        var duration = plan.PredictedDuration?.ToTimeSpan() ?? throw new ArgumentException($"transfer plan {planId} has no predicted duration");
        var currency = TransferUsageBuilder.CurrencyOf(plan);
        var quote = new Quote
        {
            QuoteId = QuoteId(planId), TenantId = tenantId, SubjectKind = QuoteSubjectKind.Transfer, PlanId = planId,
            PriceBookRevision = catalog.Revision, CreatedAt = Timestamp.FromDateTimeOffset(now),
        };

        foreach (var (from, to, bytes) in TransferUsageBuilder.BytesPerPair(plan, plan.Routes.Sum(r => r.Bytes)))
        {
            if (bytes <= 0 || TransferUsageBuilder.ListTiers(catalog, from, to, currency) is not { } tiers) continue;
            var unitPrice = tiers[0].PricePerGb;
            var charge = rater.Egress(EgressTiers.FromProto(tiers, currency), peering, from.Provider, from.Region, to.Provider, to.Region, bytes / BytesPerGb);
            quote.Lines.Add(new QuoteLine
            {
                LineId = EgressLineId(from, to), Service = "egress", Description = $"egress {from} -> {to}: {bytes} bytes",
                Location = TransferPlanProto.Location(from), Destination = TransferPlanProto.Location(to), OfferId = TransferUsageBuilder.EgressOfferId(from),
                Sku = "egress", Quantity = bytes.ToString(CultureInfo.InvariantCulture), Unit = "byte", UnitPrice = unitPrice, PriceUnit = "gb",
                PeeringDiscount = Usd(charge.PeeringDiscount), PeeringAgreementId = charge.AgreementId ?? "", Amount = Usd(charge.Amount), Nodes = 0,
                Tiers = { tiers },
            });
        }

        foreach (var group in plan.Gateways)
        {
            if (group.VmCount <= 0 || catalog.GatewayIn(group.Location.Provider, group.Location.Region) is not { } offer) continue;
            var lineId = GatewayLineId(group.Location, group.InstanceType);
            if (quote.Lines.Any(l => l.LineId == lineId)) throw new ArgumentException($"transfer plan {planId} lists the gateways of {lineId} twice");
            var unitPrice = Rounding.ToMoney(offer.HourlyPrice, currency);
            // VM-seconds exactly as accounting counts the usage's vm_time: ticks, then seconds.
            var vmSeconds = (decimal)duration.Ticks * group.VmCount / TimeSpan.TicksPerSecond;
            var charge = rater.Compute(unitPrice.ToDecimal(), vmSeconds, group.VmCount);
            quote.Lines.Add(new QuoteLine
            {
                LineId = lineId, Service = "transfer-gateway",
                Description = $"gateways {group.Location.Provider}/{group.Location.Region}: {group.VmCount} x {group.InstanceType} for {duration}",
                Location = group.Location.Clone(), OfferId = offer.OfferId, Sku = group.InstanceType, Quantity = Text(vmSeconds), Unit = "second",
                UnitPrice = unitPrice, PriceUnit = "hour", PeeringDiscount = Usd(0m), Amount = Usd(charge.Amount), Nodes = group.VmCount, Spot = false,
            });
        }

        quote.Total = Usd(quote.Lines.Sum(l => l.Amount.ToDecimal()));
        return quote;
    }

    private static Money Usd(decimal amount) => Rounding.ToMoney(amount, "USD");

    /// <summary>A decimal quantity as the contracts write it: digits and an optional fraction, no exponent.</summary>
    private static string Text(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);
}
