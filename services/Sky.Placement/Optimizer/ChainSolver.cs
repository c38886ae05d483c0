namespace Sky.Placement.Optimizer;

/// <summary>
/// Exact dynamic programming over regions for chains: tasks where each depends only on the one before it
/// (parallel edges between the two allowed). The best plan ending with task k at option o extends the best plan
/// ending with task k-1 at some option by one link, so each link costs |options(k-1)| x |options(k)| steps.
/// Under the cost objective, several independent chains are one sequence with free links between them;
/// makespan is a maximum over chains, not a sum, so under the time objective only a single chain qualifies.
/// Budgets and the deadline are checked on the result; the caller falls back to CP-SAT when it breaks one.
/// </summary>
internal static class ChainSolver
{
    /// <summary>The tasks in chain order, or null when the graph is not a chain this solver handles.</summary>
    public static int[]? Sequence(SearchSpace space)
    {
        var n = space.Tasks.Length;
        var predecessor = new int[n];
        var successor = new int[n];
        Array.Fill(predecessor, -1);
        Array.Fill(successor, -1);
        foreach (var edge in space.Problem.Edges)
        {
            if (predecessor[edge.To] >= 0 && predecessor[edge.To] != edge.From) return null;
            if (successor[edge.From] >= 0 && successor[edge.From] != edge.To) return null;
            predecessor[edge.To] = edge.From;
            successor[edge.From] = edge.To;
        }
        var sequence = new List<int>(n);
        var chains = 0;
        for (var t = 0; t < n; t++)
        {
            if (predecessor[t] >= 0) continue;
            chains++;
            for (var x = t; x >= 0; x = successor[x]) sequence.Add(x);
        }
        if (chains > 1 && space.NeedsTime) return null;
        return [.. sequence];
    }

    /// <summary>The best option per task, or null when no assignment prices every edge.</summary>
    public static int[]? Solve(SearchSpace space, int[] sequence)
    {
        var timeRanks = space.Problem.Objective == PlacementObjective.Time;
        var tasks = space.Tasks;
        var back = new int[sequence.Length][];
        var first = tasks[sequence[0]];
        var score = new Score[first.Option.Length];
        var valid = new bool[score.Length];
        for (var o = 0; o < score.Length; o++) (score[o], valid[o]) = (new Score(first.Rank[o], 0, first.Compute[o]), true);

        for (var k = 1; k < sequence.Length; k++)
        {
            var (p, t) = (sequence[k - 1], sequence[k]);
            var (prev, cur) = (tasks[p], tasks[t]);
            var links = space.In[t];
            var next = new Score[cur.Option.Length];
            var nextValid = new bool[next.Length];
            back[k] = new int[next.Length];

            if (links.Count == 0)
            {
                // Independent chains: any end of the previous one will do, so take its best once.
                var best = -1;
                for (var o = 0; o < score.Length; o++)
                    if (valid[o] && (best < 0 || score[o] < score[best])) best = o;
                if (best < 0) return null;
                for (var o = 0; o < next.Length; o++)
                {
                    next[o] = Add(score[best], cur.Rank[o], 0, cur.Compute[o]);
                    (nextValid[o], back[k][o]) = (true, best);
                }
            }
            else
            {
                var link = Link(space, links, prev, cur, timeRanks);
                for (var o2 = 0; o2 < next.Length; o2++)
                {
                    var b = cur.OptionLocation[o2];
                    var bestFrom = -1;
                    var bestScore = default(Score);
                    for (var o1 = 0; o1 < score.Length; o1++)
                    {
                        if (!valid[o1]) continue;
                        var cell = prev.OptionLocation[o1] * cur.Locations.Length + b;
                        if (!link.Valid[cell]) continue;
                        var candidate = Add(score[o1], 0, link.Ms[cell], link.Cost[cell]);
                        if (bestFrom < 0 || candidate < bestScore) (bestFrom, bestScore) = (o1, candidate);
                    }
                    if (bestFrom < 0) continue;
                    next[o2] = Add(bestScore, cur.Rank[o2], 0, cur.Compute[o2]);
                    (nextValid[o2], back[k][o2]) = (true, bestFrom);
                }
            }
            (score, valid) = (next, nextValid);
        }

        var end = -1;
        for (var o = 0; o < score.Length; o++)
            if (valid[o] && (end < 0 || score[o] < score[end])) end = o;
        if (end < 0) return null;
        var option = new int[sequence.Length];
        for (var k = sequence.Length - 1; k >= 0; k--)
        {
            option[sequence[k]] = end;
            if (k > 0) end = back[k][end];
        }
        return option;
    }

    private static Score Add(Score score, long rank, long ms, decimal cost) => new(score.Rank + rank, score.Ms + ms, score.Cost + cost);

    /// <summary>The link between consecutive tasks per location pair: egress summed over parallel edges, transfer time their maximum (they run together).</summary>
    private static (decimal[] Cost, long[] Ms, bool[] Valid) Link(SearchSpace space, List<int> edges, TaskSpace prev, TaskSpace cur, bool timeRanks)
    {
        var size = prev.Locations.Length * cur.Locations.Length;
        var cost = new decimal[size];
        var ms = new long[size];
        var valid = new bool[size];
        Array.Fill(valid, true);
        foreach (var e in edges)
        {
            var edge = space.Edges[e];
            for (var cell = 0; cell < size; cell++)
            {
                if (!valid[cell]) continue;
                if (!edge.Priced[cell])
                {
                    valid[cell] = false;
                    continue;
                }
                cost[cell] += edge.Cost[cell];
                if (!space.NeedsTime) continue;
                var transfer = edge.Ms![cell];
                if (transfer < 0) valid[cell] = false;
                else if (timeRanks) ms[cell] = Math.Max(ms[cell], transfer);
            }
        }
        return (cost, ms, valid);
    }
}
