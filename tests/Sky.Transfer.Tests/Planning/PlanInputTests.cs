using Sky.Pricing;
using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;

namespace Sky.Transfer.Tests.Planning;

/// <summary>Bad requests fail before any solving, with a message that names the problem; odd but valid ones plan.</summary>
public sealed class PlanInputTests
{
    private static readonly TransferPlanner Planner = new();
    private static readonly TransferNetwork Network = PeeringRouteTests.Triangle();

    private static TransferPlanRequest Request => new() { Source = Region("aws/east"), Destination = Region("gcp/east"), Bytes = 1_000_000_000 };

    public static TheoryData<string, TransferPlanRequest, string> Malformed() => new()
    {
        { "no bytes", Request with { Bytes = 0 }, "bytes must be > 0, found 0" },
        { "negative bytes", Request with { Bytes = -5 }, "bytes must be > 0, found -5" },
        { "no VMs", Request with { MaxVmsPerRegion = 0 }, "max VMs per region must be >= 1, found 0" },
        { "no provider", Request with { Source = new CloudRegion("", "east") }, "the source needs a provider and a region" },
        { "no region", Request with { Destination = new CloudRegion("gcp", " ") }, "the destination needs a provider and a region" },
        { "deadline goal without one", Request with { Goal = PlanGoal.CheapestByDeadline }, "the cheapest-by-deadline goal needs a deadline" },
        { "zero deadline", Request with { Goal = PlanGoal.CheapestByDeadline, Deadline = TimeSpan.Zero }, "the deadline must be > 0" },
        { "budget goal without one", Request with { Goal = PlanGoal.FastestUnderBudget }, "the fastest-under-budget goal needs a budget" },
        { "negative budget", Request with { Goal = PlanGoal.FastestUnderBudget, Budget = -1m }, "the budget must be > 0, found -1" },
        { "unknown goal", Request with { Goal = (PlanGoal)42 }, "unknown goal 42" },
        { "unknown source", Request with { Source = Region("aws/mars-1") }, "unknown source region aws/mars-1: the throughput grid has no measurements from or to it" },
        { "unknown destination", Request with { Destination = Region("oracle/east") }, "unknown destination region oracle/east" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_request_is_refused_with_what_is_wrong(string why, TransferPlanRequest request, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Planner.Plan(request, Network, ListPrice));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{why}: {e.Message}");
    }

    [Fact]
    public void Goal_fields_another_goal_needs_are_ignored()
    {
        var plan = Planner.Plan(Request with { Deadline = TimeSpan.FromTicks(1), Budget = 0.0001m }, Network, ListPrice).Plan;
        Assert.True(plan.IsDirect);
    }

    [Fact]
    public void Region_names_compare_without_case()
    {
        var plan = Planner.Plan(Request with { Source = new CloudRegion("AWS", "East") }, Network, ListPrice).Plan;
        Assert.Equal(0.09m, plan.EgressCost);
    }

    [Fact]
    public void A_copy_within_one_region_needs_no_gateways_and_is_free()
    {
        var network = Build([("aws/east", "gcp/east", 5)], [("aws/east", "gcp/east", 0.09m)]);
        var region = Region("aws/east");
        var result = Planner.Plan(Request with { Destination = region, Goal = PlanGoal.Fastest }, network, ListPrice);
        var plan = result.Plan;
        Assert.Same(plan, result.Direct);
        Assert.Empty(plan.Gateways);
        Assert.Equal([region, region], Assert.Single(plan.Routes).Hops);
        Assert.Equal(ThroughputGrid.DefaultIntraRegionBitsPerSecond, plan.ThroughputBps);
        Assert.Equal(TimeSpan.FromSeconds(0.8), plan.Duration);
        Assert.Equal(0m, plan.TotalCost);
    }

    [Fact]
    public void A_region_without_a_gateway_offer_cannot_be_an_end()
    {
        GatewayOffer? NoAws(string provider, string region) => provider == "aws" ? null : ListPrice(provider, region);
        var e = Assert.Throws<NoTransferPlanException>(() => Planner.Plan(Request, Network, NoAws));
        Assert.Equal(NoPlanReason.NoGateway, e.Reason);
        Assert.Contains("no gateway offer in the source region aws/east (instance type m5.8xlarge)", e.Message);
    }

    [Fact]
    public void A_provider_without_known_vm_limits_cannot_be_an_end()
    {
        var limited = new TransferPlanner(new TransferPlannerOptions { Limits = new GatewayLimits([new("aws", new VmNetworkLimits(5, 10))]) });
        var e = Assert.Throws<NoTransferPlanException>(() => limited.Plan(Request, Network, ListPrice));
        Assert.Equal(NoPlanReason.NoGateway, e.Reason);
        Assert.Contains("no per-VM network limits are known for provider gcp (destination region gcp/east)", e.Message);
    }

    [Fact]
    public void A_relay_without_a_gateway_offer_is_not_used()
    {
        GatewayOffer? NoAzure(string provider, string region) => provider == "azure" ? null : ListPrice(provider, region);
        var result = Planner.Plan(Request with { Goal = PlanGoal.Fastest }, Network, NoAzure);
        Assert.True(result.Plan.IsDirect);
        Assert.Empty(result.RelaysConsidered);
    }

    [Fact]
    public void Regions_the_grids_do_not_connect_have_no_route()
    {
        // gcp/east only sends; nothing reaches it.
        var network = Build([("gcp/east", "aws/east", 5)], [("gcp/east", "aws/east", 0.12m)]);
        var e = Assert.Throws<NoTransferPlanException>(() => Planner.Plan(Request, network, ListPrice));
        Assert.Equal(NoPlanReason.NoRoute, e.Reason);
        Assert.StartsWith("no route from aws/east to gcp/east", e.Message);
    }

    [Fact]
    public void A_pair_with_a_rate_but_no_egress_price_is_not_a_route()
    {
        var network = Build([("aws/east", "gcp/east", 5), ("aws/east", "azure/east", 5), ("azure/east", "gcp/east", 5)],
            [("aws/east", "azure/east", 0.02m), ("azure/east", "gcp/east", 0.0875m)]);
        var result = Planner.Plan(Request, network, ListPrice);
        Assert.Null(result.Direct);
        Assert.False(result.Plan.IsDirect);
        var e = Assert.Throws<NoTransferPlanException>(() => Planner.Plan(Request with { DirectOnly = true }, network, ListPrice));
        Assert.Equal(NoPlanReason.NoRoute, e.Reason);
        Assert.Contains("no rate or no egress price for the direct route", e.Message);
    }

    [Fact]
    public void Direct_only_plans_skip_the_relays()
    {
        var result = Planner.Plan(Request with { Goal = PlanGoal.Fastest, DirectOnly = true }, Network, ListPrice);
        Assert.True(result.Plan.IsDirect);
        Assert.Same(result.Plan, result.Direct);
        Assert.Empty(result.RelaysConsidered);
    }

    [Fact]
    public void Gateway_limits_refuse_nonsense()
    {
        Assert.Throws<ArgumentException>(() => new GatewayLimits([new("aws", new VmNetworkLimits(0, 10))]));
        Assert.Throws<ArgumentException>(() => new GatewayLimits([new("aws", new VmNetworkLimits(5, double.NaN))]));
        Assert.Throws<ArgumentException>(() => new GatewayLimits([new("aws", new VmNetworkLimits(5, 10)), new("AWS", new VmNetworkLimits(5, 10))]));
    }

    [Fact]
    public void A_negative_gateway_price_is_refused()
    {
        GatewayOffer? Negative(string provider, string region) => new("m5.8xlarge", "x", -1m);
        var e = Assert.Throws<ArgumentException>(() => Planner.Plan(Request, Network, Negative));
        Assert.Contains("hourly price -1 is negative", e.Message);
    }

    [Fact]
    public void A_plan_out_of_time_before_any_solution_times_out()
    {
        var hurried = new TransferPlanner(new TransferPlannerOptions { TimeLimit = TimeSpan.Zero });
        var e = Assert.Throws<TimeoutException>(() => hurried.Plan(Request, Network, ListPrice));
        Assert.Contains("no solution within the time limit", e.Message);
    }

    [Fact]
    public void A_cancelled_plan_stops()
    {
        Assert.Throws<OperationCanceledException>(() => Planner.Plan(Request, Network, ListPrice, ct: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void Plans_made_at_once_on_several_threads_agree_with_plans_made_one_by_one()
    {
        var requests = Enum.GetValues<PlanGoal>().Select(goal => Request with
        {
            Goal = goal,
            Bytes = 1_000_000_000_000,
            Deadline = TimeSpan.FromMinutes(20),
            Budget = 95m,
        }).ToArray();
        var network = GoalNetwork();
        var alone = requests.Select(r => Planner.Plan(r, network, ListPrice).Plan.ToString()).ToArray();
        var together = new string[requests.Length * 4];
        Parallel.For(0, together.Length, i => together[i] = Planner.Plan(requests[i % requests.Length], network, ListPrice).Plan.ToString());
        for (var i = 0; i < together.Length; i++) Assert.Equal(alone[i % requests.Length], together[i]);
    }

    /// <summary>The triangle with a fast, dear relay, so every goal gives a different plan.</summary>
    private static TransferNetwork GoalNetwork() => Build(
        [("aws/east", "gcp/east", 2), ("aws/east", "azure/east", 8), ("azure/east", "gcp/east", 8)],
        [("aws/east", "gcp/east", 0.05m), ("aws/east", "azure/east", 0.06m), ("azure/east", "gcp/east", 0.06m)]);
}
