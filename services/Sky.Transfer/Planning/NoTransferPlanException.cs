namespace Sky.Transfer.Planning;

/// <summary>Why no plan was given.</summary>
public enum NoPlanReason
{
    /// <summary>The grids connect source to destination by no route with a rate and an egress price on every hop.</summary>
    NoRoute,
    /// <summary>The source or destination region has no gateway offer or no known per-VM network limits.</summary>
    NoGateway,
    /// <summary>Even the fastest plan misses the deadline.</summary>
    Deadline,
    /// <summary>Even the cheapest plan costs more than the budget.</summary>
    Budget,
}

/// <summary>
/// The request is well-formed but no plan meets it (the API answers FAILED_PRECONDITION). <see cref="Closest"/>
/// is the plan that comes nearest (the fastest for a deadline, the cheapest for a budget), so a caller can say by
/// how much.
/// </summary>
public sealed class NoTransferPlanException(NoPlanReason reason, string message, RoutePlan? closest = null) : Exception(message)
{
    public NoPlanReason Reason { get; } = reason;
    public RoutePlan? Closest { get; } = closest;
}
