namespace Sky.Transfer.Planning;

/// <summary>One path the data takes: source, zero or more relays, destination; its share of the bytes and its rate.</summary>
public sealed record PlannedRoute(IReadOnlyList<CloudRegion> Hops, long Bytes, long ThroughputBps)
{
    /// <summary>Source straight to destination.</summary>
    public bool IsDirect => Hops.Count == 2;

    public override string ToString() => $"{string.Join(" -> ", Hops)}: {Bytes} B at {ThroughputBps / 1e9:0.###} Gbit/s";
}

/// <summary>The gateway VMs a plan runs in one region and what they cost per hour each.</summary>
public sealed record GatewayVms(CloudRegion Region, int Count, string InstanceType, string OfferId, decimal HourlyPrice)
{
    public override string ToString() => $"{Region}: {Count} x {InstanceType} at {HourlyPrice}/h";
}

/// <summary>
/// Egress over one region pair, summed over the routes that cross it, priced on its own from 0 GB as the bill
/// will price it: the tiers' list cost, the cost after peering, and the agreement that gave it.
/// </summary>
public sealed record HopEgress(CloudRegion From, CloudRegion To, long Bytes, decimal ListCost, decimal Cost, string? AgreementId);

/// <summary>
/// A priced plan: routes, gateways and predicted time, with every amount recomputed exactly (decimal) from the
/// routes' bytes, whatever the solver worked in. Durations exclude VM start-up.
/// </summary>
public sealed record RoutePlan
{
    public required IReadOnlyList<PlannedRoute> Routes { get; init; }
    public required IReadOnlyList<GatewayVms> Gateways { get; init; }
    /// <summary>Egress per region pair; the sum of <see cref="HopEgress.Cost"/> is <see cref="EgressCost"/>.</summary>
    public required IReadOnlyList<HopEgress> Hops { get; init; }
    /// <summary>Predicted copy time: the slowest route's bytes x 8 / its rate, rounded up to the tick.</summary>
    public required TimeSpan Duration { get; init; }
    /// <summary>Sum of the routes' rates, bits per second.</summary>
    public required long ThroughputBps { get; init; }
    /// <summary>Egress for every hop, tiers and peering applied.</summary>
    public required decimal EgressCost { get; init; }
    /// <summary>Every gateway VM for <see cref="Duration"/>, per second of the hourly price.</summary>
    public required decimal VmCost { get; init; }
    public decimal TotalCost => EgressCost + VmCost;
    /// <summary>What peering agreements took off the list egress (already subtracted from <see cref="EgressCost"/>).</summary>
    public required decimal PeeringDiscount { get; init; }
    /// <summary>False when the solver ran out of time before proving the plan best for its goal.</summary>
    public bool Optimal { get; init; } = true;
    /// <summary>False for a direct route shown beside the plan that cannot meet the goal's deadline or budget.</summary>
    public bool MeetsGoal { get; init; } = true;

    /// <summary>Every route goes straight from source to destination.</summary>
    public bool IsDirect => Routes.All(r => r.IsDirect);

    public override string ToString() =>
        $"{ThroughputBps / 1e9:0.###} Gbit/s, {Duration}, egress {EgressCost} + VMs {VmCost} = {TotalCost}; {string.Join("; ", Routes)}; {string.Join(", ", Gateways)}";
}

/// <summary>The planner's answer: the chosen plan and, beside it, the direct route's with the same VM limit.</summary>
public sealed record TransferPlanResult
{
    public required PlanGoal Goal { get; init; }
    public required long Bytes { get; init; }
    public required RoutePlan Plan { get; init; }
    /// <summary>
    /// The direct route under the same goal; the same instance as <see cref="Plan"/> when that is direct. When no
    /// direct plan meets the goal, the nearest one (fastest for a deadline, cheapest for a budget) with
    /// <see cref="RoutePlan.MeetsGoal"/> false. Null when the grids have no rate or no price from source to destination.
    /// </summary>
    public RoutePlan? Direct { get; init; }
    /// <summary>The relay regions the integer program could route through (after pruning); empty for a direct-only plan.</summary>
    public required IReadOnlyList<CloudRegion> RelaysConsidered { get; init; }
    public required TimeSpan PlanTime { get; init; }
}
