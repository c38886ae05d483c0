using Sky.Pricing;
using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;

namespace Sky.Transfer.Tests.Planning;

/// <summary>The plan's money is the pricing engine's, exactly: tiers per hop, peering per hop, VM time to the tick.</summary>
public sealed class ExactMoneyTests
{
    private static readonly TransferPlanner Planner = new();

    /// <summary>AWS's internet tiers: $0.09/GB to 10 TB, $0.085 to 50 TB, $0.07 to 150 TB, $0.05 above.</summary>
    private static readonly EgressTiers AwsTiers = new([new(10_240, 0.09m), new(51_200, 0.085m), new(153_600, 0.07m), new(0, 0.05m)]);

    [Fact]
    public void A_tiered_price_and_a_discount_are_applied_per_hop_as_the_pricer_applies_them()
    {
        var network = Build([("aws/east", "gcp/east", 5)], [("aws/east", "gcp/east", AwsTiers)]);
        var discount = new PeeringAgreements([PeeringAgreement.Discount("quarter", "aws", "", "gcp", "", 25)]);
        const long bytes = 123_456_789_012_345; // 123 TB: three tiers
        var result = Planner.Plan(new TransferPlanRequest { Source = Region("aws/east"), Destination = Region("gcp/east"), Bytes = bytes }, network, ListPrice, discount);
        var plan = result.Plan;

        var list = AwsTiers.Cost(bytes / 1_000_000_000m);
        Assert.Equal(list * 0.75m, plan.EgressCost);
        Assert.Equal(list - list * 0.75m, plan.PeeringDiscount);
        var hop = Assert.Single(plan.Hops);
        Assert.Equal(("quarter", bytes, list), (hop.AgreementId, hop.Bytes, hop.ListCost));

        // 8 VM pairs at 5 Gbit/s (AWS's egress limit too): 40 Gbit/s.
        Assert.Equal(40_000_000_000, plan.ThroughputBps);
        Assert.Equal(ThroughputGrid.TransferTime(bytes, 40_000_000_000), plan.Duration);
        var gateways = plan.Gateways.ToDictionary(g => g.Region.Provider);
        Assert.Equal((8, "m5.8xlarge", 1.536m), (gateways["aws"].Count, gateways["aws"].InstanceType, gateways["aws"].HourlyPrice));
        Assert.Equal((8, "n2-standard-32"), (gateways["gcp"].Count, gateways["gcp"].InstanceType));
        Assert.Equal((8 * 1.536m + 8 * 1.554016m) * plan.Duration.Ticks / TimeSpan.TicksPerHour, plan.VmCost);
        Assert.Equal(plan.EgressCost + plan.VmCost, plan.TotalCost);
    }

    /// <summary>
    /// A source VM spreads its 64 connections over its hops, so a fast hop to a relay leaves connections for the slow
    /// direct hop once the relay's AWS VMs hit their 5 Gbit/s egress: the fastest plan takes all three paths.
    /// With 2 VMs a region: 10 Gbit/s through each relay (20 per VM pair on the first hop, so half the source's
    /// connections), then the other half direct at 8 per VM pair: 28 Gbit/s.
    /// </summary>
    [Fact]
    public void Bytes_split_between_routes_add_up_and_each_route_finishes_in_the_predicted_time()
    {
        var network = Build(
            [("azure/s", "gcp/d", 8), ("azure/s", "aws/r1", 20), ("aws/r1", "gcp/d", 25), ("azure/s", "aws/r2", 20), ("aws/r2", "gcp/d", 25)],
            [("azure/s", "gcp/d", 0.0875m), ("azure/s", "aws/r1", 0.0875m), ("aws/r1", "gcp/d", 0.09m), ("azure/s", "aws/r2", 0.0875m), ("aws/r2", "gcp/d", 0.09m)]);
        const long bytes = 1_000_000_000_007;
        var plan = Planner.Plan(new TransferPlanRequest { Source = Region("azure/s"), Destination = Region("gcp/d"), Bytes = bytes, Goal = PlanGoal.Fastest, MaxVmsPerRegion = 2 }, network, ListPrice).Plan;
        Assert.Equal(28_000_000_000, plan.ThroughputBps);
        Assert.Equal(
            [("azure/s>aws/r1>gcp/d", 10_000_000_000L), ("azure/s>aws/r2>gcp/d", 10_000_000_000L), ("azure/s>gcp/d", 8_000_000_000L)],
            plan.Routes.Select(r => (string.Join(">", r.Hops), r.ThroughputBps)).Order());
        Assert.InRange(plan.Routes.Single(r => r.IsDirect).Bytes, bytes * 8 / 28 - 1, bytes * 8 / 28 + 1);
        SkyplaneGridPlanTests.AssertConsistent(plan, bytes);
        foreach (var route in plan.Routes)
            Assert.True(plan.Duration - ThroughputGrid.TransferTime(route.Bytes, route.ThroughputBps) < TimeSpan.FromMilliseconds(1), route.ToString());
    }
}
