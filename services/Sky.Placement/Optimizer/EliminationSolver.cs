using System.Numerics;
using System.Runtime.CompilerServices;

namespace Sky.Placement.Optimizer;

/// <summary>
/// Exact minimisation by bucket elimination: dynamic programming over a tree decomposition of the tasks'
/// interaction graph, the chain program generalized to any DAG. Cost is a sum of one term per task (compute) and
/// one per pair of tasks joined by edges (egress), so a task can be summed out by tabulating, for every choice of
/// its neighbours, its best option; the table becomes a new term over those neighbours. Eliminating the task whose
/// table is smallest first, a diamond or a 1-4-1 fan-out never needs a table over more than two tasks (regions^3
/// steps per task), far faster than any search. A DAG whose tables would pass <see cref="DefaultBudget"/> steps
/// is left to CP-SAT. Budgets are checked by the caller on the result.
/// <para>
/// Time enters as one more kind of term: a <see cref="TaskPath"/> per source-to-sink path, since the makespan is
/// the longest of them and a path's length depends only on its own tasks' regions (run times do not depend on the
/// candidate). A deadline is a limit every path term must meet. The time objective takes two eliminations: the
/// least (ranks, makespan), by the same elimination with max in place of + for time (+ on ranks and max on time
/// keep the order, so the best of a table still extends to the best plan: exact), then the least (ranks, cost)
/// among plans no longer than that. Why this and not CP-SAT: each is one pass with no proof to wait for (a
/// diamond over the real catalogs: a few ms, against 0.5-1.8 s for CP-SAT to prove it), and a limit prunes it:
/// a path's fixed part plus its shortest hops into and out of the task being eliminated closes most of its
/// table's rows at once; the first pass starts from a colocated plan's makespan when it can.
/// </para>
/// Arithmetic is exact: integers in units of 10^-scale dollars when every amount has at most 12 decimal places
/// (the usual case, and several times faster), decimal otherwise; whole milliseconds for time.
/// </summary>
internal static class EliminationSolver
{
    /// <summary>Most table steps to spend (well under a second); beyond it CP-SAT is the better tool.</summary>
    public const long DefaultBudget = 30_000_000;

    /// <summary>Most source-to-sink paths when time matters; a DAG with more is left to CP-SAT.</summary>
    public const int MaxPaths = 64;

    private const int MaxScale = 12;

    /// <summary>Outcome: not applicable (too wide), infeasible (no assignment prices every edge and meets the deadline), or the best option per task.</summary>
    public readonly record struct Outcome(bool Applicable, int[]? Options);

    /// <summary>The best option per task under the problem's objective and deadline; budgets are left to the caller.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static Outcome Solve(SearchSpace space, long budget = DefaultBudget, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var n = space.Tasks.Length;
        var domain = new int[n];
        for (var t = 0; t < n; t++) domain[t] = space.Tasks[t].Option.Length;
        TaskPath[]? paths = space.NeedsTime ? TaskPath.All(space, MaxPaths) : [];
        if (paths is null) return new Outcome(false, null);
        var scopes = Scopes(space);
        var order = Order([.. scopes, .. paths.Select(p => p.Tasks)], domain, budget);
        if (order is null) return new Outcome(false, null);

        var problem = space.Problem;
        var limit = problem.Deadline is { } deadline ? deadline.Ticks / TimeSpan.TicksPerMillisecond : long.MaxValue;
        var solver = new Decomposition(space, domain, scopes, paths, order, ct);
        if (problem.Objective == PlacementObjective.Time)
        {
            // Without ranks any valid plan's makespan bounds the least one, and a tight bound rules most region
            // pairs out early (a colocated plan's, over the real catalogs: within 2% of the least makespan).
            var bound = space.HasRanks ? limit : Math.Min(limit, Seeds.FastestColocatedMakespan(space) ?? long.MaxValue);
            if (solver.Run(bound, static (rank, _) => new Timed(rank, 0)) is not { } fastest) return new Outcome(true, null);
            limit = fastest.Value.Ms;
        }
        var result = FixedPointScale(space) is { } scale
            ? solver.Run(limit, (rank, cost) => new Priced<long>(rank, (long)(cost * scale)))?.Options
            : solver.Run(limit, static (rank, cost) => new Priced<decimal>(rank, cost))?.Options;
        return new Outcome(true, result);
    }

    /// <summary>The scope of every initial factor: each pair of tasks joined by edges, and each task without any.</summary>
    private static List<int[]> Scopes(SearchSpace space)
    {
        var scopes = new List<int[]>();
        var seen = new HashSet<(int, int)>();
        var paired = new bool[space.Tasks.Length];
        foreach (var edge in space.Edges)
        {
            var (u, v) = (edge.Edge.From, edge.Edge.To);
            var pair = u < v ? (u, v) : (v, u);
            if (!seen.Add(pair)) continue;
            scopes.Add([pair.Item1, pair.Item2]);
            paired[u] = paired[v] = true;
        }
        for (var t = 0; t < paired.Length; t++)
            if (!paired[t]) scopes.Add([t]);
        return scopes;
    }

    /// <summary>A greedy elimination order (smallest new table first), or null when its work would pass the budget.</summary>
    private static int[]? Order(List<int[]> initial, int[] domain, long budget)
    {
        var n = domain.Length;
        var scopes = initial.Select(s => new HashSet<int>(s)).ToList();
        var done = new bool[n];
        var order = new int[n];
        long work = 0;
        for (var k = 0; k < n; k++)
        {
            var best = -1;
            var bestWork = long.MaxValue;
            HashSet<int>? bestScope = null;
            for (var x = 0; x < n; x++)
            {
                if (done[x]) continue;
                var scope = new HashSet<int>();
                var count = 0;
                foreach (var s in scopes)
                    if (s.Contains(x))
                    {
                        scope.UnionWith(s);
                        count++;
                    }
                scope.Remove(x);
                long cells = domain[x];
                foreach (var t in scope) cells = cells > budget ? cells : cells * domain[t];
                var cost = cells > budget ? long.MaxValue : cells * Math.Max(count, 1);
                if (cost < bestWork) (best, bestWork, bestScope) = (x, cost, scope);
            }
            if (bestWork == long.MaxValue || (work += bestWork) > budget) return null;
            scopes.RemoveAll(s => s.Contains(best));
            scopes.Add(bestScope!);
            done[best] = true;
            order[k] = best;
        }
        return order;
    }

    /// <summary>10^s for the smallest s that makes every amount an integer, when s &lt;= 12 and every sum fits a long.</summary>
    private static decimal? FixedPointScale(SearchSpace space)
    {
        var scale = 0;
        decimal total = 0;
        foreach (var task in space.Tasks)
        {
            decimal dearest = 0;
            foreach (var compute in task.Compute) (scale, dearest) = (Math.Max(scale, compute.Scale), Math.Max(dearest, compute));
            total += dearest;
        }
        foreach (var edge in space.Edges)
        {
            decimal dearest = 0;
            for (var cell = 0; cell < edge.Cost.Length; cell++)
                if (edge.Priced[cell]) (scale, dearest) = (Math.Max(scale, edge.Cost[cell].Scale), Math.Max(dearest, edge.Cost[cell]));
            total += dearest;
        }
        if (scale > MaxScale) return null;
        var factor = 1m;
        for (var i = 0; i < scale; i++) factor *= 10;
        return total * factor < long.MaxValue / 4 ? factor : null;
    }

    /// <summary>One problem's factors and elimination order, run once per objective phase.</summary>
    private sealed class Decomposition(SearchSpace space, int[] domain, List<int[]> scopes, TaskPath[] paths, int[] order, CancellationToken ct)
    {
        /// <summary>
        /// The best option per task and its value, every path at most <paramref name="limit"/> ms; null when no
        /// assignment prices every edge within the limit. <paramref name="make"/> turns a (rank, cost) term into a value.
        /// </summary>
        public (int[] Options, TValue Value)? Run<TValue>(long limit, Func<long, decimal, TValue> make)
            where TValue : struct, IPlanValue<TValue>
        {
            var factors = InitialFactors(make);
            var pending = new List<TaskPath>(paths);
            var steps = new List<(int Task, int[] Scope, int[] Best)>(order.Length);
            foreach (var x in order)
            {
                ct.ThrowIfCancellationRequested();
                var involved = factors.Where(f => Array.IndexOf(f.Scope, x) >= 0).ToList();
                factors.RemoveAll(f => Array.IndexOf(f.Scope, x) >= 0);
                var through = pending.Where(p => Array.IndexOf(p.Tasks, x) >= 0).ToList();
                pending.RemoveAll(p => Array.IndexOf(p.Tasks, x) >= 0);
                var (merged, best) = Eliminate(x, involved, through, limit);
                factors.Add(merged);
                steps.Add((x, merged.Scope, best));
            }
            // Only constants remain, one per connected component.
            var total = TValue.Zero;
            foreach (var f in factors)
            {
                if (f.Table[0].IsInvalid) return null;
                total = TValue.Add(total, f.Table[0]);
            }
            var option = new int[order.Length];
            for (var s = steps.Count - 1; s >= 0; s--)
            {
                var (x, scope, best) = steps[s];
                var index = 0;
                foreach (var t in scope) index = index * domain[t] + option[t];
                option[x] = best[index];
            }
            return (option, total);
        }

        /// <summary>
        /// A table per scope: egress summed over the pair's edges, plus each task's own (rank, compute) folded into
        /// the first table that has it, so the inner loop adds as few tables as possible.
        /// </summary>
        private List<Factor<TValue>> InitialFactors<TValue>(Func<long, decimal, TValue> make) where TValue : struct, IPlanValue<TValue>
        {
            var factors = new List<Factor<TValue>>(scopes.Count);
            var byPair = new Dictionary<(int, int), Factor<TValue>>();
            var owner = new int[domain.Length];
            Array.Fill(owner, -1);
            foreach (var scope in scopes)
            {
                var size = 1;
                foreach (var t in scope) size *= domain[t];
                var table = new TValue[size];
                Array.Fill(table, TValue.Zero);
                var factor = new Factor<TValue>(scope, table);
                factors.Add(factor);
                if (scope.Length == 2) byPair.Add((scope[0], scope[1]), factor);
                foreach (var t in scope)
                    if (owner[t] < 0) owner[t] = factors.Count - 1;
            }
            foreach (var edge in space.Edges)
            {
                var (u, v) = (edge.Edge.From, edge.Edge.To);
                var factor = byPair[u < v ? (u, v) : (v, u)];
                var (from, to) = (space.Tasks[u], space.Tasks[v]);
                var width = domain[factor.Scope[1]];
                for (var i = 0; i < domain[factor.Scope[0]]; i++)
                    for (var j = 0; j < width; j++)
                    {
                        ref var value = ref factor.Table[i * width + j];
                        if (value.IsInvalid) continue;
                        var (ou, ov) = u < v ? (i, j) : (j, i);
                        var at = from.OptionLocation[ou] * edge.Width + to.OptionLocation[ov];
                        value = edge.Priced[at] ? TValue.Add(value, make(0, edge.Cost[at])) : TValue.Invalid;
                    }
            }
            for (var t = 0; t < domain.Length; t++) Fold(factors[owner[t]], t, make);
            return factors;
        }

        /// <summary>Adds task t's (rank, compute) to every cell of <paramref name="factor"/> by t's coordinate.</summary>
        private void Fold<TValue>(Factor<TValue> factor, int t, Func<long, decimal, TValue> make) where TValue : struct, IPlanValue<TValue>
        {
            var task = space.Tasks[t];
            var own = new TValue[domain[t]];
            for (var o = 0; o < own.Length; o++) own[o] = make(task.Rank[o], task.Compute[o]);
            if (factor.Scope.Length == 1)
            {
                for (var o = 0; o < own.Length; o++) factor.Table[o] = own[o];
                return;
            }
            var width = domain[factor.Scope[1]];
            var first = factor.Scope[0] == t;
            for (var i = 0; i < domain[factor.Scope[0]]; i++)
                for (var j = 0; j < width; j++)
                {
                    ref var value = ref factor.Table[i * width + j];
                    if (!value.IsInvalid) value = TValue.Add(value, own[first ? i : j]);
                }
        }

        /// <summary>
        /// Sums the factors and paths through x over x: for every assignment of the other tasks in their scopes,
        /// x's best option and its value. A path is consumed here, since all its tasks are then known.
        /// </summary>
        // Optimized on first call: a plan runs each instantiation only a few times, too few for tiered compilation
        // to promote its loops before the request is over (the first time-objective plans ran 2-3x slower).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private (Factor<TValue> Merged, int[] Best) Eliminate<TValue>(int x, List<Factor<TValue>> involved, List<TaskPath> through, long limit)
            where TValue : struct, IPlanValue<TValue>
        {
            var scope = involved.SelectMany(f => f.Scope).Concat(through.SelectMany(p => p.Tasks)).Where(t => t != x).Distinct().Order().ToArray();
            var size = 1;
            foreach (var t in scope) size *= domain[t];
            var f = involved.Count;
            // Strides of x and of each scope task within each involved factor's table (row-major over its own scope).
            var xStride = new int[f];
            var stride = new int[f, scope.Length];
            for (var i = 0; i < f; i++)
            {
                var s = 1;
                for (var k = involved[i].Scope.Length - 1; k >= 0; k--)
                {
                    var t = involved[i].Scope[k];
                    if (t == x) xStride[i] = s;
                    else stride[i, Array.IndexOf(scope, t)] = s;
                    s *= domain[t];
                }
            }
            var tables = involved.Select(v => v.Table).ToArray();
            var dx = domain[x];
            var paths = new PathCursor[through.Count];
            for (var p = 0; p < paths.Length; p++) paths[p] = new PathCursor(through[p], x, scope, domain);

            var table = new TValue[size];
            var best = new int[size];
            var digit = new int[scope.Length];
            var baseIndex = new int[f];
            // Per option of x: the factors' sum, and the longest path through it, -1 once the option is ruled out
            // (an unpriced edge, an untimed hop, a path past the limit), which later loops then skip.
            var sum = new TValue[dx];
            var span = new long[dx];
            for (var index = 0; index < size; index++)
            {
                // Loops run over x's options innermost, one factor or path at a time: tight loops the JIT handles well.
                var open = true;
                for (var p = 0; p < paths.Length && open; p++) open = paths[p].Place(digit, limit);
                if (open)
                {
                    Array.Clear(span);
                    foreach (var path in paths) path.Lengths(span, limit);
                    if (f == 0) Array.Fill(sum, TValue.Zero);
                    for (var i = 0; i < f; i++)
                    {
                        var (terms, at, step) = (tables[i], baseIndex[i], xStride[i]);
                        for (var xv = 0; xv < dx; xv++)
                        {
                            if (span[xv] < 0) continue;
                            var term = terms[at + xv * step];
                            if (term.IsInvalid) span[xv] = -1;
                            else sum[xv] = i == 0 ? term : TValue.Add(sum[xv], term);
                        }
                    }
                }
                var bestValue = TValue.Invalid;
                var bestX = 0;
                for (var xv = 0; xv < dx && open; xv++)
                {
                    if (span[xv] < 0) continue;
                    var value = paths.Length == 0 ? sum[xv] : TValue.Add(sum[xv], TValue.Span(span[xv]));
                    if (bestValue.IsInvalid || TValue.Less(value, bestValue)) (bestValue, bestX) = (value, xv);
                }
                table[index] = bestValue;
                best[index] = bestX;
                // Next assignment of the scope, last task fastest (row-major), moving every factor's base index along.
                for (var k = scope.Length - 1; k >= 0; k--)
                {
                    digit[k]++;
                    for (var i = 0; i < f; i++) baseIndex[i] += stride[i, k];
                    if (digit[k] < domain[scope[k]]) break;
                    for (var i = 0; i < f; i++) baseIndex[i] -= stride[i, k] * domain[scope[k]];
                    digit[k] = 0;
                }
            }
            return (new Factor<TValue>(scope, table), best);
        }
    }

    /// <summary>
    /// A path through the task being eliminated, with its other tasks placed: the fixed part of its length, and
    /// the one or two hops that move with the eliminated task's option.
    /// </summary>
    private sealed class PathCursor
    {
        private readonly TaskPath path;
        private readonly int[] position;     // each path task's index in the merged scope; -1 for the eliminated task
        private readonly int[] width;        // options of the task after each hop (the hop table's row width)
        private readonly int at;             // the eliminated task's index on the path
        private readonly long[]? into;       // hop from the task before it: rows by that task's option
        private readonly long[]? outOf;      // hop to the task after it: rows by the eliminated task's option
        private readonly int dx, outOfWidth;
        // Shortest hop into the eliminated task from each option of the task before it, and out of it to each
        // option of the task after (Unreachable when none is timed): with the fixed part, a bound that closes most
        // assignments under a tight limit without looking at the eliminated task's options one by one.
        private readonly long[] shortestInto = [], shortestOutOf = [];
        private long fixedMs;
        private int intoRow, outOfColumn;
        private const long Unreachable = long.MaxValue / 4;

        public PathCursor(TaskPath path, int x, int[] scope, int[] domain)
        {
            this.path = path;
            position = [.. path.Tasks.Select(t => t == x ? -1 : Array.IndexOf(scope, t))];
            width = [.. path.Tasks.Skip(1).Select(t => domain[t])];
            at = Array.IndexOf(path.Tasks, x);
            dx = domain[x];
            if (at > 0)
            {
                into = path.Hops[at - 1];
                shortestInto = new long[into.Length / dx];
                for (var r = 0; r < shortestInto.Length; r++) shortestInto[r] = Shortest(into, r * dx, 1, dx);
            }
            if (at + 1 < path.Tasks.Length)
            {
                (outOf, outOfWidth) = (path.Hops[at], width[at]);
                shortestOutOf = new long[outOfWidth];
                for (var c = 0; c < outOfWidth; c++) shortestOutOf[c] = Shortest(outOf, c, outOfWidth, dx);
            }
        }

        private static long Shortest(long[] hops, int first, int step, int count)
        {
            var shortest = Unreachable;
            for (var k = 0; k < count; k++)
            {
                var hop = hops[first + k * step];
                if (hop != TaskPath.Untimed && hop < shortest) shortest = hop;
            }
            return shortest;
        }

        /// <summary>
        /// Takes the other tasks' options from the scope's digits; false when no option of the eliminated task can
        /// keep the path timed and within the limit.
        /// </summary>
        public bool Place(int[] digit, long limit)
        {
            var ms = path.DurationMs;
            for (var k = 0; k < width.Length; k++)
            {
                if (k == at || k + 1 == at) continue;
                var hop = path.Hops[k][digit[position[k]] * width[k] + digit[position[k + 1]]];
                if (hop == TaskPath.Untimed) return false;
                ms += hop;
            }
            fixedMs = ms;
            if (into is not null)
            {
                var before = digit[position[at - 1]];
                intoRow = before * dx;
                ms += shortestInto[before];
            }
            if (outOf is not null)
            {
                outOfColumn = digit[position[at + 1]];
                ms += shortestOutOf[outOfColumn];
            }
            return ms <= limit && ms < Unreachable;
        }

        /// <summary>
        /// Folds the path's length at each option of the eliminated task into <paramref name="span"/> (the longest so
        /// far): -1 where a hop is untimed or the path passes <paramref name="limit"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Lengths(long[] span, long limit)
        {
            for (var xv = 0; xv < span.Length; xv++)
            {
                if (span[xv] < 0) continue;
                var (ms, timed) = (fixedMs, true);
                if (into is not null)
                {
                    var hop = into[intoRow + xv];
                    (ms, timed) = (ms + hop, hop != TaskPath.Untimed);
                }
                if (outOf is not null)
                {
                    var hop = outOf[xv * outOfWidth + outOfColumn];
                    (ms, timed) = (ms + hop, timed && hop != TaskPath.Untimed);
                }
                span[xv] = timed && ms <= limit ? Math.Max(span[xv], ms) : -1;
            }
        }
    }

    /// <summary>A table over the options of the tasks in <see cref="Scope"/> (ascending), row-major.</summary>
    private sealed record Factor<TValue>(int[] Scope, TValue[] Table) where TValue : struct, IPlanValue<TValue>;
}

/// <summary>What an elimination table holds: how two terms add up, and which of two totals is better.</summary>
internal interface IPlanValue<TSelf> where TSelf : struct, IPlanValue<TSelf>
{
    /// <summary>The value of an assignment no plan may use (an unpriced edge, a path past the limit).</summary>
    static abstract TSelf Invalid { get; }
    static abstract TSelf Zero { get; }
    bool IsInvalid { get; }
    static abstract TSelf Add(TSelf a, TSelf b);
    /// <summary>A path's share of the value (its length already within the limit); Add(Span(a), Span(b)) is Span(max(a, b)), so paths fold into their longest.</summary>
    static abstract TSelf Span(long ms);
    static abstract bool Less(TSelf a, TSelf b);
}

/// <summary>(Preference ranks, cost): both add up; paths only constrain.</summary>
internal readonly record struct Priced<T>(long Rank, T Cost) : IPlanValue<Priced<T>> where T : struct, INumber<T>
{
    public static Priced<T> Invalid => new(long.MaxValue, T.Zero);
    public static Priced<T> Zero => default;
    public bool IsInvalid => Rank == long.MaxValue;
    public static Priced<T> Add(Priced<T> a, Priced<T> b) => new(a.Rank + b.Rank, a.Cost + b.Cost);
    public static Priced<T> Span(long ms) => default;
    public static bool Less(Priced<T> a, Priced<T> b) => a.Rank < b.Rank || (a.Rank == b.Rank && a.Cost < b.Cost);
}

/// <summary>(Preference ranks, makespan): ranks add up, the makespan is the longest path.</summary>
internal readonly record struct Timed(long Rank, long Ms) : IPlanValue<Timed>
{
    public static Timed Invalid => new(long.MaxValue, 0);
    public static Timed Zero => default;
    public bool IsInvalid => Rank == long.MaxValue;
    public static Timed Add(Timed a, Timed b) => new(a.Rank + b.Rank, Math.Max(a.Ms, b.Ms));
    public static Timed Span(long ms) => new(0, ms);
    public static bool Less(Timed a, Timed b) => a.Rank < b.Rank || (a.Rank == b.Rank && a.Ms < b.Ms);
}
