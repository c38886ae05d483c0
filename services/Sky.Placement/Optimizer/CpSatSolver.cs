using System.Globalization;
using Google.OrTools.Sat;

namespace Sky.Placement.Optimizer;

/// <summary>The options chosen per task and how sure the solver is of them.</summary>
internal sealed record SolveResult(int[] Options, bool Optimal, double Gap);

/// <summary>
/// The exact integer program for a general DAG, solved with OR-Tools CP-SAT.
/// <para>
/// Placement: a boolean per (task, option), exactly one per task, and from them a literal per (task, region)
/// and per (task, provider). Region pairs an edge cannot use (no egress price; no throughput estimate when time
/// matters) are excluded by one linear row per source region.
/// </para>
/// <para>
/// Each edge's egress (and, when time matters, its transfer time) is an integer bounded below, for each source
/// region a and enforced only when the source task is there, by the value of a's row at the destination's
/// region. A row is written relative to its most common value among each destination provider's regions (the
/// provider's literal times that value, plus a correction for each region that differs): egress prices mostly
/// vary by destination provider, so a row has a handful of terms instead of one per region, which keeps a
/// 50-task DAG over 100 regions to a few thousand variables. Enforced rows alone leave the LP blind to what
/// splitting two tasks costs (its bound was the compute floor: a 96% gap at 50 tasks), so unconditional
/// co-location cuts are added: value &gt;= m_a (at_src[a] - at_dst[a]) with m_a the cheapest value from region a
/// to any other region, and the same from the destination's side. They hold for any non-negative values (0
/// when both tasks share region a, at most the true value otherwise) and cost two terms each.
/// A transportation model (pair variables per destination provider) has a tighter LP, but it is ~20 times
/// larger and CP-SAT's presolve alone outlasted a 5 s limit at 50 tasks; narrow DAGs, where it paid off, are
/// solved exactly by <see cref="EliminationSolver"/> before CP-SAT is tried.
/// </para>
/// <para>
/// Costs are integers in micro-dollars, each term rounded up. Why micro and not nano: catalog prices have at
/// most 6 decimal places (SkyPilot's CSVs), so whole-hour compute and list egress are exact in micro-dollars,
/// while plan totals stay far below 2^53 (CP-SAT's LP works in doubles, and its overflow checks bound every
/// constraint's range); nano-dollars reach 2^53 at a $9M plan. Rounding up keeps a budget check conservative:
/// a plan the model accepts is within budget exactly. Times are integers in milliseconds.
/// </para>
/// <para>
/// Objectives are lexicographic and solved in phases, each fixing the previous one's value: preference ranks
/// (when they differ), then makespan (time objective), then cost. The time limit covers all phases.
/// </para>
/// </summary>
internal sealed class CpSatSolver
{
    private const decimal MicrosPerDollar = 1_000_000m;

    /// <summary>
    /// Light presolve: CP-SAT's default probing and repeated presolve passes took 3.7 of 5 s on a 50-task DAG
    /// before any search; one pass without probing starts the search in about a second and proves more in the
    /// same limit (50 tasks, 5 s: a plan 16% cheaper than the hint, gap 0.55 instead of no plan at all).
    /// </summary>
    private const string Parameters = "cp_model_probing_level:0 max_presolve_iterations:1";

    private readonly SearchSpace space;
    private readonly CpModel model = new();
    private readonly BoolVar[][] choose;
    private readonly BoolVar[][] at;
    private readonly ProviderGroups?[] providers;
    private readonly bool[]?[] usable;
    private readonly long[]?[] micros;
    private readonly IntVar?[] egress;
    private readonly IntVar?[] transfer;
    private readonly LinearExprBuilder cost = LinearExpr.NewBuilder();
    private readonly LinearExprBuilder ranks = LinearExpr.NewBuilder();
    private IntVar[] start = [];
    private IntVar? makespan;

    private CpSatSolver(SearchSpace space)
    {
        this.space = space;
        var n = space.Tasks.Length;
        choose = new BoolVar[n][];
        at = new BoolVar[n][];
        providers = new ProviderGroups?[n];
        usable = new bool[space.Edges.Length][];
        micros = new long[space.Edges.Length][];
        egress = new IntVar?[space.Edges.Length];
        transfer = new IntVar?[space.Edges.Length];
    }

    /// <summary>The best assignment, or null when the model is infeasible.</summary>
    /// <exception cref="TimeoutException">The time limit passed before any feasible plan was found.</exception>
    public static SolveResult? Solve(SearchSpace space, int[]? hint, TimeSpan timeLimit, int workers, TimeProvider time, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var solver = new CpSatSolver(space);
        if (!solver.Build()) return null;
        return solver.Run(hint, started, timeLimit, workers, time, ct);
    }

    /// <summary>Micro-dollars, rounded up.</summary>
    public static long Micros(decimal dollars) => (long)decimal.Ceiling(dollars * MicrosPerDollar);

    private static long MicrosDown(decimal dollars) => (long)decimal.Floor(dollars * MicrosPerDollar);

    /// <summary>Builds the model; false when some edge has no usable region pair at all.</summary>
    private bool Build()
    {
        var tasks = space.Tasks;
        var hourly = LinearExpr.NewBuilder();
        for (var t = 0; t < tasks.Length; t++)
        {
            choose[t] = new BoolVar[tasks[t].Option.Length];
            for (var o = 0; o < choose[t].Length; o++)
            {
                choose[t][o] = model.NewBoolVar("");
                cost.AddTerm(choose[t][o], Micros(tasks[t].Compute[o]));
                if (space.HasRanks) ranks.AddTerm(choose[t][o], tasks[t].Rank[o]);
                if (space.Problem.MaxHourlyCost is not null) hourly.AddTerm(choose[t][o], Micros(tasks[t].Hourly[o]));
            }
            model.AddExactlyOne(choose[t]);
            at[t] = RegionLiterals(tasks[t], choose[t]);
        }

        foreach (var edge in space.Edges)
        {
            if (edge.Edge.Gb == 0) continue;
            var cells = Usable(edge);
            usable[edge.Index] = cells;
            if (!Exclude(edge, cells)) return false;
            var values = new long[edge.Cost.Length];
            for (var cell = 0; cell < values.Length; cell++) values[cell] = cells[cell] ? Micros(edge.Cost[cell]) : 0;
            micros[edge.Index] = values;
            var (value, variable, _) = LowerBound(edge, values, cells);
            egress[edge.Index] = variable;
            cost.Add(value);
        }

        if (space.NeedsTime) makespan = TimeModel();
        if (space.Problem.MaxHourlyCost is { } perHour) model.Add(hourly <= MicrosDown(perHour));
        if (space.Problem.MaxJobCost is { } perJob) model.Add(cost <= MicrosDown(perJob));
        return true;
    }

    private SolveResult? Run(int[]? hint, long started, TimeSpan timeLimit, int workers, TimeProvider time, CancellationToken ct)
    {
        var phases = new List<LinearExpr>(3);
        if (space.HasRanks) phases.Add(ranks);
        if (space.Problem.Objective == PlacementObjective.Time) phases.Add(makespan!);
        phases.Add(cost);

        if (hint is not null) Hint(hint);
        using var solver = new CpSolver();
        using var registration = ct.Register(solver.StopSearch);
        int[]? best = null;
        var optimal = true;
        var gap = 0d;
        foreach (var phase in phases)
        {
            var remaining = timeLimit - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero && best is not null)
            {
                optimal = false;
                break;
            }
            model.Minimize(phase);
            solver.StringParameters = string.Create(CultureInfo.InvariantCulture,
                $"max_time_in_seconds:{Math.Max(remaining.TotalSeconds, 0.001):0.###} num_workers:{workers} {Parameters}");
            var status = solver.Solve(model);
            ct.ThrowIfCancellationRequested();
            switch (status)
            {
                case CpSolverStatus.Optimal or CpSolverStatus.Feasible:
                    best = Read(solver);
                    var value = solver.Value(phase);
                    if (status == CpSolverStatus.Optimal)
                    {
                        gap = 0;
                        model.Add(phase == value);
                    }
                    else
                    {
                        optimal = false;
                        gap = Gap(solver.ObjectiveValue, solver.BestObjectiveBound);
                        model.Add(phase <= value);
                    }
                    model.ClearHints();
                    Hint(best);
                    break;
                case CpSolverStatus.Infeasible when best is null:
                    return null;
                case CpSolverStatus.ModelInvalid:
                    throw new InvalidOperationException($"placement: the CP-SAT model is invalid: {model.Validate()}");
                default:
                    // Out of time. Keep the previous phase's plan, or else the hint when it is a whole valid plan
                    // (the seed always is, unless a limit rules it out), with whatever bound was proven.
                    if (best is null)
                    {
                        if (hint is null || space.Evaluate(hint) is not { } seed || !space.Meets(seed))
                            throw new TimeoutException($"placement: no plan found within the time limit of {timeLimit.TotalSeconds:0.###} s");
                        best = hint;
                        gap = status == CpSolverStatus.Unknown && !double.IsNaN(solver.BestObjectiveBound) && ReferenceEquals(phase, phases[^1])
                            ? Gap(CostOf(hint), solver.BestObjectiveBound) : 1;
                    }
                    optimal = false;
                    break;
            }
            if (!optimal) break;
        }
        return new SolveResult(best!, optimal, optimal ? 0 : gap);
    }

    /// <summary>The cost objective's value (micro-dollars) of an assignment, as the model counts it.</summary>
    private double CostOf(int[] options)
    {
        double total = 0;
        var location = new int[options.Length];
        for (var t = 0; t < options.Length; t++)
        {
            total += Micros(space.Tasks[t].Compute[options[t]]);
            location[t] = space.Tasks[t].OptionLocation[options[t]];
        }
        foreach (var edge in space.Edges)
            if (micros[edge.Index] is { } values) total += values[location[edge.Edge.From] * edge.Width + location[edge.Edge.To]];
        return total;
    }

    private static double Gap(double objective, double bound) =>
        Math.Abs(objective) < 1e-9 ? 0 : Math.Max(0, (objective - bound) / Math.Abs(objective));

    private int[] Read(CpSolver solver)
    {
        var options = new int[choose.Length];
        for (var t = 0; t < choose.Length; t++)
            for (var o = 0; o < choose[t].Length; o++)
                if (solver.BooleanValue(choose[t][o])) options[t] = o;
        return options;
    }

    /// <summary>
    /// A complete hint: the options, and every value they imply (regions, providers, each edge's egress and
    /// transfer time, start times, makespan), so CP-SAT starts from a whole plan instead of searching for one.
    /// </summary>
    private void Hint(int[] options)
    {
        var hinted = new HashSet<int>();
        void Set(BoolVar variable, bool value)
        {
            if (hinted.Add(variable.GetIndex())) model.AddHint(variable, value);
        }
        void SetInt(IntVar? variable, long value)
        {
            if (variable is not null && hinted.Add(variable.GetIndex())) model.AddHint(variable, value);
        }

        var location = new int[choose.Length];
        for (var t = 0; t < choose.Length; t++)
        {
            location[t] = space.Tasks[t].OptionLocation[options[t]];
            for (var o = 0; o < choose[t].Length; o++) Set(choose[t][o], o == options[t]);
            for (var l = 0; l < at[t].Length; l++) Set(at[t][l], l == location[t]);
            if (providers[t] is { } groups)
                for (var g = 0; g < groups.Members.Length; g++) Set(groups.Literal[g], Array.IndexOf(groups.Members[g], location[t]) >= 0);
        }
        foreach (var edge in space.Edges)
        {
            var cell = location[edge.Edge.From] * edge.Width + location[edge.Edge.To];
            if (micros[edge.Index] is { } values) SetInt(egress[edge.Index], values[cell]);
            if (edge.Ms is not null) SetInt(transfer[edge.Index], Math.Max(edge.Ms[cell], 0));
        }
        if (makespan is null) return;
        var finish = new long[choose.Length];
        long longest = 0;
        foreach (var t in space.Order)
        {
            long begin = 0;
            foreach (var e in space.In[t])
            {
                var edge = space.Edges[e];
                var ms = edge.Edge.Gb == 0 ? 0 : Math.Max(edge.Ms![location[edge.Edge.From] * edge.Width + location[t]], 0);
                begin = Math.Max(begin, finish[edge.Edge.From] + ms);
            }
            SetInt(start[t], begin);
            finish[t] = begin + space.DurationMs[t];
            longest = Math.Max(longest, finish[t]);
        }
        SetInt(makespan, longest);
    }

    /// <summary>A literal per local region: the option's own when it is the only one there, else their sum.</summary>
    private BoolVar[] RegionLiterals(TaskSpace task, BoolVar[] options)
    {
        var literals = new BoolVar[task.Locations.Length];
        var members = new List<BoolVar>[task.Locations.Length];
        for (var o = 0; o < options.Length; o++) (members[task.OptionLocation[o]] ??= []).Add(options[o]);
        for (var l = 0; l < literals.Length; l++)
        {
            if (members[l].Count == 1)
            {
                literals[l] = members[l][0];
                continue;
            }
            literals[l] = model.NewBoolVar("");
            model.Add(LinearExpr.Sum(members[l]) == literals[l]);
        }
        return literals;
    }

    /// <summary>Cells of an edge a plan may use: priced, and with a transfer estimate when time matters.</summary>
    private static bool[] Usable(EdgeSpace edge)
    {
        var cells = (bool[])edge.Priced.Clone();
        if (edge.Ms is not null)
            for (var cell = 0; cell < cells.Length; cell++) cells[cell] &= edge.Ms[cell] >= 0;
        return cells;
    }

    /// <summary>Forbids unusable region pairs: per source region a, at[a] + the destination regions a cannot reach &lt;= 1. False when no pair is usable.</summary>
    private bool Exclude(EdgeSpace edge, bool[] cells)
    {
        if (Array.IndexOf(cells, true) < 0) return false;
        var (src, dst) = (at[edge.Edge.From], at[edge.Edge.To]);
        var unreachable = new List<BoolVar>();
        for (var a = 0; a < src.Length; a++)
        {
            unreachable.Clear();
            for (var b = 0; b < edge.Width; b++)
                if (!cells[a * edge.Width + b]) unreachable.Add(dst[b]);
            if (unreachable.Count == edge.Width) model.Add(src[a] == 0);
            else if (unreachable.Count > 0) model.Add(LinearExpr.Sum(unreachable) + src[a] <= 1);
        }
        return true;
    }

    /// <summary>Start times, transfer times and the makespan (ms); the deadline bounds it.</summary>
    private IntVar TimeModel()
    {
        var n = space.Tasks.Length;
        var horizon = space.DurationMs.Sum();
        var transfers = new LinearExpr[space.Edges.Length];
        foreach (var edge in space.Edges)
        {
            if (edge.Edge.Gb == 0)
            {
                transfers[edge.Index] = LinearExpr.Constant(0);
                continue;
            }
            var (value, variable, longest) = LowerBound(edge, edge.Ms!, usable[edge.Index]!);
            transfers[edge.Index] = value;
            transfer[edge.Index] = variable;
            horizon += longest;
        }
        start = new IntVar[n];
        for (var t = 0; t < n; t++) start[t] = model.NewIntVar(0, horizon, "");
        foreach (var edge in space.Edges)
            model.Add(start[edge.Edge.To] >= start[edge.Edge.From] + space.DurationMs[edge.Edge.From] + transfers[edge.Index]);
        var last = model.NewIntVar(0, horizon, "");
        for (var t = 0; t < n; t++)
            if (space.Out[t].Count == 0) model.Add(last >= start[t] + space.DurationMs[t]);
        if (space.Problem.Deadline is { } deadline) model.Add(last <= deadline.Ticks / TimeSpan.TicksPerMillisecond);
        return last;
    }

    /// <summary>
    /// An integer at least values[a * width + b] of the chosen usable pair (egress micro-dollars or transfer ms),
    /// by the provider-relative rows and co-location cuts described above; its variable (null when constant) and
    /// its largest possible value.
    /// </summary>
    private (LinearExpr Value, IntVar? Variable, long Largest) LowerBound(EdgeSpace edge, long[] values, bool[] cells)
    {
        var (src, dst) = (at[edge.Edge.From], at[edge.Edge.To]);
        var (srcTask, dstTask) = (space.Tasks[edge.Edge.From], space.Tasks[edge.Edge.To]);
        var width = edge.Width;
        long min = long.MaxValue, max = 0;
        for (var cell = 0; cell < values.Length; cell++)
            if (cells[cell]) (min, max) = (Math.Min(min, values[cell]), Math.Max(max, values[cell]));
        if (min == max) return (LinearExpr.Constant(min), null, max);

        var groups = providers[edge.Edge.To] ??= new ProviderGroups(model, space, dstTask, dst);
        var target = model.NewIntVar(min, max, "");
        var counts = new Dictionary<long, int>();
        var dstLocal = new Dictionary<int, int>(width);
        for (var b = 0; b < width; b++) dstLocal[dstTask.Locations[b]] = b;
        var srcLocal = new int[width];
        Array.Fill(srcLocal, -1);
        var cheapestInto = new long[width];
        Array.Fill(cheapestInto, long.MaxValue);
        for (var a = 0; a < src.Length; a++)
        {
            var row = a * width;
            var same = dstLocal.GetValueOrDefault(srcTask.Locations[a], -1);
            if (same >= 0) srcLocal[same] = a;
            // target - (row terms) >= 0, written straight into the proto: at 50 tasks the rows hold about a million terms.
            var linear = new LinearConstraintProto();
            linear.Vars.Add(target.GetIndex());
            linear.Coeffs.Add(1);
            var cheapestAway = long.MaxValue;
            var any = false;
            for (var g = 0; g < groups.Members.Length; g++)
            {
                var mode = Mode(values, cells, row, groups.Members[g], counts);
                if (mode != 0) Term(linear, groups.Literal[g], -mode);
                foreach (var b in groups.Members[g])
                {
                    if (!cells[row + b]) continue;
                    any = true;
                    var value = values[row + b];
                    if (value != mode) Term(linear, dst[b], mode - value);
                    if (b == same) continue;
                    cheapestAway = Math.Min(cheapestAway, value);
                    cheapestInto[b] = Math.Min(cheapestInto[b], value);
                }
            }
            if (!any) continue;
            linear.Domain.Add(0);
            linear.Domain.Add(long.MaxValue);
            var constraint = new ConstraintProto { Linear = linear };
            if (src.Length > 1) constraint.EnforcementLiteral.Add(src[a].GetIndex());
            model.Model.Constraints.Add(constraint);
            // Source in a and destination elsewhere: at least the cheapest way out of a.
            if (cheapestAway is > 0 and < long.MaxValue)
                model.Add(same >= 0 ? target >= cheapestAway * (src[a] - dst[same]) : target >= cheapestAway * src[a]);
        }
        // Destination in b and source elsewhere: at least the cheapest way into b.
        for (var b = 0; b < width; b++)
            if (cheapestInto[b] is > 0 and < long.MaxValue)
                model.Add(srcLocal[b] >= 0 ? target >= cheapestInto[b] * (dst[b] - src[srcLocal[b]]) : target >= cheapestInto[b] * dst[b]);
        return (target, target, max);
    }

    private static void Term(LinearConstraintProto linear, BoolVar variable, long coefficient)
    {
        linear.Vars.Add(variable.GetIndex());
        linear.Coeffs.Add(coefficient);
    }

    /// <summary>The most common usable value in a row among some columns (0 when none is usable).</summary>
    private static long Mode(long[] values, bool[] cells, int row, int[] columns, Dictionary<long, int> counts)
    {
        counts.Clear();
        long mode = 0;
        var top = 0;
        foreach (var b in columns)
        {
            if (!cells[row + b]) continue;
            var count = counts.TryGetValue(values[row + b], out var c) ? c + 1 : 1;
            counts[values[row + b]] = count;
            if (count > top) (top, mode) = (count, values[row + b]);
        }
        return mode;
    }

    /// <summary>A task's regions grouped by provider, with a literal per group (true when the task is in one of its regions).</summary>
    private sealed class ProviderGroups
    {
        public ProviderGroups(CpModel model, SearchSpace space, TaskSpace task, BoolVar[] at)
        {
            var byProvider = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
            for (var l = 0; l < task.Locations.Length; l++)
            {
                var provider = space.Locations[task.Locations[l]].Provider;
                if (!byProvider.TryGetValue(provider, out var list)) byProvider.Add(provider, list = []);
                list.Add(l);
            }
            Members = [.. byProvider.Values.Select(v => v.ToArray())];
            Literal = new BoolVar[Members.Length];
            for (var g = 0; g < Members.Length; g++)
            {
                if (Members[g].Length == 1)
                {
                    Literal[g] = at[Members[g][0]];
                    continue;
                }
                Literal[g] = model.NewBoolVar("");
                model.Add(LinearExpr.Sum(Members[g].Select(l => at[l])) == Literal[g]);
            }
        }

        public int[][] Members { get; }
        public BoolVar[] Literal { get; }
    }
}
