namespace Sky.Placement.Optimizer;

/// <summary>How the optimizer searches.</summary>
public sealed record OptimizerOptions
{
    /// <summary>
    /// Wall-time limit of the whole optimization up to the CP-SAT search, which gets what is left (all its phases
    /// together); building the plan and its alternatives comes on top. When it runs out the best plan found is
    /// returned with <see cref="PlacementPlan.Optimal"/> false and the proven gap; if CP-SAT found none, the
    /// optimizer's starting guess (see <see cref="PlacementPlan.Gap"/>), provided it meets every limit.
    /// </summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Force a method (tests compare them); <see cref="SolveMethod.Auto"/> picks by problem shape.</summary>
    public SolveMethod Method { get; init; } = SolveMethod.Auto;
    /// <summary>
    /// CP-SAT workers; 0 = <see cref="DefaultWorkers"/>. CP-SAT runs a portfolio of different searches, and its
    /// LP-heavy ones only join from about 8 workers, which proves placements optimal several times faster than 2
    /// even on 2 cores (measured on a 4-task diamond over 102 regions: 0.7 s with 8 workers, 4-9 s with 1 or 2).
    /// </summary>
    public int Workers { get; init; }

    /// <summary>Workers used when <see cref="Workers"/> is 0.</summary>
    public const int DefaultWorkers = 8;
    /// <summary>Alternatives listed per task.</summary>
    public int Alternatives { get; init; } = 5;
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
