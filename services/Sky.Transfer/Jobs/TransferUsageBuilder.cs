using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Pricing;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;

namespace Sky.Transfer.Jobs;

/// <summary>
/// The usage of a finished transfer (<c>transfer.usage</c>), from its plan, the bytes it copied and its times. Pure, so
/// the split of bytes over routes and the VM time can be tested without running a copy.
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
    /// time the plan's VMs are billed for, whatever ran the bytes.
    /// </summary>
    public static TransferUsage Build(TransferJob job, TransferCatalogSnapshot catalog, long bytesCopied)
    {
        var plan = job.Plan ?? throw new ArgumentException($"transfer {job.TransferId} has no plan");
        var currency = plan.TotalCost?.CurrencyCode is { Length: > 0 } c ? c : "USD";
        var start = job.StartedAt ?? job.CreatedAt;
        var end = job.EndedAt ?? throw new ArgumentException($"transfer {job.TransferId} has not ended");
        var usage = new TransferUsage
        {
            IdempotencyKey = "transfer:" + job.TransferId, TenantId = job.TenantId, TransferId = job.TransferId,
            UsageStart = start, UsageEnd = end, QuoteId = job.QuoteId, PriceBookRevision = catalog.Revision,
        };

        var perPair = new Dictionary<(CloudRegion, CloudRegion), long>();
        var order = new List<(CloudRegion, CloudRegion)>();
        var planned = plan.Routes.Sum(r => r.Bytes);
        long assigned = 0;
        for (var i = 0; i < plan.Routes.Count; i++)
        {
            var route = plan.Routes[i];
            var share = i == plan.Routes.Count - 1 ? bytesCopied - assigned
                : planned == 0 ? 0 : (long)((decimal)bytesCopied * route.Bytes / planned);
            assigned += share;
            for (var h = 0; h + 1 < route.Hops.Count; h++)
            {
                var pair = (TransferPlanProto.Region(route.Hops[h]), TransferPlanProto.Region(route.Hops[h + 1]));
                if (pair.Item1.Equals(pair.Item2)) continue;
                if (perPair.TryAdd(pair, share)) order.Add(pair);
                else perPair[pair] += share;
            }
        }
        foreach (var (from, to) in order)
        {
            var bytes = perPair[(from, to)];
            var rate = catalog.Network.Egress.Lookup(from.Provider, from.Region, to.Provider, to.Region);
            if (bytes <= 0 || !rate.HasPrice) continue;
            usage.Egress.Add(new TransferEgressUsage
            {
                Source = TransferPlanProto.Location(from), Destination = TransferPlanProto.Location(to), Bytes = bytes,
                OfferId = $"egress:{from}", UnitPrice = Rounding.ToMoney(rate.Tiers![0].PricePerGb, currency), PriceUnit = "gb",
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
            });
        }
        return usage;
    }
}
