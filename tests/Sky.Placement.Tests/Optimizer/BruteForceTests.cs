using Sky.Placement.Optimizer;
using Sky.Pricing;
using static Sky.Placement.Tests.Optimizer.Problems;

namespace Sky.Placement.Tests.Optimizer;

/// <summary>
/// On small random DAGs (2-6 tasks, 1-5 regions, random tiered grids, peering, ranks, budgets and deadlines) the
/// optimizer's plan scores exactly what enumerating every combination of candidates finds, in decimal; and on
/// random chains the chain program and CP-SAT agree. Seeded, so a failure names a reproducible case.
/// </summary>
public sealed class BruteForceTests
{
    private const int Batches = 20;
    private const int PerBatch = 10;

    public static TheoryData<int> BatchNumbers() => [.. Enumerable.Range(0, Batches)];

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void The_optimizer_matches_brute_force_on_random_dags(int batch)
    {
        var optimizer = new PlacementOptimizer(new OptimizerOptions { TimeLimit = TimeSpan.FromSeconds(30), Alternatives = 2 });
        for (var seed = batch * PerBatch; seed < (batch + 1) * PerBatch; seed++)
        {
            var problem = RandomProblems.Dag(new Random(seed));
            var expected = BruteForce.Best(problem);
            if (expected is null)
            {
                Assert.Throws<NoFeasiblePlanException>(() => optimizer.Optimize(problem));
                continue;
            }
            var plan = optimizer.Optimize(problem);
            Assert.True(plan.Optimal, $"seed {seed}: not proven optimal");
            var actual = BruteForce.Score(problem, [.. plan.Tasks.Select(t => t.Chosen)]);
            Assert.True(actual is not null, $"seed {seed}: the plan breaks a limit or an edge is unpriced");
            Assert.True(expected.Value.Equals(actual.Value), $"seed {seed}: brute force {expected}, optimizer {actual} ({plan.Method})");
            Assert.Equal(actual.Value.Cost, plan.TotalCost);
            Assert.Equal(plan.ComputeCost + plan.EgressCost, plan.TotalCost);
        }
    }

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void The_chain_program_and_cp_sat_agree_on_random_chains(int batch)
    {
        var dp = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.ChainDynamicProgram, Alternatives = 0 });
        var cpSat = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.IntegerProgram, Alternatives = 0, TimeLimit = TimeSpan.FromSeconds(30) });
        for (var seed = batch * PerBatch; seed < (batch + 1) * PerBatch; seed++)
        {
            var problem = RandomProblems.Chain(new Random(10_000 + seed));
            PlacementPlan byDp, byCpSat;
            try
            {
                byDp = dp.Optimize(problem);
            }
            catch (NoFeasiblePlanException)
            {
                Assert.Throws<NoFeasiblePlanException>(() => cpSat.Optimize(problem));
                continue;
            }
            byCpSat = cpSat.Optimize(problem);
            Assert.Equal(SolveMethod.ChainDynamicProgram, byDp.Method);
            var (a, b) = (BruteForce.Score(problem, [.. byDp.Tasks.Select(t => t.Chosen)]), BruteForce.Score(problem, [.. byCpSat.Tasks.Select(t => t.Chosen)]));
            Assert.True(a.Equals(b), $"seed {10_000 + seed}: chain program {a}, CP-SAT {b}");
        }
    }
}

/// <summary>Variable elimination and CP-SAT agree on random DAGs under the cost objective.</summary>
public sealed class EliminationTests
{
    public static TheoryData<int> BatchNumbers() => [.. Enumerable.Range(0, 10)];

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Elimination_and_cp_sat_agree_on_random_dags(int batch)
    {
        var elimination = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.VariableElimination, Alternatives = 0 });
        var cpSat = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.IntegerProgram, Alternatives = 0, TimeLimit = TimeSpan.FromSeconds(30) });
        for (var seed = batch * 10; seed < batch * 10 + 10; seed++)
        {
            var problem = RandomProblems.Dag(new Random(20_000 + seed)) with
            {
                Objective = PlacementObjective.Cost, MaxHourlyCost = null, MaxJobCost = null, Deadline = null,
            };
            PlacementPlan byElimination;
            try
            {
                byElimination = elimination.Optimize(problem);
            }
            catch (NoFeasiblePlanException)
            {
                Assert.Throws<NoFeasiblePlanException>(() => cpSat.Optimize(problem));
                continue;
            }
            var byCpSat = cpSat.Optimize(problem);
            Assert.Equal(SolveMethod.VariableElimination, byElimination.Method);
            var (a, b) = (BruteForce.Score(problem, [.. byElimination.Tasks.Select(t => t.Chosen)]), BruteForce.Score(problem, [.. byCpSat.Tasks.Select(t => t.Chosen)]));
            Assert.True(a.Equals(b), $"seed {20_000 + seed}: elimination {a}, CP-SAT {b}");
        }
    }
}

/// <summary>
/// The time objective and cost under a deadline, against brute force on objective value: diamonds, 1->k->1 fan-outs
/// and random DAGs, with deadlines set just above the shortest makespan so they bind, ranks, and budgets.
/// </summary>
public sealed class TimeObjectiveTests
{
    public static TheoryData<int> BatchNumbers() => [.. Enumerable.Range(0, 10)];

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Diamonds_and_fan_outs_match_brute_force_under_time_objectives(int batch)
    {
        var optimizer = new PlacementOptimizer(new OptimizerOptions { TimeLimit = TimeSpan.FromSeconds(30), Alternatives = 1 });
        var binding = 0;
        for (var seed = 30_000 + batch * 10; seed < 30_000 + batch * 10 + 10; seed++)
        {
            var random = new Random(seed);
            var problem = random.Next(2) == 0 ? RandomProblems.Diamond(random) : RandomProblems.FanOut(random);
            // Budgets only where the elimination's optimum may break them; without any, it must answer alone.
            var budgeted = problem.MaxHourlyCost is not null || problem.MaxJobCost is not null;
            foreach (var timed in TimeObjectives.Variants(problem, random))
            {
                var (plan, binds) = TimeObjectives.AssertMatches(optimizer, timed, seed);
                if (binds) binding++;
                if (plan is not null && !budgeted) Assert.Equal(SolveMethod.VariableElimination, plan.Method);
            }
        }
        Assert.True(binding > 0, "no deadline bound in this batch");
    }

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Elimination_matches_brute_force_under_time_objectives_on_random_dags(int batch)
    {
        var elimination = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.VariableElimination, TimeLimit = TimeSpan.FromSeconds(30), Alternatives = 0 });
        for (var seed = 40_000 + batch * 10; seed < 40_000 + batch * 10 + 10; seed++)
        {
            var random = new Random(seed);
            foreach (var timed in TimeObjectives.Variants(RandomProblems.Dag(random), random))
                TimeObjectives.AssertMatches(elimination, timed, seed);
        }
    }
}

/// <summary>Time-objective variants of a problem and the brute-force check of a plan for one.</summary>
internal static class TimeObjectives
{
    /// <summary>
    /// The problem under the time objective (with and without a deadline) and under cost with a deadline, each
    /// deadline the shortest makespan plus a little (sometimes nothing), so it rules out the cheapest plans.
    /// </summary>
    public static IEnumerable<PlacementProblem> Variants(PlacementProblem problem, Random random)
    {
        var open = problem with { Deadline = null, Objective = PlacementObjective.Time };
        yield return open;
        if (BruteForce.Best(open with { MaxHourlyCost = null, MaxJobCost = null }) is not { } fastest) yield break;
        var slack = random.Next(3) switch { 0 => 0, 1 => 1 + random.Next(1_000), _ => (long)(fastest.Ms * random.NextDouble() * 0.2) };
        var deadline = TimeSpan.FromMilliseconds(fastest.Ms + slack);
        yield return open with { Deadline = deadline };
        yield return problem with { Objective = PlacementObjective.CostUnderDeadline, Deadline = deadline };
        yield return problem with { Objective = PlacementObjective.Cost, Deadline = deadline };
    }

    /// <summary>
    /// Asserts the optimizer's plan scores what brute force finds (or both find none); returns the plan, and whether
    /// the problem's deadline changed the cheapest plan.
    /// </summary>
    public static (PlacementPlan? Plan, bool DeadlineBinds) AssertMatches(PlacementOptimizer optimizer, PlacementProblem problem, int seed)
    {
        var expected = BruteForce.Best(problem);
        var label = $"seed {seed}, {problem.Objective}, deadline {problem.Deadline?.TotalMilliseconds}";
        if (expected is null)
        {
            Assert.Throws<NoFeasiblePlanException>(() => optimizer.Optimize(problem));
            return (null, false);
        }
        var binds = problem.Objective != PlacementObjective.Time && problem.Deadline is not null
            && BruteForce.Best(problem with { Deadline = null, Objective = PlacementObjective.Cost }) is { } free && !free.Equals(expected.Value);
        var plan = optimizer.Optimize(problem);
        Assert.True(plan.Optimal, $"{label}: not proven optimal");
        var actual = BruteForce.Score(problem, [.. plan.Tasks.Select(t => t.Chosen)]);
        Assert.True(actual is not null, $"{label}: the plan breaks a limit or an edge is unpriced ({plan.Method})");
        Assert.True(expected.Value.Equals(actual.Value), $"{label}: brute force {expected}, optimizer {actual} ({plan.Method})");
        if (problem.Objective == PlacementObjective.Time) Assert.Equal(TimeSpan.FromMilliseconds(actual.Value.Ms), plan.Makespan);
        Assert.Equal(actual.Value.Cost, plan.TotalCost);
        return (plan, binds);
    }
}

/// <summary>Random problems small enough to enumerate.</summary>
internal static class RandomProblems
{
    public static PlacementProblem Dag(Random random)
    {
        var n = random.Next(2, 7);
        var edges = new List<TaskEdge>();
        for (var j = 1; j < n; j++)
            for (var i = 0; i < j; i++)
                if (random.NextDouble() < 0.45) edges.Add(new TaskEdge(i, j, Volume(random)));
        return Build(random, n, edges);
    }

    public static PlacementProblem Chain(Random random)
    {
        var n = random.Next(2, 7);
        var edges = new List<TaskEdge>();
        for (var i = 0; i + 1 < n; i++)
        {
            edges.Add(new TaskEdge(i, i + 1, Volume(random)));
            if (random.NextDouble() < 0.2) edges.Add(new TaskEdge(i, i + 1, Volume(random)));
        }
        var problem = Build(random, n, edges);
        // The chain program proves nothing under limits it cannot see; keep chains free of them.
        return problem with { MaxHourlyCost = null, MaxJobCost = null, Deadline = null,
            Objective = problem.Objective == PlacementObjective.CostUnderDeadline ? PlacementObjective.Cost : problem.Objective };
    }

    /// <summary>A diamond: 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, sometimes with a shortcut 0 -> 3.</summary>
    public static PlacementProblem Diamond(Random random)
    {
        List<TaskEdge> edges = [new(0, 1, Volume(random)), new(0, 2, Volume(random)), new(1, 3, Volume(random)), new(2, 3, Volume(random))];
        if (random.NextDouble() < 0.3) edges.Add(new TaskEdge(0, 3, Volume(random)));
        return Build(random, 4, edges, maxCandidates: 5);
    }

    /// <summary>A fan-out and back: 0 -> k workers -> k + 1, k from 2 to 4.</summary>
    public static PlacementProblem FanOut(Random random)
    {
        var k = random.Next(2, 5);
        var edges = new List<TaskEdge>();
        for (var w = 1; w <= k; w++)
        {
            edges.Add(new TaskEdge(0, w, Volume(random)));
            edges.Add(new TaskEdge(w, k + 1, Volume(random)));
        }
        return Build(random, k + 2, edges, maxCandidates: k > 3 ? 3 : 4);
    }

    // Volumes straddle the random tier edges (50 and 200 GB), with some pure dependencies (0 GB).
    private static decimal Volume(Random random) => random.NextDouble() < 0.15 ? 0m : random.Next(1, 600);

    private static PlacementProblem Build(Random random, int n, List<TaskEdge> edges, int maxCandidates = 4)
    {
        var regions = random.Next(1, 6);
        var locations = Enumerable.Range(0, regions).Select(r => (Provider: r % 2 == 0 ? "p0" : "p1", Region: $"r{r}")).ToArray();

        var grid = new List<Sky.Directory.V1.EgressPrice>();
        foreach (var src in locations)
        {
            var from = $"{src.Provider}/{src.Region}";
            if (random.NextDouble() < 0.8) grid.Add(Egress(from, "internet", Tiers(random)));
            foreach (var provider in new[] { "p0", "p1" })
                if (random.NextDouble() < 0.5) grid.Add(Egress(from, provider, Tiers(random)));
            foreach (var dst in locations)
                if (random.NextDouble() < 0.3) grid.Add(Egress(from, $"{dst.Provider}/{dst.Region}", Tiers(random)));
        }

        var rates = new List<Sky.Directory.V1.Throughput>();
        foreach (var src in locations)
            foreach (var dst in locations)
                if (random.NextDouble() < 0.6)
                    rates.Add(Rate($"{src.Provider}/{src.Region}", $"{dst.Provider}/{dst.Region}", random.Next(1, 50) * 100_000_000L));
        var throughput = new ThroughputGrid(rates, intraRegionBitsPerSecond: 5_000_000_000, fallbackBitsPerSecond: random.NextDouble() < 0.5 ? 200_000_000 : null);

        var tasks = new PlacementTask[n];
        for (var t = 0; t < n; t++)
        {
            var ranked = random.NextDouble() < 0.25;
            var candidates = new Candidate[random.Next(1, maxCandidates + 1)];
            for (var c = 0; c < candidates.Length; c++)
            {
                var (provider, region) = locations[random.Next(regions)];
                // Hourly prices with 4 decimals and hours with 2: every cost is exact in micro-dollars.
                candidates[c] = At($"{provider}/{region}", random.Next(1, 40_000) / 10_000m, ranked ? random.Next(1, 4) : 0, instance: $"i{c}");
            }
            tasks[t] = new PlacementTask(t, $"t{t}", random.Next(1, 300) / 100m, candidates);
        }

        IEgressAdjuster? adjuster = random.NextDouble() < 0.3
            ? new PeeringAgreements(
            [
                PeeringAgreement.Discount("d", "p0", "", "p1", "", random.Next(1, 100)),
                PeeringAgreement.CappedVolume("c", "p1", "", "p0", "", random.Next(1, 300), random.Next(0, 50) / 1_000m),
            ])
            : null;

        var objective = (PlacementObjective)random.Next(3);
        var problem = new PlacementProblem
        {
            Tasks = tasks,
            Edges = edges,
            Objective = objective,
            Egress = new EgressPricer(new EgressGrid(grid), adjuster),
            Throughput = throughput,
        };
        // Limits near what plans cost and take, so they bind about as often as not.
        var totalHours = tasks.Sum(t => t.DurationHours);
        if (objective == PlacementObjective.CostUnderDeadline || random.NextDouble() < 0.2)
            problem = problem with { Deadline = TimeSpan.FromHours((double)totalHours * (0.6 + random.NextDouble())) };
        if (random.NextDouble() < 0.3) problem = problem with { MaxHourlyCost = random.Next(1, 60_000) / 10_000m * n };
        if (random.NextDouble() < 0.3) problem = problem with { MaxJobCost = random.Next(1, 200) };
        return problem;
    }

    private static (long, decimal)[] Tiers(Random random) => random.Next(3) switch
    {
        0 => [(0, random.Next(0, 150) / 1_000m)],
        1 => [(50, random.Next(0, 150) / 1_000m), (0, random.Next(0, 150) / 1_000m)],
        _ => [(50, random.Next(0, 150) / 1_000m), (200, random.Next(0, 150) / 1_000m), (0, random.Next(0, 150) / 1_000m)],
    };
}

/// <summary>Every combination of candidates, scored independently of the optimizer's code paths.</summary>
internal static class BruteForce
{
    public readonly record struct Result(long Rank, long Ms, decimal Cost);

    public static Result? Best(PlacementProblem problem)
    {
        var n = problem.Tasks.Count;
        var index = new int[n];
        Result? best = null;
        while (true)
        {
            var chosen = new Candidate[n];
            for (var t = 0; t < n; t++) chosen[t] = problem.Tasks[t].Candidates[index[t]];
            if (Score(problem, chosen) is { } score && (best is null || Less(score, best.Value))) best = score;
            var k = 0;
            while (k < n && ++index[k] == problem.Tasks[k].Candidates.Count) index[k++] = 0;
            if (k == n) return best;
        }
    }

    /// <summary>The plan's score (rank sum, makespan under the time objective else 0, cost), or null when it is not a valid plan.</summary>
    public static Result? Score(PlacementProblem problem, Candidate[] chosen)
    {
        var rank = 0L;
        decimal cost = 0, hourly = 0;
        for (var t = 0; t < chosen.Length; t++)
        {
            rank += chosen[t].PreferenceRank;
            hourly += chosen[t].HourlyCost;
            cost += chosen[t].HourlyCost * problem.Tasks[t].DurationHours;
        }
        var finish = new long[chosen.Length];
        var arrive = new long[chosen.Length];
        var timed = true;
        foreach (var edge in problem.Edges)
        {
            var (a, b) = (chosen[edge.From], chosen[edge.To]);
            if (edge.Gb == 0) continue;
            var quote = problem.Egress.Quote(a.Provider, a.Region, b.Provider, b.Region, edge.Gb);
            if (!quote.HasPrice) return null;
            cost += quote.Cost;
        }
        // Run times and transfers in whole milliseconds, rounded up (the optimizer's documented unit). Tasks are
        // indexed in a topological order by construction here (edges go from lower to higher index).
        for (var t = 0; t < chosen.Length; t++)
        {
            foreach (var edge in problem.Edges.Where(e => e.To == t))
            {
                var (a, b) = (chosen[edge.From], chosen[edge.To]);
                long ms = 0;
                if (edge.Gb > 0)
                {
                    var rate = problem.Throughput.BitsPerSecond(a.Provider, a.Region, b.Provider, b.Region);
                    if (rate is null) timed = false;
                    else ms = (long)decimal.Ceiling(edge.Gb * 1_000_000_000m * 8m * 1_000m / rate.Value);
                }
                arrive[t] = Math.Max(arrive[t], finish[edge.From] + ms);
            }
            finish[t] = arrive[t] + (long)decimal.Ceiling(problem.Tasks[t].DurationHours * 3_600_000m);
        }
        var makespan = finish.Max();
        var needsTime = problem.Objective != PlacementObjective.Cost || problem.Deadline is not null;
        if (needsTime && !timed) return null;
        if (problem.MaxHourlyCost is { } perHour && hourly > perHour) return null;
        if (problem.MaxJobCost is { } perJob && cost > perJob) return null;
        if (problem.Deadline is { } deadline && makespan * TimeSpan.TicksPerMillisecond > deadline.Ticks) return null;
        return new Result(rank, problem.Objective == PlacementObjective.Time ? makespan : 0, cost);
    }

    private static bool Less(Result a, Result b) =>
        a.Rank != b.Rank ? a.Rank < b.Rank : a.Ms != b.Ms ? a.Ms < b.Ms : a.Cost < b.Cost;
}
