using System.Numerics;

namespace Sky.Placement.Optimizer;

/// <summary>
/// Exact minimisation of (preference ranks, cost) by bucket elimination: dynamic programming over a tree
/// decomposition of the tasks' interaction graph, the chain program generalized to any DAG. Cost is a sum of
/// one term per task (compute) and one per pair of tasks joined by edges (egress), so a task can be summed out
/// by tabulating, for every choice of its neighbours, its best option; the table becomes a new term over those
/// neighbours. Eliminating the task whose table is smallest first, a diamond or a 1-4-1 fan-out never needs a
/// table over more than two tasks (regions^3 steps per task), far faster than any search. A DAG whose tables
/// would pass <see cref="DefaultBudget"/> steps is left to CP-SAT. Makespan is a maximum over paths, not a
/// sum, so the time objective is not handled here; limits are checked by the caller on the result.
/// Arithmetic is exact: integers in units of 10^-scale dollars when every amount has at most 12 decimal places
/// (the usual case, and several times faster), decimal otherwise.
/// </summary>
internal static class EliminationSolver
{
    /// <summary>Most table steps to spend (well under a second); beyond it CP-SAT is the better tool.</summary>
    public const long DefaultBudget = 30_000_000;

    private const int MaxScale = 12;

    /// <summary>Outcome: not applicable (too wide), infeasible (no assignment prices every edge), or the best option per task.</summary>
    public readonly record struct Outcome(bool Applicable, int[]? Options);

    public static Outcome Solve(SearchSpace space, long budget = DefaultBudget)
    {
        var n = space.Tasks.Length;
        var domain = new int[n];
        for (var t = 0; t < n; t++) domain[t] = space.Tasks[t].Option.Length;
        var scopes = Scopes(space);
        var order = Order(scopes, domain, budget);
        if (order is null) return new Outcome(false, null);
        return FixedPointScale(space) is { } scale
            ? new Outcome(true, Run(space, domain, scopes, order, v => (long)(v * scale)))
            : new Outcome(true, Run(space, domain, scopes, order, v => v));
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

    private static int[]? Run<T>(SearchSpace space, int[] domain, List<int[]> scopes, int[] order, Func<decimal, T> convert)
        where T : struct, INumber<T>
    {
        var factors = InitialFactors(space, domain, scopes, convert);
        var steps = new List<(int Task, int[] Scope, int[] Best)>(order.Length);
        foreach (var x in order)
        {
            var involved = factors.Where(f => Array.IndexOf(f.Scope, x) >= 0).ToList();
            factors.RemoveAll(f => Array.IndexOf(f.Scope, x) >= 0);
            var (merged, best) = Eliminate(x, involved, domain);
            factors.Add(merged);
            steps.Add((x, merged.Scope, best));
        }
        // Only constants remain, one per connected component.
        foreach (var f in factors)
            if (f.Table[0].Rank == long.MaxValue) return null;
        var option = new int[order.Length];
        for (var s = steps.Count - 1; s >= 0; s--)
        {
            var (x, scope, best) = steps[s];
            var index = 0;
            foreach (var t in scope) index = index * domain[t] + option[t];
            option[x] = best[index];
        }
        return option;
    }

    /// <summary>
    /// A table per scope: egress summed over the pair's edges, plus each task's own (rank, compute) folded into
    /// the first table that has it, so the inner loop adds as few tables as possible.
    /// </summary>
    private static List<Factor<T>> InitialFactors<T>(SearchSpace space, int[] domain, List<int[]> scopes, Func<decimal, T> convert)
        where T : struct, INumber<T>
    {
        var factors = new List<Factor<T>>(scopes.Count);
        var byPair = new Dictionary<(int, int), Factor<T>>();
        var owner = new int[domain.Length];
        Array.Fill(owner, -1);
        foreach (var scope in scopes)
        {
            var size = 1;
            foreach (var t in scope) size *= domain[t];
            var factor = new Factor<T>(scope, new Value<T>[size]);
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
                    if (value.Rank == long.MaxValue) continue;
                    var (ou, ov) = u < v ? (i, j) : (j, i);
                    var at = from.OptionLocation[ou] * edge.Width + to.OptionLocation[ov];
                    value = edge.Priced[at] ? new Value<T>(value.Rank, value.Cost + convert(edge.Cost[at])) : Value<T>.Invalid;
                }
        }
        for (var t = 0; t < domain.Length; t++) Fold(factors[owner[t]], t, domain, space.Tasks[t], convert);
        return factors;
    }

    /// <summary>Adds task t's (rank, compute) to every cell of <paramref name="factor"/> by t's coordinate.</summary>
    private static void Fold<T>(Factor<T> factor, int t, int[] domain, TaskSpace task, Func<decimal, T> convert)
        where T : struct, INumber<T>
    {
        var own = new Value<T>[domain[t]];
        for (var o = 0; o < own.Length; o++) own[o] = new Value<T>(task.Rank[o], convert(task.Compute[o]));
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
                if (value.Rank == long.MaxValue) continue;
                var add = own[first ? i : j];
                value = new Value<T>(value.Rank + add.Rank, value.Cost + add.Cost);
            }
    }

    /// <summary>Sums the factors over x: for every assignment of the other tasks in their scopes, x's best option and its value.</summary>
    private static (Factor<T> Merged, int[] Best) Eliminate<T>(int x, List<Factor<T>> involved, int[] domain)
        where T : struct, INumber<T>
    {
        var scope = involved.SelectMany(f => f.Scope).Where(t => t != x).Distinct().Order().ToArray();
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

        var table = new Value<T>[size];
        var best = new int[size];
        var digit = new int[scope.Length];
        var baseIndex = new int[f];
        var dx = domain[x];
        for (var index = 0; index < size; index++)
        {
            var bestRank = long.MaxValue;
            var bestCost = T.Zero;
            var bestX = 0;
            for (var xv = 0; xv < dx; xv++)
            {
                long rank = 0;
                var cost = T.Zero;
                for (var i = 0; i < f; i++)
                {
                    var value = tables[i][baseIndex[i] + xv * xStride[i]];
                    if (value.Rank == long.MaxValue)
                    {
                        rank = long.MaxValue;
                        break;
                    }
                    rank += value.Rank;
                    cost += value.Cost;
                }
                if (rank < bestRank || (rank == bestRank && rank != long.MaxValue && cost < bestCost)) (bestRank, bestCost, bestX) = (rank, cost, xv);
            }
            table[index] = bestRank == long.MaxValue ? Value<T>.Invalid : new Value<T>(bestRank, bestCost);
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
        return (new Factor<T>(scope, table), best);
    }

    /// <summary>Rank sum and exact cost; rank long.MaxValue marks an assignment with an unpriced edge.</summary>
    private readonly record struct Value<T>(long Rank, T Cost) where T : struct, INumber<T>
    {
        public static readonly Value<T> Invalid = new(long.MaxValue, T.Zero);
    }

    /// <summary>A table over the options of the tasks in <see cref="Scope"/> (ascending), row-major.</summary>
    private sealed record Factor<T>(int[] Scope, Value<T>[] Table) where T : struct, INumber<T>;
}
