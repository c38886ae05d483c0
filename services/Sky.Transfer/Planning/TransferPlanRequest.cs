namespace Sky.Transfer.Planning;

/// <summary>What the planner optimizes (transfer.proto's TransferGoal without UNSPECIFIED, which the API maps to cheapest).</summary>
public enum PlanGoal
{
    /// <summary>Least total cost (egress + gateway VMs); among equally cheap plans, the fastest.</summary>
    Cheapest,
    /// <summary>Highest throughput; among equally fast plans, the cheapest.</summary>
    Fastest,
    /// <summary>Least cost among plans that finish within <see cref="TransferPlanRequest.Deadline"/>; then the fastest.</summary>
    CheapestByDeadline,
    /// <summary>Highest throughput among plans that cost at most <see cref="TransferPlanRequest.Budget"/>; then the cheapest.</summary>
    FastestUnderBudget,
}

/// <summary>One transfer to plan: where from and to, how much, and the goal. Plain data; <see cref="Validate"/> says what is wrong.</summary>
public sealed record TransferPlanRequest
{
    /// <summary>Skyplane's default and the API's when max_vms_per_region is 0.</summary>
    public const int DefaultMaxVmsPerRegion = 8;

    public required CloudRegion Source { get; init; }
    public required CloudRegion Destination { get; init; }
    /// <summary>Bytes to copy; more than 0 (the API lists the source when the caller does not know).</summary>
    public required long Bytes { get; init; }
    public PlanGoal Goal { get; init; } = PlanGoal.Cheapest;
    /// <summary>Longest acceptable copy time (VM start-up excluded); required for <see cref="PlanGoal.CheapestByDeadline"/>, ignored otherwise.</summary>
    public TimeSpan? Deadline { get; init; }
    /// <summary>Most the copy may cost (egress + VMs), in the egress grid's currency; required for <see cref="PlanGoal.FastestUnderBudget"/>, ignored otherwise.</summary>
    public decimal? Budget { get; init; }
    /// <summary>Most gateway VMs in any one region, at least 1.</summary>
    public int MaxVmsPerRegion { get; init; } = DefaultMaxVmsPerRegion;
    /// <summary>Plan only the direct route (no relay regions).</summary>
    public bool DirectOnly { get; init; }

    /// <summary>Checks the fields on their own (not against a network).</summary>
    /// <exception cref="ArgumentException">A field is missing or out of range; the message names it.</exception>
    public void Validate()
    {
        CheckRegion(Source, "source");
        CheckRegion(Destination, "destination");
        if (Bytes <= 0) throw new ArgumentException($"transfer plan: bytes must be > 0, found {Bytes}", nameof(Bytes));
        if (MaxVmsPerRegion < 1) throw new ArgumentException($"transfer plan: max VMs per region must be >= 1, found {MaxVmsPerRegion}", nameof(MaxVmsPerRegion));
        if (!Enum.IsDefined(Goal)) throw new ArgumentException($"transfer plan: unknown goal {(int)Goal}", nameof(Goal));
        if (Goal == PlanGoal.CheapestByDeadline && Deadline is null)
            throw new ArgumentException("transfer plan: the cheapest-by-deadline goal needs a deadline", nameof(Deadline));
        if (Goal == PlanGoal.CheapestByDeadline && Deadline <= TimeSpan.Zero)
            throw new ArgumentException($"transfer plan: the deadline must be > 0, found {Deadline}", nameof(Deadline));
        if (Goal == PlanGoal.FastestUnderBudget && Budget is null)
            throw new ArgumentException("transfer plan: the fastest-under-budget goal needs a budget", nameof(Budget));
        if (Goal == PlanGoal.FastestUnderBudget && Budget <= 0)
            throw new ArgumentException($"transfer plan: the budget must be > 0, found {Budget}", nameof(Budget));
    }

    private static void CheckRegion(CloudRegion region, string name)
    {
        if (string.IsNullOrWhiteSpace(region.Provider) || string.IsNullOrWhiteSpace(region.Region))
            throw new ArgumentException($"transfer plan: the {name} needs a provider and a region, found '{region.Provider}/{region.Region}'", name);
    }
}
