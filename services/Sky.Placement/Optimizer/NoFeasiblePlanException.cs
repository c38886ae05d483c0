namespace Sky.Placement.Optimizer;

/// <summary>The hard limit that left no plan.</summary>
public enum PlacementConstraint
{
    /// <summary>A task has no candidates at all.</summary>
    Candidates,
    /// <summary>The data between two tasks has no egress price between any regions they could use.</summary>
    EgressPrice,
    /// <summary>Transfer times are needed (time objective or deadline) and no throughput estimate exists.</summary>
    Throughput,
    BudgetPerHour,
    BudgetPerJob,
    Deadline,
    /// <summary>Each limit alone can be met, not all of them together.</summary>
    Combination,
}

/// <summary>No plan meets the problem's hard limits; <see cref="Constraint"/> says which one, the message by how much.</summary>
public sealed class NoFeasiblePlanException(PlacementConstraint constraint, string message) : Exception(message)
{
    public PlacementConstraint Constraint { get; } = constraint;
}
