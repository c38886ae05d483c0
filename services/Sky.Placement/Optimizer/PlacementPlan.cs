using Sky.Pricing;

namespace Sky.Placement.Optimizer;

/// <summary>Which exact method produced a plan.</summary>
public enum SolveMethod
{
    /// <summary>Pick by problem shape: a scan for one task, dynamic programming for a chain or a narrow DAG, CP-SAT otherwise.</summary>
    Auto,
    /// <summary>One task: every candidate scanned.</summary>
    Scan,
    /// <summary>A chain (each task depends only on the previous one): dynamic programming over regions.</summary>
    ChainDynamicProgram,
    /// <summary>
    /// Any DAG narrow enough (a diamond, a fan-out and back) under any objective: dynamic programming over a
    /// tree decomposition (bucket elimination), the chain program generalized, with a term per source-to-sink
    /// path for time.
    /// </summary>
    VariableElimination,
    /// <summary>An integer program solved by OR-Tools CP-SAT.</summary>
    IntegerProgram,
}

/// <summary>
/// The chosen placement: a candidate per task with its cost and the next best alternatives, the egress and
/// transfer time of every edge, exact decimal totals, the makespan, and how sure the solver is.
/// </summary>
public sealed record PlacementPlan
{
    public required IReadOnlyList<TaskPlacement> Tasks { get; init; }
    public required IReadOnlyList<EdgeTransfer> Edges { get; init; }
    /// <summary>Sum of the chosen candidates' hourly costs.</summary>
    public required decimal HourlyCost { get; init; }
    /// <summary>Sum over tasks of hourly cost x duration.</summary>
    public required decimal ComputeCost { get; init; }
    /// <summary>Sum over edges of their egress cost (after peering).</summary>
    public required decimal EgressCost { get; init; }
    /// <summary><see cref="ComputeCost"/> + <see cref="EgressCost"/>.</summary>
    public required decimal TotalCost { get; init; }
    /// <summary>Critical path of run and transfer times (to the millisecond); null when a chosen transfer has no throughput estimate.</summary>
    public required TimeSpan? Makespan { get; init; }
    public required PlacementObjective Objective { get; init; }
    /// <summary>True when the plan is proven best (always for the scan and the dynamic programs).</summary>
    public required bool Optimal { get; init; }
    /// <summary>
    /// How far from optimal the plan may be: (objective - proven bound) / objective of the last objective CP-SAT
    /// worked on; 0 when optimal; 1 when nothing was proven (the time limit ran out before CP-SAT found a plan,
    /// and the plan is the optimizer's own starting guess).
    /// </summary>
    public required double Gap { get; init; }
    public required SolveMethod Method { get; init; }
    /// <summary>Wall time of the whole optimization, building the plan included.</summary>
    public required TimeSpan SolveTime { get; init; }
}

/// <summary>Where one task runs, what that costs, when it starts, and what else was nearly as good.</summary>
public sealed record TaskPlacement(
    PlacementTask Task, Candidate Chosen, decimal ComputeCost, TimeSpan? Start, TimeSpan? Finish,
    IReadOnlyList<PlacementAlternative> Alternatives);

/// <summary>
/// The plan with this task moved to <see cref="Candidate"/> and every other task left where it is, best first by
/// the plan's objective. Only moves that keep every hard limit are listed.
/// </summary>
public sealed record PlacementAlternative(Candidate Candidate, decimal ComputeCost, decimal TotalCostDelta, decimal TotalCost, TimeSpan? Makespan);

/// <summary>One edge of the plan: the egress it pays (which grid entry priced it) and how long the transfer takes.</summary>
public sealed record EdgeTransfer(TaskEdge Edge, decimal EgressCost, EgressMatch Match, TimeSpan? TransferTime);
