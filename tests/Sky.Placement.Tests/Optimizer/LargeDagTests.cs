using Sky.Placement.Optimizer;
using Sky.Pricing;
using static Sky.Placement.Tests.Optimizer.Problems;

namespace Sky.Placement.Tests.Optimizer;

/// <summary>
/// Problems past what the dynamic programs take: the integer program must return a valid plan within its time
/// limit and say how far from optimal it may be.
/// </summary>
public sealed class LargeDagTests
{
    [Fact]
    public void A_50_task_dag_over_100_regions_returns_a_plan_within_the_time_limit_with_its_gap()
    {
        var random = new Random(50);
        var problem = RegionGrid.Problem(random, tasks: 50, regionsPerProvider: 34, PlacementObjective.Cost);
        var limit = TimeSpan.FromSeconds(3);
        var plan = new PlacementOptimizer(new OptimizerOptions { TimeLimit = limit }).Optimize(problem);

        Assert.Equal(SolveMethod.IntegerProgram, plan.Method);
        Assert.Equal(50, plan.Tasks.Count);
        Assert.InRange(plan.Gap, 0d, 1d);
        Assert.True(plan.Optimal || plan.Gap > 0, "a plan not proven optimal has a gap");
        // The search stops at the limit; building the problem and the plan around it takes a little more.
        Assert.True(plan.SolveTime < limit + TimeSpan.FromSeconds(15), $"took {plan.SolveTime}");
        Assert.Equal(plan.ComputeCost + plan.EgressCost, plan.TotalCost);
        Assert.Equal(plan.TotalCost, plan.Tasks.Sum(t => t.ComputeCost) + plan.Edges.Sum(e => e.EgressCost));
        Assert.All(plan.Tasks, t => Assert.All(t.Alternatives, a => Assert.True(a.TotalCost >= plan.TotalCost || !plan.Optimal)));
    }

    [Fact]
    public void With_almost_no_time_the_plan_is_still_whole_and_valid()
    {
        var random = new Random(8);
        var problem = RegionGrid.Problem(random, tasks: 8, regionsPerProvider: 10, PlacementObjective.Time);
        var plan = new PlacementOptimizer(new OptimizerOptions { TimeLimit = TimeSpan.FromMilliseconds(1) }).Optimize(problem);

        Assert.Equal(8, plan.Tasks.Count);
        Assert.NotNull(plan.Makespan);
        Assert.All(plan.Edges, e => Assert.NotNull(e.TransferTime));
        Assert.InRange(plan.Gap, 0d, 1d);
    }
}

/// <summary>Random problems over three providers with many regions each, priced like the built-in grid.</summary>
internal static class RegionGrid
{
    public static PlacementProblem Problem(Random random, int tasks, int regionsPerProvider, PlacementObjective objective)
    {
        var regions = new List<(string Provider, string Region)>();
        foreach (var provider in new[] { "aws", "gcp", "azure" })
            for (var r = 0; r < regionsPerProvider; r++) regions.Add((provider, $"{provider}-{r}"));

        var prices = new List<Sky.Directory.V1.EgressPrice>();
        var rates = new List<Sky.Directory.V1.Throughput>();
        foreach (var (provider, region) in regions)
        {
            var from = $"{provider}/{region}";
            prices.Add(Egress(from, from, (0, 0m)));
            prices.Add(Egress(from, provider, (0, provider == "gcp" ? 0.08m : 0.02m)));
            prices.Add(Egress(from, "internet", AwsInternet));
            foreach (var (p, r) in regions) rates.Add(Rate(from, $"{p}/{r}", random.Next(1, 100) * 100_000_000L));
        }

        var list = new PlacementTask[tasks];
        for (var t = 0; t < tasks; t++)
        {
            var candidates = new List<Candidate>();
            foreach (var (provider, region) in regions)
                for (var k = 0; k < 2; k++) candidates.Add(At($"{provider}/{region}", random.Next(1_000, 400_000) / 100_000m, instance: $"type{k}"));
            list[t] = new PlacementTask(t, $"t{t}", random.Next(1, 8) / 2m, candidates);
        }
        var edges = new List<TaskEdge>();
        for (var j = 1; j < tasks; j++)
            foreach (var i in Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(0, j)).Distinct())
                edges.Add(new TaskEdge(i, j, random.Next(1, 1_000)));
        return new PlacementProblem
        {
            Tasks = list,
            Edges = edges,
            Objective = objective,
            Egress = new EgressPricer(new EgressGrid(prices)),
            Throughput = new ThroughputGrid(rates),
        };
    }
}
