namespace Sky.Placement.Optimizer;

/// <summary>
/// One source-to-sink path of the task graph, as a factor <see cref="EliminationSolver"/> can use for time. The
/// makespan is the longest such path's run times plus transfer times, so "makespan &lt;= T" holds exactly when every
/// path fits in T. A task's run time does not depend on its candidate, so a path's length depends only on the
/// regions of its own tasks: a factor over those tasks alone. Small DAGs have few, short paths (a diamond has two
/// of three tasks, a 1->4->1 fan-out four).
/// </summary>
internal sealed class TaskPath
{
    /// <summary>Marks a hop with no transfer-time estimate: no plan may use it.</summary>
    public const long Untimed = -1;

    private TaskPath(int[] tasks, long durationMs, long[][] hops) => (Tasks, DurationMs, Hops) = (tasks, durationMs, hops);

    /// <summary>The tasks in path order.</summary>
    public int[] Tasks { get; }
    /// <summary>Sum of the tasks' run times.</summary>
    public long DurationMs { get; }
    /// <summary>
    /// Hops[k][option of Tasks[k] x options of Tasks[k + 1] + option of Tasks[k + 1]]: transfer ms between the two tasks
    /// (the longest of their parallel edges, which run together), <see cref="Untimed"/> when unknown.
    /// </summary>
    public long[][] Hops { get; }

    /// <summary>Every maximal path, or null when there are more than <paramref name="limit"/>.</summary>
    public static TaskPath[]? All(SearchSpace space, int limit)
    {
        var n = space.Tasks.Length;
        var successors = new int[n][];
        for (var t = 0; t < n; t++) successors[t] = [.. space.Out[t].Select(e => space.Edges[e].Edge.To).Distinct()];
        var hops = new Dictionary<(int, int), long[]>();
        var paths = new List<TaskPath>();
        var stack = new List<int>();
        for (var t = 0; t < n; t++)
            if (space.In[t].Count == 0 && !Walk(t))
                return null;
        return [.. paths];

        // Depth first from t with the path so far on the stack; false once past the limit.
        bool Walk(int t)
        {
            stack.Add(t);
            if (successors[t].Length == 0)
            {
                if (paths.Count == limit) return false;
                paths.Add(Make(space, [.. stack], hops));
            }
            foreach (var next in successors[t])
                if (!Walk(next)) return false;
            stack.RemoveAt(stack.Count - 1);
            return true;
        }
    }

    private static TaskPath Make(SearchSpace space, int[] tasks, Dictionary<(int, int), long[]> hops)
    {
        long duration = 0;
        foreach (var t in tasks) duration += space.DurationMs[t];
        var tables = new long[tasks.Length - 1][];
        for (var k = 0; k + 1 < tasks.Length; k++)
        {
            var key = (tasks[k], tasks[k + 1]);
            if (!hops.TryGetValue(key, out var table)) hops.Add(key, table = Hop(space, key.Item1, key.Item2));
            tables[k] = table;
        }
        return new TaskPath(tasks, duration, tables);
    }

    /// <summary>Transfer ms from each option of task u to each option of task v over all their edges.</summary>
    private static long[] Hop(SearchSpace space, int u, int v)
    {
        var (from, to) = (space.Tasks[u], space.Tasks[v]);
        var width = to.Option.Length;
        var table = new long[from.Option.Length * width];
        foreach (var e in space.Out[u])
        {
            var edge = space.Edges[e];
            if (edge.Edge.To != v) continue;
            for (var a = 0; a < from.Option.Length; a++)
            {
                for (var b = 0; b < width; b++)
                {
                    ref var cell = ref table[a * width + b];
                    if (cell == Untimed) continue;
                    var ms = space.EdgeMs(edge, from.OptionLocation[a], to.OptionLocation[b]) ?? Untimed;
                    cell = ms == Untimed ? Untimed : Math.Max(cell, ms);
                }
            }
        }
        return table;
    }
}
