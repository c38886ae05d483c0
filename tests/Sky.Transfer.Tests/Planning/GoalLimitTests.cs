using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;

namespace Sky.Transfer.Tests.Planning;

/// <summary>Deadlines and budgets are met by the exact figures, or refused with the nearest plan and by how much.</summary>
public sealed class GoalLimitTests
{
    private const long Terabyte = 1_000_000_000_000;
    private static readonly TransferPlanner Planner = new();

    /// <summary>
    /// aws/a -> gcp/b direct at 2 Gbit/s per VM pair and $0.05/GB; through azure/r at 8 and 8 Gbit/s for $0.06 +
    /// $0.06/GB. Direct is cheap and slow, the relay dear and fast.
    /// </summary>
    private static readonly TransferNetwork Network = Build(
        [("aws/a", "gcp/b", 2), ("aws/a", "azure/r", 8), ("azure/r", "gcp/b", 8)],
        [("aws/a", "gcp/b", 0.05m), ("aws/a", "azure/r", 0.06m), ("azure/r", "gcp/b", 0.06m)]);

    private static TransferPlanRequest Request(PlanGoal goal) =>
        new() { Source = Region("aws/a"), Destination = Region("gcp/b"), Bytes = Terabyte, Goal = goal, MaxVmsPerRegion = 4 };

    [Fact]
    public void Cheapest_and_fastest_differ_on_this_network()
    {
        var cheapest = Planner.Plan(Request(PlanGoal.Cheapest), Network, ListPrice).Plan;
        var fastest = Planner.Plan(Request(PlanGoal.Fastest), Network, ListPrice).Plan;
        Assert.True(cheapest.IsDirect);
        Assert.Equal(8e9, cheapest.ThroughputBps);          // 4 VM pairs at 2 Gbit/s
        Assert.Equal(20e9, fastest.ThroughputBps);          // the source's 4 AWS VMs at 5 Gbit/s each
        Assert.True(fastest.TotalCost > cheapest.TotalCost);
    }

    [Fact]
    public void A_deadline_between_the_two_buys_just_enough_speed()
    {
        var cheapest = Planner.Plan(Request(PlanGoal.Cheapest), Network, ListPrice).Plan;
        var fastest = Planner.Plan(Request(PlanGoal.Fastest), Network, ListPrice).Plan;
        var deadline = (cheapest.Duration + fastest.Duration) / 2;

        var result = Planner.Plan(Request(PlanGoal.CheapestByDeadline) with { Deadline = deadline }, Network, ListPrice);
        var plan = result.Plan;
        Assert.True(plan.Duration <= deadline, $"{plan.Duration} > {deadline}");
        Assert.True(plan.TotalCost < fastest.TotalCost, $"{plan.TotalCost} vs fastest {fastest.TotalCost}");
        Assert.True(plan.TotalCost > cheapest.TotalCost);
        // Direct alone cannot make it, and says so beside the plan.
        var direct = Assert.IsType<RoutePlan>(result.Direct);
        Assert.False(direct.MeetsGoal);
        Assert.True(direct.Duration > deadline);
        SkyplaneGridPlanTests.AssertConsistent(plan, Terabyte);
    }

    [Fact]
    public void A_deadline_the_slow_route_meets_costs_no_more_than_the_cheapest_plan()
    {
        var cheapest = Planner.Plan(Request(PlanGoal.Cheapest), Network, ListPrice).Plan;
        var plan = Planner.Plan(Request(PlanGoal.CheapestByDeadline) with { Deadline = cheapest.Duration + TimeSpan.FromMinutes(1) }, Network, ListPrice).Plan;
        Assert.Equal(cheapest.TotalCost, plan.TotalCost);
    }

    [Fact]
    public void A_deadline_no_plan_can_meet_is_refused_with_the_fastest_plan()
    {
        var fastest = Planner.Plan(Request(PlanGoal.Fastest), Network, ListPrice).Plan;
        var deadline = fastest.Duration - TimeSpan.FromSeconds(1);
        var e = Assert.Throws<NoTransferPlanException>(() => Planner.Plan(Request(PlanGoal.CheapestByDeadline) with { Deadline = deadline }, Network, ListPrice));
        Assert.Equal(NoPlanReason.Deadline, e.Reason);
        Assert.Contains("the fastest takes 00:06:40 at 20 Gbit/s", e.Message);
        Assert.Equal(fastest.Duration, e.Closest!.Duration);
    }

    [Fact]
    public void A_budget_between_the_two_buys_as_much_speed_as_it_pays_for()
    {
        var cheapest = Planner.Plan(Request(PlanGoal.Cheapest), Network, ListPrice).Plan;
        var fastest = Planner.Plan(Request(PlanGoal.Fastest), Network, ListPrice).Plan;
        var budget = (cheapest.TotalCost + fastest.TotalCost) / 2;

        var plan = Planner.Plan(Request(PlanGoal.FastestUnderBudget) with { Budget = budget }, Network, ListPrice).Plan;
        Assert.True(plan.TotalCost <= budget, $"{plan.TotalCost} > {budget}");
        Assert.True(plan.ThroughputBps > cheapest.ThroughputBps);
        Assert.True(plan.ThroughputBps < fastest.ThroughputBps);
        // Part of the data goes the dear way and part the cheap way, to spend the budget.
        Assert.Equal(2, plan.Routes.Count);
        Assert.True(plan.TotalCost > budget * 0.999m, $"{plan.TotalCost} leaves budget {budget} unspent");
        SkyplaneGridPlanTests.AssertConsistent(plan, Terabyte);
    }

    [Fact]
    public void A_budget_that_covers_the_fastest_plan_gets_it()
    {
        var fastest = Planner.Plan(Request(PlanGoal.Fastest), Network, ListPrice).Plan;
        var plan = Planner.Plan(Request(PlanGoal.FastestUnderBudget) with { Budget = fastest.TotalCost + 1 }, Network, ListPrice).Plan;
        Assert.Equal(fastest.ThroughputBps, plan.ThroughputBps);
        Assert.Equal(fastest.TotalCost, plan.TotalCost);
    }

    [Fact]
    public void A_budget_below_the_cheapest_plan_is_refused_with_it()
    {
        var cheapest = Planner.Plan(Request(PlanGoal.Cheapest), Network, ListPrice).Plan;
        var e = Assert.Throws<NoTransferPlanException>(() =>
            Planner.Plan(Request(PlanGoal.FastestUnderBudget) with { Budget = cheapest.TotalCost - 0.01m }, Network, ListPrice));
        Assert.Equal(NoPlanReason.Budget, e.Reason);
        Assert.Equal(cheapest.TotalCost, e.Closest!.TotalCost);
        Assert.Contains($"the cheapest costs {decimal.Ceiling(cheapest.TotalCost * 100) / 100:0.00}", e.Message);
    }

    [SkippableFact]
    public void On_the_real_grid_a_deadline_and_a_budget_hold_exactly()
    {
        var network = Skyplane();
        var request = new TransferPlanRequest { Source = Region("azure/eastus"), Destination = Region("aws/ap-southeast-2"), Bytes = 10 * Terabyte };
        var cheapest = Planner.Plan(request, network, ListPrice).Plan;
        var fastest = Planner.Plan(request with { Goal = PlanGoal.Fastest }, network, ListPrice).Plan;

        var deadline = TimeSpan.FromTicks((cheapest.Duration.Ticks + fastest.Duration.Ticks) / 2);
        var byDeadline = Planner.Plan(request with { Goal = PlanGoal.CheapestByDeadline, Deadline = deadline }, network, ListPrice).Plan;
        Assert.True(byDeadline.Duration <= deadline);
        Assert.True(byDeadline.TotalCost <= fastest.TotalCost);

        var budget = (cheapest.TotalCost + fastest.TotalCost) / 2;
        var underBudget = Planner.Plan(request with { Goal = PlanGoal.FastestUnderBudget, Budget = budget }, network, ListPrice).Plan;
        Assert.True(underBudget.TotalCost <= budget);
        Assert.True(underBudget.ThroughputBps >= cheapest.ThroughputBps);
    }
}
