namespace Sky.Placement.Optimizer;

/// <summary>
/// One task: every candidate is a whole plan (no edges), so the exact best is one pass over the candidates with
/// the budgets checked exactly. No reduction, no allocation: this is the path a 90,000-row catalog takes.
/// </summary>
internal static class SingleTaskScan
{
    /// <summary>The best candidate's index, or -1 when every candidate breaks a budget.</summary>
    public static int Solve(PlacementProblem problem)
    {
        var task = problem.Tasks[0];
        var candidates = task.Candidates;
        var hours = task.DurationHours;
        var perHour = problem.MaxHourlyCost ?? decimal.MaxValue;
        var perJob = problem.MaxJobCost;
        var best = -1;
        var bestRank = 0;
        var bestHourly = 0m;
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            // Cost is hourly x the task's hours, so comparing hourly prices orders candidates as cost does.
            if (best >= 0 && (c.PreferenceRank > bestRank || (c.PreferenceRank == bestRank && c.HourlyCost >= bestHourly))) continue;
            if (c.HourlyCost > perHour || (perJob is { } job && c.HourlyCost * hours > job)) continue;
            (best, bestRank, bestHourly) = (i, c.PreferenceRank, c.HourlyCost);
        }
        return best;
    }
}
