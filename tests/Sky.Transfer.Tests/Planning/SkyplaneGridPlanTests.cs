using System.Diagnostics;
using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;

namespace Sky.Transfer.Tests.Planning;

/// <summary>Plans on Skyplane's measured grid (../shared/anchors/skyplane) with its per-VM limits.</summary>
public sealed class SkyplaneGridPlanTests
{
    private const long Terabyte = 1_000_000_000_000;
    private static readonly TransferPlanner Planner = new();

    /// <summary>
    /// Pairs whose direct path is slow in the grid while a relay is fast: Azure's backbone to Sydney then a short hop
    /// into AWS (2.2 vs 9.6 Gbit/s per VM pair), and two of the grid's slow long-haul pairs.
    /// </summary>
    [SkippableTheory]
    [InlineData("azure/eastus", "aws/ap-southeast-2")]
    [InlineData("aws/ap-northeast-2", "gcp/us-central1")]
    [InlineData("gcp/europe-west4", "gcp/us-east1")]
    public void The_fastest_plan_routes_through_a_relay_where_the_grid_says_it_beats_direct(string from, string to)
    {
        var network = Skyplane();
        var (src, dst) = (Region(from), Region(to));
        var result = Planner.Plan(new TransferPlanRequest { Source = src, Destination = dst, Bytes = Terabyte, Goal = PlanGoal.Fastest }, network, ListPrice);

        // What the grid promises through the best single relay with 8 VMs everywhere, and direct.
        var limits = GatewayLimits.Skyplane;
        double PerVm(CloudRegion a, CloudRegion b) => Math.Min(Rate(network, a, b), Math.Min(limits.For(a.Provider)!.Value.EgressGbps, limits.For(b.Provider)!.Value.IngressGbps));
        var direct = 8 * PerVm(src, dst);
        var (relay, viaRelay) = network.Regions.Where(r => !r.Equals(src) && !r.Equals(dst) && Rate(network, src, r) > 0 && Rate(network, r, dst) > 0)
            .Select(r => (r, 8 * Math.Min(PerVm(src, r), PerVm(r, dst)))).MaxBy(x => x.Item2);
        Assert.True(viaRelay > 1.3 * direct, $"the grid should make {relay} faster than direct: {viaRelay} vs {direct} Gbit/s");

        var plan = result.Plan;
        Assert.False(plan.IsDirect, $"expected a relay, got {plan}");
        Assert.True(plan.ThroughputBps / 1e9 >= viaRelay * (1 - 1e-6), $"planned {plan.ThroughputBps / 1e9} Gbit/s, the best single relay ({relay}) gives {viaRelay}");
        Assert.Contains(relay, result.RelaysConsidered);

        var beside = Assert.IsType<RoutePlan>(result.Direct);
        Assert.True(beside.IsDirect);
        Assert.Equal(direct, beside.ThroughputBps / 1e9, 1e-6 * direct);
        Assert.True(plan.Duration < beside.Duration);
        AssertConsistent(plan, Terabyte);
        AssertConsistent(beside, Terabyte);
    }

    // How long a plan takes is bench/'s transfer-plan figure (p50, max), not a timed assertion here.
    [SkippableFact]
    public void Every_goal_on_the_real_grid_is_solved_to_optimality_and_reports_its_solve_time()
    {
        var network = Skyplane();
        var request = new TransferPlanRequest { Source = Region("aws/us-east-1"), Destination = Region("gcp/asia-southeast1"), Bytes = Terabyte };
        foreach (var goal in Enum.GetValues<PlanGoal>())
        {
            var clock = Stopwatch.StartNew();
            var result = Planner.Plan(request with { Goal = goal, Deadline = TimeSpan.FromHours(1), Budget = 200m }, network, ListPrice);
            Assert.True(result.Plan.Optimal, $"{goal}: not proven optimal");
            Assert.True(result.PlanTime > TimeSpan.Zero && result.PlanTime <= clock.Elapsed, $"{goal}: plan time {result.PlanTime}, call took {clock.Elapsed}");
        }
    }

    [SkippableFact]
    public void Without_peering_the_cheapest_plan_is_direct_and_the_same_as_the_direct_figures()
    {
        var network = Skyplane();
        var result = Planner.Plan(new TransferPlanRequest { Source = Region("aws/us-east-1"), Destination = Region("gcp/us-east1"), Bytes = Terabyte }, network, ListPrice);
        Assert.True(result.Plan.IsDirect, result.Plan.ToString());
        Assert.Same(result.Plan, result.Direct);
        // cost.csv prices aws -> gcp at 0.09 $/GB, flat.
        Assert.Equal(0.09m * 1000, result.Plan.EgressCost);
        Assert.Equal(0m, result.Plan.PeeringDiscount);
    }

    private static double Rate(TransferNetwork network, CloudRegion a, CloudRegion b) =>
        network.Throughput.BitsPerSecond(a.Provider, a.Region, b.Provider, b.Region) is { } bps ? bps / 1e9 : 0;

    /// <summary>The figures agree with each other exactly.</summary>
    internal static void AssertConsistent(RoutePlan plan, long bytes)
    {
        Assert.Equal(bytes, plan.Routes.Sum(r => r.Bytes));
        Assert.Equal(plan.ThroughputBps, plan.Routes.Sum(r => r.ThroughputBps));
        Assert.Equal(plan.EgressCost, plan.Hops.Sum(h => h.Cost));
        Assert.Equal(plan.PeeringDiscount, plan.Hops.Sum(h => h.ListCost) - plan.EgressCost);
        Assert.Equal(plan.VmCost, plan.Gateways.Sum(g => g.Count * g.HourlyPrice * plan.Duration.Ticks) / TimeSpan.TicksPerHour);
        Assert.Equal(plan.EgressCost + plan.VmCost, plan.TotalCost);
        Assert.Equal(plan.Routes.Max(r => Sky.Pricing.ThroughputGrid.TransferTime(r.Bytes, r.ThroughputBps)), plan.Duration);
        foreach (var hop in plan.Hops)
            Assert.Equal(hop.Bytes, plan.Routes.Where(r => r.Hops.Zip(r.Hops.Skip(1)).Contains((hop.From, hop.To))).Sum(r => r.Bytes));
        foreach (var region in plan.Routes.SelectMany(r => r.Hops).Distinct())
            Assert.Contains(plan.Gateways, g => g.Region.Equals(region));
    }
}
