using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Pricing;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;

namespace Sky.Transfer.Jobs;

/// <summary>
/// The usage of a finished transfer (<c>transfer.usage</c>), from its plan, the bytes it copied and its times. Pure, so
/// the split of bytes over routes and the VM time can be tested without running a copy. <see cref="TransferQuoteBuilder"/>
/// prices the plan with the same split and prices, so the usage of a transfer that went as planned rates to its quote.
/// </summary>
public static class TransferUsageBuilder
{
    /// <summary>
    /// Egress: <paramref name="bytesCopied"/> split over the plan's routes in proportion to their planned bytes (the
    /// last route takes the remainder, so the split adds up exactly), each route's bytes counted on every hop, summed per
    /// region pair; a pair the egress grid has no price for (a local folder) is left out, as there is nothing to bill.
    /// The unit price is the grid's list price per GB now (the first tier of a tiered price: accounting applies volume
    /// tiers and peering agreements when it rates). Gateways: each group's VMs for the copy's wall time (started to
    /// ended), at the gateway offer's hourly price now; the copy itself runs in the transfer service, so this is the
    /// time the plan's VMs are billed for, whatever ran the bytes. Each item names the line of <paramref name="quote"/>
    /// (the transfer's quote) it belongs to, or none when the quote has no such line (or there is no quote).
    /// </summary>
    public static TransferUsage Build(TransferJob job, TransferCatalogSnapshot catalog, long bytesCopied, Quote? quote = null)
    {
        var plan = job.Plan ?? throw new ArgumentException($"transfer {job.TransferId} has no plan");
        var currency = CurrencyOf(plan);
        var start = job.StartedAt ?? job.CreatedAt;
        var end = job.EndedAt ?? throw new ArgumentException($"transfer {job.TransferId} has not ended");
        var quoted = quote?.Lines.Select(l => l.LineId).ToHashSet(StringComparer.Ordinal) ?? [];
        string LineOf(string lineId) => quoted.Contains(lineId) ? lineId : "";
        var usage = new TransferUsage
        {
            IdempotencyKey = "transfer:" + job.TransferId, TenantId = job.TenantId, TransferId = job.TransferId,
            UsageStart = start, UsageEnd = end, QuoteId = job.QuoteId, PriceBookRevision = catalog.Revision,
        };

        foreach (var (from, to, bytes) in BytesPerPair(plan, bytesCopied))
        {
            if (bytes <= 0 || ListTiers(catalog, from, to, currency) is not { } tiers) continue;
            usage.Egress.Add(new TransferEgressUsage
            {
                Source = TransferPlanProto.Location(from), Destination = TransferPlanProto.Location(to), Bytes = bytes,
                OfferId = EgressOfferId(from), UnitPrice = tiers[0].PricePerGb, PriceUnit = "gb",
                QuoteLineId = LineOf(TransferQuoteBuilder.EgressLineId(from, to)), Tiers = { tiers },
            });
        }

        var wall = end.ToDateTimeOffset() - start.ToDateTimeOffset();
        if (wall < TimeSpan.Zero) wall = TimeSpan.Zero;
        foreach (var group in plan.Gateways)
        {
            var offer = catalog.GatewayIn(group.Location.Provider, group.Location.Region);
            if (offer is null || group.VmCount <= 0) continue;
            usage.Gateways.Add(new TransferGatewayUsage
            {
                Location = group.Location.Clone(), InstanceType = group.InstanceType, OfferId = offer.OfferId, VmCount = group.VmCount,
                VmTime = Duration.FromTimeSpan(wall * group.VmCount), UnitPrice = Rounding.ToMoney(offer.HourlyPrice, currency), PriceUnit = "hour",
                QuoteLineId = LineOf(TransferQuoteBuilder.GatewayLineId(group.Location, group.InstanceType)),
            });
        }
        return usage;
    }

    /// <summary>
    /// <paramref name="bytes"/> split over the plan's routes in proportion to their planned bytes (the last route takes
    /// the remainder), summed per region pair over every hop, in first-crossed order; hops within one region are left out.
    /// With <paramref name="bytes"/> = the planned total each route gets exactly its planned bytes.
    /// </summary>
    public static IReadOnlyList<(CloudRegion From, CloudRegion To, long Bytes)> BytesPerPair(TransferPlan plan, long bytes)
    {
        var perPair = new Dictionary<(CloudRegion, CloudRegion), long>();
        var order = new List<(CloudRegion, CloudRegion)>();
        var planned = plan.Routes.Sum(r => r.Bytes);
        long assigned = 0;
        for (var i = 0; i < plan.Routes.Count; i++)
        {
            var route = plan.Routes[i];
            var share = i == plan.Routes.Count - 1 ? bytes - assigned
                : planned == 0 ? 0 : (long)((decimal)bytes * route.Bytes / planned);
            assigned += share;
            for (var h = 0; h + 1 < route.Hops.Count; h++)
            {
                var pair = (TransferPlanProto.Region(route.Hops[h]), TransferPlanProto.Region(route.Hops[h + 1]));
                if (pair.Item1.Equals(pair.Item2)) continue;
                if (perPair.TryAdd(pair, share)) order.Add(pair);
                else perPair[pair] += share;
            }
        }
        return [.. order.Select(p => (p.Item1, p.Item2, perPair[p]))];
    }

    /// <summary>
    /// The pair's volume tiers in the grid, as the usage and the quote carry them (Money, so both rate exactly the same
    /// prices), or null when the grid has no price for the pair.
    /// </summary>
    public static List<Sky.Directory.V1.EgressTier>? ListTiers(TransferCatalogSnapshot catalog, CloudRegion from, CloudRegion to, string currency)
    {
        var rate = catalog.Network.Egress.Lookup(from.Provider, from.Region, to.Provider, to.Region);
        return rate.HasPrice ? [.. rate.Tiers!.ToProto(currency)] : null;
    }

    /// <summary>The directory egress offer of the region the data leaves.</summary>
    public static string EgressOfferId(CloudRegion from) => $"egress:{from}";

    /// <summary>The currency the plan was priced in (USD when it does not say).</summary>
    public static string CurrencyOf(TransferPlan plan) => plan.TotalCost?.CurrencyCode is { Length: > 0 } c ? c : "USD";
}
