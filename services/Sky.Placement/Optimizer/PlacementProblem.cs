using Sky.Pricing;

namespace Sky.Placement.Optimizer;

/// <summary>What a plan minimizes. Preference ranks come first under every objective (see <see cref="Candidate.PreferenceRank"/>).</summary>
public enum PlacementObjective
{
    /// <summary>Total cost: compute plus egress.</summary>
    Cost,
    /// <summary>Makespan (the critical path of run and transfer times); cost breaks ties.</summary>
    Time,
    /// <summary>Total cost, subject to makespan &lt;= <see cref="PlacementProblem.Deadline"/>.</summary>
    CostUnderDeadline,
}

/// <summary>
/// One way to run a task: an offer in a region (and zone), already priced for all its nodes. The optimizer
/// treats candidates as given; filtering by resources, providers and regions happens before.
/// </summary>
public sealed record Candidate
{
    public required string OfferId { get; init; }
    public required string Provider { get; init; }
    public required string Region { get; init; }
    public string? Zone { get; init; }
    public required string InstanceType { get; init; }
    /// <summary>Model and count per node, e.g. "L4:1"; null for none.</summary>
    public string? Accelerators { get; init; }
    public bool UseSpot { get; init; }
    public int NumNodes { get; init; } = 1;
    /// <summary>Price per hour of all <see cref="NumNodes"/> nodes together (spot or on-demand as <see cref="UseSpot"/> says).</summary>
    public required decimal HourlyCost { get; init; }
    /// <summary>
    /// Position in an ordered preference list (SkyPilot's <c>ordered:</c>), 1 = most preferred; 0 = the task
    /// states no preference. A task's candidates are all 0 or all ranked. The optimizer takes the most preferred
    /// rank that yields a feasible plan and lets cost (or time) choose only among candidates of that rank, as
    /// SkyPilot does; across tasks it minimizes the sum of the chosen ranks first.
    /// </summary>
    public int PreferenceRank { get; init; }

    public override string ToString() =>
        $"{Provider}/{Region}{(Zone is null ? "" : "/" + Zone)} {InstanceType}{(Accelerators is null ? "" : " " + Accelerators)}"
        + $"{(UseSpot ? " spot" : "")} x{NumNodes} ${HourlyCost}/h";
}

/// <summary>A task to place: its position in <see cref="PlacementProblem.Tasks"/>, how long it runs, and where it can run.</summary>
public sealed record PlacementTask(int Index, string Name, decimal DurationHours, IReadOnlyList<Candidate> Candidates);

/// <summary>Data a task sends to a later one: <see cref="To"/> starts after <see cref="From"/> ends and this data has arrived.</summary>
public sealed record TaskEdge(int From, int To, decimal Gb);

/// <summary>
/// A placement problem in plain terms (no YAML, no gRPC): tasks with candidates, the data between them, the
/// objective and hard limits, and the pricing to use. Egress of each edge is priced on its own from 0 GB used.
/// </summary>
public sealed record PlacementProblem
{
    public required IReadOnlyList<PlacementTask> Tasks { get; init; }
    public IReadOnlyList<TaskEdge> Edges { get; init; } = [];
    public PlacementObjective Objective { get; init; } = PlacementObjective.Cost;
    /// <summary>Latest makespan allowed. Required by <see cref="PlacementObjective.CostUnderDeadline"/>; a hard limit under any objective.</summary>
    public TimeSpan? Deadline { get; init; }
    /// <summary>Most the plan may cost per hour: the sum of every chosen candidate's hourly cost (what the job costs per hour when its tasks overlap).</summary>
    public decimal? MaxHourlyCost { get; init; }
    /// <summary>Most the whole job may cost: compute plus egress.</summary>
    public decimal? MaxJobCost { get; init; }
    /// <summary>Egress prices and peering agreements.</summary>
    public required EgressPricer Egress { get; init; }
    /// <summary>Transfer-time estimates between regions.</summary>
    public required ThroughputGrid Throughput { get; init; }

    /// <summary>True when makespan constrains or ranks plans.</summary>
    internal bool NeedsTime => Objective != PlacementObjective.Cost || Deadline is not null;

    /// <summary>
    /// Checks the problem; returns the tasks in a topological order and each task's lowest hourly cost
    /// (decimal.MaxValue when it has no candidates), gathered in the same pass over the candidates.
    /// </summary>
    /// <exception cref="ArgumentException">A field is missing or out of range, or the edges form a cycle.</exception>
    internal (int[] Order, decimal[] MinHourly) Validate()
    {
        if (Tasks is null || Tasks.Count == 0) throw new ArgumentException("placement: at least one task is required", nameof(Tasks));
        ArgumentNullException.ThrowIfNull(Egress);
        ArgumentNullException.ThrowIfNull(Throughput);
        ArgumentNullException.ThrowIfNull(Edges);
        var minHourly = new decimal[Tasks.Count];
        for (var t = 0; t < Tasks.Count; t++) minHourly[t] = ValidateTask(Tasks[t], t);
        foreach (var edge in Edges)
        {
            if (edge is null) throw new ArgumentException("placement: an edge is null", nameof(Edges));
            if (edge.From < 0 || edge.From >= Tasks.Count || edge.To < 0 || edge.To >= Tasks.Count)
                throw new ArgumentException($"placement: edge {edge.From} -> {edge.To} names a task outside 0..{Tasks.Count - 1}", nameof(Edges));
            if (edge.From == edge.To) throw new ArgumentException($"placement: task '{Tasks[edge.From].Name}' depends on itself", nameof(Edges));
            if (edge.Gb < 0) throw new ArgumentException($"placement: edge '{Tasks[edge.From].Name}' -> '{Tasks[edge.To].Name}' has {edge.Gb} GB", nameof(Edges));
        }
        if (Objective == PlacementObjective.CostUnderDeadline && Deadline is null)
            throw new ArgumentException("placement: the cost-under-deadline objective needs a deadline", nameof(Deadline));
        if (Deadline is { } deadline && deadline <= TimeSpan.Zero)
            throw new ArgumentException($"placement: deadline {deadline} must be positive", nameof(Deadline));
        if (MaxHourlyCost < 0) throw new ArgumentException($"placement: budget per hour {MaxHourlyCost} is negative", nameof(MaxHourlyCost));
        if (MaxJobCost < 0) throw new ArgumentException($"placement: budget per job {MaxJobCost} is negative", nameof(MaxJobCost));
        return (TopologicalOrder(), minHourly);
    }

    private static decimal ValidateTask(PlacementTask task, int position)
    {
        if (task is null) throw new ArgumentException($"placement: task {position} is null", nameof(Tasks));
        if (task.Index != position) throw new ArgumentException($"placement: task '{task.Name}' has index {task.Index} at position {position}", nameof(Tasks));
        if (string.IsNullOrEmpty(task.Name)) throw new ArgumentException($"placement: task {position} has no name", nameof(Tasks));
        if (task.DurationHours < 0) throw new ArgumentException($"placement: task '{task.Name}' runs {task.DurationHours} hours", nameof(Tasks));
        if (task.Candidates is null) throw new ArgumentException($"placement: task '{task.Name}' has no candidate list", nameof(Tasks));
        var ranked = -1;
        var cheapest = decimal.MaxValue;
        for (var i = 0; i < task.Candidates.Count; i++)
        {
            var c = task.Candidates[i];
            // One pass, no text built on the good path: a catalog task can have 90,000 candidates. Offer id and
            // instance type are only shown, so only the location's names (which price egress) must be non-empty.
            if (c is null) throw Bad(task, i, null, "is missing");
            if (c.Provider.Length == 0 || c.Region.Length == 0) throw Bad(task, i, c, "provider and region are required");
            if (c.HourlyCost < 0) throw Bad(task, i, c, $"hourly cost {c.HourlyCost} is negative");
            if (c.NumNodes < 1) throw Bad(task, i, c, $"{c.NumNodes} nodes");
            if (c.PreferenceRank < 0) throw Bad(task, i, c, $"preference rank {c.PreferenceRank} is negative");
            var isRanked = c.PreferenceRank > 0 ? 1 : 0;
            if (ranked >= 0 && ranked != isRanked) throw Bad(task, i, c, "candidates of one task are all ranked (1, 2, ...) or all unranked (0)");
            ranked = isRanked;
            if (c.HourlyCost < cheapest) cheapest = c.HourlyCost;
        }
        return cheapest;
    }

    private static ArgumentException Bad(PlacementTask task, int index, Candidate? candidate, string problem) =>
        new($"placement: task '{task.Name}' candidate {index}{(candidate is null ? "" : $" ({candidate.OfferId})")}: {problem}", nameof(Tasks));

    private int[] TopologicalOrder()
    {
        var indegree = new int[Tasks.Count];
        var successors = new List<int>[Tasks.Count];
        for (var t = 0; t < Tasks.Count; t++) successors[t] = [];
        foreach (var edge in Edges)
        {
            successors[edge.From].Add(edge.To);
            indegree[edge.To]++;
        }
        var order = new int[Tasks.Count];
        var count = 0;
        for (var t = 0; t < Tasks.Count; t++)
            if (indegree[t] == 0) order[count++] = t;
        for (var head = 0; head < count; head++)
            foreach (var next in successors[order[head]])
                if (--indegree[next] == 0) order[count++] = next;
        if (count < Tasks.Count)
        {
            var stuck = Enumerable.Range(0, Tasks.Count).First(t => indegree[t] > 0);
            throw new ArgumentException($"placement: the dependencies form a cycle through task '{Tasks[stuck].Name}'", nameof(Edges));
        }
        return order;
    }
}
