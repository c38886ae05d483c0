namespace Sky.Placement.Optimizer;

/// <summary>
/// Turns chosen candidates into a <see cref="PlacementPlan"/>: exact decimal costs, egress per edge, start and
/// finish times on the critical path, and for each task the best alternatives with every other task fixed.
/// </summary>
internal sealed class PlanBuilder(SearchSpace space, int[] candidateOf, int alternatives)
{
    private readonly PlacementProblem problem = space.Problem;
    private readonly bool multi = space.Tasks.Length > 0;

    public PlacementPlan Build(SolveMethod method, bool optimal, double gap, Func<TimeSpan> elapsed)
    {
        var n = problem.Tasks.Count;
        var compute = new decimal[n];
        decimal hourly = 0, computeTotal = 0, egressTotal = 0;
        var locationOf = new int[n];
        for (var t = 0; t < n; t++)
        {
            var chosen = problem.Tasks[t].Candidates[candidateOf[t]];
            compute[t] = chosen.HourlyCost * problem.Tasks[t].DurationHours;
            hourly += chosen.HourlyCost;
            computeTotal += compute[t];
            if (multi) locationOf[t] = space.Tasks[t].CandidateLocation[candidateOf[t]];
        }

        var edges = new EdgeTransfer[problem.Edges.Count];
        for (var e = 0; e < edges.Length; e++)
        {
            var edge = space.Edges[e];
            var (a, b) = (locationOf[edge.Edge.From], locationOf[edge.Edge.To]);
            var cost = edge.Cost[a * edge.Width + b];
            egressTotal += cost;
            var (src, dst) = (space.Locations[space.Tasks[edge.Edge.From].Locations[a]], space.Locations[space.Tasks[edge.Edge.To].Locations[b]]);
            var match = problem.Egress.Grid.Lookup(src.Provider, src.Region, dst.Provider, dst.Region).Match;
            edges[e] = new EdgeTransfer(edge.Edge, cost, match, Milliseconds(space.EdgeMs(edge, a, b)));
        }

        var finish = new long[n];
        long? makespan = multi ? space.Makespan(locationOf, finish) : finish[0] = space.DurationMs[0];
        var total = computeTotal + egressTotal;
        var rankSum = 0L;
        for (var t = 0; t < n; t++) rankSum += problem.Tasks[t].Candidates[candidateOf[t]].PreferenceRank;
        var current = new Evaluation(rankSum, hourly, total, makespan);

        var tasks = new TaskPlacement[n];
        for (var t = 0; t < n; t++)
        {
            var task = problem.Tasks[t];
            tasks[t] = new TaskPlacement(task, task.Candidates[candidateOf[t]], compute[t],
                makespan is null ? null : Milliseconds(finish[t] - space.DurationMs[t]),
                makespan is null ? null : Milliseconds(finish[t]),
                alternatives > 0 ? Alternatives(t, current, compute[t], locationOf) : []);
        }

        return new PlacementPlan
        {
            Tasks = tasks,
            Edges = edges,
            HourlyCost = hourly,
            ComputeCost = computeTotal,
            EgressCost = egressTotal,
            TotalCost = total,
            Makespan = Milliseconds(makespan),
            Objective = problem.Objective,
            Optimal = optimal,
            Gap = gap,
            Method = method,
            SolveTime = elapsed(),
        };
    }

    private static TimeSpan? Milliseconds(long? ms) => ms is { } value ? TimeSpan.FromMilliseconds(value) : null;

    /// <summary>
    /// Moves task <paramref name="t"/> to each of its other candidates with the rest of the plan fixed, keeps the
    /// moves that meet every hard limit, and returns the best few by the plan's objective. Egress and makespan
    /// change only with the task's region, so they are computed once per region, not per candidate; a candidate
    /// that differs from the chosen one (or a better listed one) only by zone is not listed.
    /// </summary>
    private List<PlacementAlternative> Alternatives(int t, Evaluation current, decimal chosenCompute, int[] locationOf)
    {
        var task = problem.Tasks[t];
        var candidates = task.Candidates;
        var chosen = candidates[candidateOf[t]];
        var incident = multi && space.In[t].Count + space.Out[t].Count > 0;
        var locations = incident ? space.Tasks[t].Locations.Length : 1;
        var egressDelta = new decimal[locations];
        var open = new bool[locations];
        var makespan = new long?[locations];
        var scratch = new long[problem.Tasks.Count];
        for (var l = 0; l < locations; l++)
        {
            if (!incident)
            {
                (open[l], makespan[l]) = (true, current.MakespanMs);
                continue;
            }
            open[l] = EgressDelta(t, l, locationOf, out egressDelta[l]);
            if (!open[l]) continue;
            makespan[l] = space.Makespan(locationOf, scratch, t, l);
            if (space.NeedsTime && makespan[l] is null) open[l] = false;
        }

        var top = new List<(Score Score, int Index)>(alternatives + 1);
        // Headroom each limit leaves for this task once the rest of the plan is fixed.
        var hourRoom = problem.MaxHourlyCost - (current.Hourly - chosen.HourlyCost);
        var rest = current.Cost - chosenCompute;
        var jobRoom = problem.MaxJobCost - rest;
        var deadlineMs = problem.Deadline is { } deadline ? deadline.Ticks / TimeSpan.TicksPerMillisecond : long.MaxValue;
        var time = problem.Objective == PlacementObjective.Time;
        var otherRanks = current.Rank - chosen.PreferenceRank;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (i == candidateOf[t]) continue;
            var c = candidates[i];
            var rank = otherRanks + c.PreferenceRank;
            // Without edges the move changes only compute, so (rank, hourly price) orders moves as the score
            // does: most of a large catalog is turned away here without any arithmetic.
            if (!incident && top.Count == alternatives)
            {
                var (worst, worstHourly) = (top[^1].Score.Rank, candidates[top[^1].Index].HourlyCost);
                if (rank > worst || (rank == worst && c.HourlyCost >= worstHourly)) continue;
            }
            var l = incident ? space.Tasks[t].CandidateLocation[i] : 0;
            if (!open[l] || c.HourlyCost > hourRoom || (makespan[l] ?? 0) > deadlineMs) continue;
            var part = c.HourlyCost * task.DurationHours + egressDelta[l];
            if (part > jobRoom) continue;
            var score = new Score(rank, time ? makespan[l] ?? long.MaxValue : 0, rest + part);
            if (top.Count == alternatives && score.CompareTo(top[^1].Score) >= 0) continue;
            if (SameOffering(c, chosen) || !ReplaceSameOffering(top, candidates, c, score)) continue;
            var at = top.Count;
            while (at > 0 && score < top[at - 1].Score) at--;
            top.Insert(at, (score, i));
            if (top.Count > alternatives) top.RemoveAt(top.Count - 1);
        }

        var result = new List<PlacementAlternative>(top.Count);
        foreach (var (score, i) in top)
        {
            var c = candidates[i];
            var l = incident ? space.Tasks[t].CandidateLocation[i] : 0;
            result.Add(new PlacementAlternative(c, c.HourlyCost * task.DurationHours, score.Cost - current.Cost, score.Cost, Milliseconds(makespan[l])));
        }
        return result;
    }

    /// <summary>Egress change when task t moves to local location l; false when an edge would be unpriced.</summary>
    private bool EgressDelta(int t, int l, int[] locationOf, out decimal delta)
    {
        delta = 0;
        foreach (var e in space.In[t])
        {
            var edge = space.Edges[e];
            var row = locationOf[edge.Edge.From] * edge.Width;
            if (!edge.Priced[row + l]) return false;
            delta += edge.Cost[row + l] - edge.Cost[row + locationOf[t]];
        }
        foreach (var e in space.Out[t])
        {
            var edge = space.Edges[e];
            var to = locationOf[edge.Edge.To];
            if (!edge.Priced[l * edge.Width + to]) return false;
            delta += edge.Cost[l * edge.Width + to] - edge.Cost[locationOf[t] * edge.Width + to];
        }
        return true;
    }

    /// <summary>
    /// Keeps one entry per offering (the same offer in another zone): false when a listed one is at least as
    /// good, else drops the listed worse one so the caller inserts this one.
    /// </summary>
    private static bool ReplaceSameOffering(List<(Score Score, int Index)> top, IReadOnlyList<Candidate> candidates, Candidate c, Score score)
    {
        for (var j = 0; j < top.Count; j++)
        {
            if (!SameOffering(candidates[top[j].Index], c)) continue;
            if (top[j].Score.CompareTo(score) <= 0) return false;
            top.RemoveAt(j);
            return true;
        }
        return true;
    }

    private static bool SameOffering(Candidate a, Candidate b) =>
        a.UseSpot == b.UseSpot && a.NumNodes == b.NumNodes
        && string.Equals(a.InstanceType, b.InstanceType, StringComparison.Ordinal)
        && string.Equals(a.Accelerators, b.Accelerators, StringComparison.Ordinal)
        && string.Equals(a.Provider, b.Provider, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.Region, b.Region, StringComparison.OrdinalIgnoreCase);
}
