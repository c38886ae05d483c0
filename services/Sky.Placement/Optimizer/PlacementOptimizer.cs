using System.Globalization;

namespace Sky.Placement.Optimizer;

/// <summary>
/// Places every task of a job on one of its candidates so the objective is best and every hard limit holds,
/// exactly: a scan for one task, dynamic programming for a chain or any DAG narrow enough (deadline included),
/// a CP-SAT integer program otherwise and whenever the dynamic programs' optimum breaks a budget (within
/// <see cref="OptimizerOptions.TimeLimit"/>, reporting the proven gap when it runs out). Cost is
/// hourly x hours per task plus each edge's egress, priced on its own from 0 GB used. Thread-safe: each call
/// builds its own state.
/// </summary>
public sealed class PlacementOptimizer(OptimizerOptions? options = null)
{
    public OptimizerOptions Options { get; } = options ?? new OptimizerOptions();

    /// <summary>The best plan.</summary>
    /// <exception cref="ArgumentException">The problem is malformed (the message names the field), or a forced method does not fit its shape.</exception>
    /// <exception cref="NoFeasiblePlanException">No plan meets the hard limits; the exception names the limit.</exception>
    /// <exception cref="TimeoutException">CP-SAT found no plan at all within the time limit.</exception>
    public PlacementPlan Optimize(PlacementProblem problem, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var time = Options.TimeProvider;
        var started = time.GetTimestamp();
        var (order, minHourly) = problem.Validate();
        CheckBounds(problem, order, minHourly);

        var single = problem.Tasks.Count == 1;
        var method = Options.Method;
        if (method == SolveMethod.Scan && !single)
            throw new ArgumentException($"placement: the scan places one task, not {problem.Tasks.Count}", nameof(problem));
        if (method == SolveMethod.Auto && single) method = SolveMethod.Scan;
        var space = SearchSpace.Build(problem, order, withOptions: method != SolveMethod.Scan);
        var elapsed = () => time.GetElapsedTime(started);

        if (method == SolveMethod.Scan)
        {
            var best = SingleTaskScan.Solve(problem);
            if (best < 0) throw Diagnose(problem, space, ct);
            return new PlanBuilder(space, [best], Options.Alternatives).Build(SolveMethod.Scan, true, 0, elapsed);
        }

        if (method is SolveMethod.Auto or SolveMethod.ChainDynamicProgram)
        {
            var sequence = ChainSolver.Sequence(space);
            if (sequence is null && method == SolveMethod.ChainDynamicProgram)
                throw new ArgumentException("placement: the tasks do not form a chain (each depending only on the one before)", nameof(problem));
            if (sequence is not null)
            {
                var options = ChainSolver.Solve(space, sequence) ?? throw Diagnose(problem, space, ct);
                // The dynamic programs ignore the hard limits; when their optimum meets them it is optimal under them too.
                if (space.Evaluate(options) is { } evaluation && space.Meets(evaluation))
                    return Build(space, options, SolveMethod.ChainDynamicProgram, true, 0, elapsed);
                // Elimination (next, under Auto) sees the deadline, CP-SAT every limit.
                if (method == SolveMethod.ChainDynamicProgram) method = SolveMethod.IntegerProgram;
            }
        }

        if (method is SolveMethod.Auto or SolveMethod.VariableElimination)
        {
            var forced = method == SolveMethod.VariableElimination;
            var outcome = EliminationSolver.Solve(space, forced ? long.MaxValue : EliminationSolver.DefaultBudget, ct);
            if (!outcome.Applicable && forced)
                throw new ArgumentException($"placement: variable elimination takes a DAG of at most {EliminationSolver.MaxPaths} source-to-sink paths when time matters", nameof(problem));
            if (outcome.Applicable)
            {
                // Elimination meets the deadline itself; a budget it broke sends the search on to CP-SAT.
                var options = outcome.Options ?? throw Diagnose(problem, space, ct);
                if (space.Evaluate(options) is { } evaluation && space.Meets(evaluation))
                    return Build(space, options, SolveMethod.VariableElimination, true, 0, elapsed);
            }
        }

        var remaining = Options.TimeLimit - elapsed();
        var result = CpSatSolver.Solve(space, Seeds.Best(space), remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1),
            Workers(), time, ct) ?? throw Diagnose(problem, space, ct);
        return Build(space, result.Options, SolveMethod.IntegerProgram, result.Optimal, result.Gap, elapsed);
    }

    private PlacementPlan Build(SearchSpace space, int[] options, SolveMethod method, bool optimal, double gap, Func<TimeSpan> elapsed)
    {
        var candidateOf = new int[options.Length];
        for (var t = 0; t < options.Length; t++) candidateOf[t] = space.Tasks[t].Option[options[t]];
        return new PlanBuilder(space, candidateOf, Options.Alternatives).Build(method, optimal, gap, elapsed);
    }

    private int Workers() => Options.Workers > 0 ? Options.Workers : OptimizerOptions.DefaultWorkers;

    /// <summary>Limits no search can meet, found from per-task minimums before searching.</summary>
    private static void CheckBounds(PlacementProblem problem, int[] order, decimal[] minHourly)
    {
        decimal hourlyFloor = 0, minCompute = 0;
        for (var t = 0; t < problem.Tasks.Count; t++)
        {
            var task = problem.Tasks[t];
            if (task.Candidates.Count == 0) throw new NoFeasiblePlanException(PlacementConstraint.Candidates, $"placement: task '{task.Name}' has no candidates");
            hourlyFloor += minHourly[t];
            minCompute += minHourly[t] * task.DurationHours;
        }
        if (problem.MaxHourlyCost is { } perHour && hourlyFloor > perHour)
            throw new NoFeasiblePlanException(PlacementConstraint.BudgetPerHour,
                $"placement: budget per hour {Usd(perHour)}: the cheapest candidates of all tasks together cost {Usd(hourlyFloor)}/h");
        if (problem.MaxJobCost is { } perJob && minCompute > perJob)
            throw new NoFeasiblePlanException(PlacementConstraint.BudgetPerJob,
                $"placement: budget per job {Usd(perJob)}: compute alone costs at least {Usd(minCompute)}");
        if (problem.Deadline is { } deadline)
        {
            // The critical path with every transfer instant: no plan is faster.
            var finish = new decimal[problem.Tasks.Count];
            foreach (var t in order)
            {
                foreach (var edge in problem.Edges)
                    if (edge.To == t) finish[t] = Math.Max(finish[t], finish[edge.From]);
                finish[t] += problem.Tasks[t].DurationHours;
            }
            var hours = finish.Max();
            if (hours * 3600m > (decimal)deadline.TotalSeconds)
                throw new NoFeasiblePlanException(PlacementConstraint.Deadline,
                    $"placement: deadline {deadline}: the tasks' run times alone take {hours.ToString(CultureInfo.InvariantCulture)} h on the critical path");
        }
    }

    /// <summary>
    /// Finds which hard limit left no plan: no priced (or timed) assignment at all, else each limit alone against
    /// the best plan without limits, else their combination.
    /// </summary>
    private NoFeasiblePlanException Diagnose(PlacementProblem problem, SearchSpace space, CancellationToken ct)
    {
        var constrained = problem.MaxHourlyCost is not null || problem.MaxJobCost is not null || problem.Deadline is not null;
        if (!constrained) return Unconnected(space.Tasks.Length > 0 ? space : SearchSpace.Build(problem, space.Order));

        // Ranks only order plans, they never rule one out: drop them to find the cheapest and fastest plans.
        var open = problem with
        {
            Tasks = [.. problem.Tasks.Select(t => t with { Candidates = [.. t.Candidates.Select(c => c with { PreferenceRank = 0 })] })],
            MaxHourlyCost = null,
            MaxJobCost = null,
            Deadline = null,
            Objective = PlacementObjective.Cost,
        };
        var inner = new PlacementOptimizer(Options with { Alternatives = 0, Method = SolveMethod.Auto });
        PlacementPlan cheapest;
        try
        {
            cheapest = inner.Optimize(open, ct);
        }
        catch (NoFeasiblePlanException e)
        {
            return e;
        }
        if (problem.MaxJobCost is { } perJob && cheapest.TotalCost > perJob)
            return new NoFeasiblePlanException(PlacementConstraint.BudgetPerJob,
                $"placement: budget per job {Usd(perJob)}: the cheapest plan costs {Usd(cheapest.TotalCost)}");
        if (problem.Deadline is { } deadline)
        {
            PlacementPlan fastest;
            try
            {
                fastest = inner.Optimize(open with { Objective = PlacementObjective.Time }, ct);
            }
            catch (NoFeasiblePlanException e)
            {
                return e;
            }
            if (fastest.Makespan > deadline)
                return new NoFeasiblePlanException(PlacementConstraint.Deadline, $"placement: deadline {deadline}: the fastest plan takes {fastest.Makespan}");
        }
        var limits = new List<string>();
        if (problem.MaxHourlyCost is { } perHour) limits.Add($"budget per hour {Usd(perHour)}");
        if (problem.MaxJobCost is { } job) limits.Add($"budget per job {Usd(job)}");
        if (problem.Deadline is { } d) limits.Add($"deadline {d}");
        return new NoFeasiblePlanException(PlacementConstraint.Combination,
            $"placement: no plan meets {string.Join(", ", limits)} together, though each alone can be met");
    }

    /// <summary>With no limits, the only way to have no plan: edges with no egress price (or, when time matters, no throughput estimate).</summary>
    private static NoFeasiblePlanException Unconnected(SearchSpace space)
    {
        foreach (var edge in space.Edges)
            if (Array.IndexOf(edge.Priced, true) < 0)
                return new NoFeasiblePlanException(PlacementConstraint.EgressPrice,
                    $"placement: {Describe(space, edge)}: no egress price from any region of the first task's candidates to any of the second's (e.g. {Example(space, edge)})");
        if (space.NeedsTime)
            foreach (var edge in space.Edges)
            {
                var timed = false;
                for (var cell = 0; cell < edge.Priced.Length && !timed; cell++) timed = edge.Priced[cell] && edge.Ms![cell] >= 0;
                if (!timed)
                    return new NoFeasiblePlanException(PlacementConstraint.Throughput,
                        $"placement: {Describe(space, edge)}: no throughput estimate between the tasks' regions (e.g. {Example(space, edge)}); the throughput grid needs a measurement or a fallback rate");
            }
        return space.NeedsTime
            ? new NoFeasiblePlanException(PlacementConstraint.Throughput, "placement: no choice of regions has an egress price and a throughput estimate for every edge")
            : new NoFeasiblePlanException(PlacementConstraint.EgressPrice, "placement: no choice of regions has an egress price for every edge");
    }

    private static string Describe(SearchSpace space, EdgeSpace edge) =>
        $"edge '{space.Problem.Tasks[edge.Edge.From].Name}' -> '{space.Problem.Tasks[edge.Edge.To].Name}' ({edge.Edge.Gb.ToString(CultureInfo.InvariantCulture)} GB)";

    private static string Example(SearchSpace space, EdgeSpace edge) =>
        $"{space.LocationName(space.Tasks[edge.Edge.From].Locations[0])} -> {space.LocationName(space.Tasks[edge.Edge.To].Locations[0])}";

    private static string Usd(decimal amount) => "$" + amount.ToString(CultureInfo.InvariantCulture);
}
