namespace Sky.Placement.Optimizer;

/// <summary>
/// Quick plans to start CP-SAT from, and the plan of last resort when CP-SAT finds none in time. Two cheap
/// guesses, the better one kept: every task in one shared region (no egress at all, usually), and a greedy
/// pass in topological order taking each task's cheapest option given where its inputs already are. Also the
/// fastest colocated plan's makespan, a bound the time elimination starts from.
/// </summary>
internal static class Seeds
{
    public static int[] Best(SearchSpace space)
    {
        var greedy = Greedy(space);
        var together = Colocated(space);
        if (together is null) return greedy;
        var (a, b) = (space.Evaluate(greedy), space.Evaluate(together));
        if (a is null) return together;
        if (b is null) return greedy;
        var (aMeets, bMeets) = (space.Meets(a.Value), space.Meets(b.Value));
        if (aMeets != bMeets) return aMeets ? greedy : together;
        return space.ScoreOf(b.Value) < space.ScoreOf(a.Value) ? together : greedy;
    }

    private static int[] Greedy(SearchSpace space)
    {
        var option = new int[space.Tasks.Length];
        foreach (var t in space.Order)
        {
            var task = space.Tasks[t];
            var best = 0;
            var bestScore = default(Score);
            var found = false;
            for (var o = 0; o < task.Option.Length; o++)
            {
                var cost = task.Compute[o];
                var ok = true;
                foreach (var e in space.In[t])
                {
                    var edge = space.Edges[e];
                    var from = edge.Edge.From;
                    var cell = space.Tasks[from].OptionLocation[option[from]] * edge.Width + task.OptionLocation[o];
                    if (!edge.Priced[cell] || (edge.Ms is not null && edge.Ms[cell] < 0))
                    {
                        ok = false;
                        break;
                    }
                    cost += edge.Cost[cell];
                }
                if (!ok) continue;
                var score = new Score(task.Rank[o], 0, cost);
                if (!found || score < bestScore) (best, bestScore, found) = (o, score, true);
            }
            option[t] = best;
        }
        return option;
    }

    /// <summary>
    /// The shortest makespan of a plan with every task in one region (a bound on the least makespan, since the
    /// plan is valid), or null when no region is open to all tasks with every edge priced and timed.
    /// </summary>
    public static long? FastestColocatedMakespan(SearchSpace space)
    {
        var n = space.Tasks.Length;
        // For each global location, an option of each task there (-1 where the task cannot run).
        var at = new int[space.Locations.Count * n];
        Array.Fill(at, -1);
        for (var t = 0; t < n; t++)
        {
            var task = space.Tasks[t];
            for (var o = 0; o < task.Option.Length; o++) at[task.Locations[task.OptionLocation[o]] * n + t] = o;
        }
        long? best = null;
        var option = new int[n];
        for (var l = 0; l < space.Locations.Count; l++)
        {
            var everywhere = true;
            for (var t = 0; t < n && everywhere; t++) everywhere = (option[t] = at[l * n + t]) >= 0;
            if (everywhere && space.Evaluate(option)?.MakespanMs is { } ms && (best is null || ms < best)) best = ms;
        }
        return best;
    }

    /// <summary>The cheapest plan with every task in one region, or null when no region is open to all tasks.</summary>
    private static int[]? Colocated(SearchSpace space)
    {
        var n = space.Tasks.Length;
        // For each global location, the best option of each task there (-1 where the task cannot run).
        var bestAt = new int[space.Locations.Count * n];
        Array.Fill(bestAt, -1);
        for (var t = 0; t < n; t++)
        {
            var task = space.Tasks[t];
            for (var o = 0; o < task.Option.Length; o++)
            {
                var cell = task.Locations[task.OptionLocation[o]] * n + t;
                var current = bestAt[cell];
                if (current < 0 || task.Rank[o] < task.Rank[current] || (task.Rank[o] == task.Rank[current] && task.Compute[o] < task.Compute[current]))
                    bestAt[cell] = o;
            }
        }
        int[]? best = null;
        Score bestScore = default;
        for (var l = 0; l < space.Locations.Count; l++)
        {
            var option = new int[n];
            var everywhere = true;
            for (var t = 0; t < n && everywhere; t++) everywhere = (option[t] = bestAt[l * n + t]) >= 0;
            if (!everywhere || space.Evaluate(option) is not { } evaluation || !space.Meets(evaluation)) continue;
            var score = space.ScoreOf(evaluation);
            if (best is null || score < bestScore) (best, bestScore) = (option, score);
        }
        return best;
    }
}
