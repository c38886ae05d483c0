using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Pricing;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;

namespace Sky.Transfer.Jobs;

/// <summary>The planner's records as transfer.proto messages, and the one plan the planner does not make (see <see cref="Unrouted"/>).</summary>
public static class TransferPlanProto
{
    public static Location Location(CloudRegion region) => new() { Provider = region.Provider, Region = region.Region };

    public static CloudRegion Region(Location location) => new(location.Provider, location.Region);

    public static TransferPlan Plan(RoutePlan plan, string currency)
    {
        var proto = new TransferPlan
        {
            PredictedDuration = Duration.FromTimeSpan(plan.Duration),
            PredictedThroughputBps = plan.ThroughputBps,
            EgressCost = Rounding.ToMoney(plan.EgressCost, currency),
            VmCost = Rounding.ToMoney(plan.VmCost, currency),
            TotalCost = Rounding.ToMoney(plan.TotalCost, currency),
            PeeringDiscount = Rounding.ToMoney(plan.PeeringDiscount, currency),
        };
        foreach (var route in plan.Routes)
        {
            var r = new TransferRoute { Bytes = route.Bytes, ThroughputBps = route.ThroughputBps };
            r.Hops.AddRange(route.Hops.Select(Location));
            proto.Routes.Add(r);
        }
        proto.Gateways.AddRange(plan.Gateways.Select(g => new GatewayGroup
        {
            Location = Location(g.Region), VmCount = g.Count, InstanceType = g.InstanceType, OfferId = g.OfferId,
        }));
        return proto;
    }

    /// <summary>
    /// The copy between two places the grids do not connect: a local folder, or a region the throughput grid never
    /// measured. It goes straight from source to destination with no gateway VMs and no predicted time (nothing
    /// measured says how fast); its egress is priced from the egress grid when the grid has the pair, else it is free
    /// (a local folder pays no cloud's egress).
    /// </summary>
    public static RoutePlan Unrouted(CloudRegion source, CloudRegion destination, long bytes, EgressGrid egress, IEgressAdjuster? peering)
    {
        var hops = new List<HopEgress>();
        if (!source.Equals(destination))
        {
            var quote = EgressPricer.Price(egress.Lookup(source.Provider, source.Region, destination.Provider, destination.Region), peering,
                source.Provider, source.Region, destination.Provider, destination.Region, bytes / 1_000_000_000m);
            hops.Add(quote.HasPrice
                ? new HopEgress(source, destination, bytes, quote.ListCost, quote.Cost, quote.AgreementId)
                : new HopEgress(source, destination, bytes, 0m, 0m, null));
        }
        var cost = hops.Sum(h => h.Cost);
        return new RoutePlan
        {
            Routes = [new PlannedRoute([source, destination], bytes, 0)],
            Gateways = [],
            Hops = hops,
            Duration = TimeSpan.Zero,
            ThroughputBps = 0,
            EgressCost = cost,
            VmCost = 0m,
            PeeringDiscount = hops.Sum(h => h.ListCost) - cost,
        };
    }
}
