namespace Sky.Transfer.Planning;

/// <summary>How the transfer planner searches.</summary>
public sealed record TransferPlannerOptions
{
    /// <summary>
    /// Relays kept for their throughput: the regions with the highest single-relay bottleneck (the slower of the
    /// two hops, capped by the VMs' limits). Skyplane's overlays rarely use more than a few relays; 8 of them plus
    /// <see cref="CheapRelays"/> keeps the program to about 200 flow variables, solved in tens of milliseconds.
    /// </summary>
    public int FastRelays { get; init; } = 8;
    /// <summary>Relays kept for their price: the cheapest two hops per GB (peering applied) including the relay's VM time.</summary>
    public int CheapRelays { get; init; } = 4;
    /// <summary>Per-VM egress/ingress limits by provider; a provider not listed runs no gateway.</summary>
    public GatewayLimits Limits { get; init; } = GatewayLimits.Skyplane;
    /// <summary>Wall time for all the solves of one plan; past it the best plan found so far is returned, marked not optimal.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(5);
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
