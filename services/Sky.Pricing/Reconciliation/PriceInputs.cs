using System.Globalization;

namespace Sky.Pricing.Reconciliation;

/// <summary>
/// What priced a quote line or a usage, kept with it so the amount can be rated again at other inputs: reconciliation
/// asks "what would this usage have cost at the quote's prices" and gets the answer from the same <see cref="UsageRater"/>
/// that billed it.
/// </summary>
public abstract record PriceInputs
{
    private protected PriceInputs(long revision) => Revision = revision;

    /// <summary>The price book revision the price came from.</summary>
    public long Revision { get; }

    /// <summary>True when the price is a spot price (it moves at a given revision, so a change is a spot change, not a new book).</summary>
    public virtual bool IsSpot => false;

    /// <summary>
    /// <paramref name="quantity"/> (compute: node-seconds on <paramref name="nodes"/> nodes; egress: GB) rated at these
    /// prices with the peering of <paramref name="peering"/>: exactly what <paramref name="rater"/> bills for it.
    /// </summary>
    public abstract RatedCharge Rate(UsageRater rater, PeeringState peering, decimal quantity, int nodes);

    /// <summary>The price in words, for a cause's description.</summary>
    public abstract string Describe();

    internal static string Text(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);
}

/// <summary>A compute price (VMs of a task, or transfer gateways): per node and hour, billed per second.</summary>
public sealed record ComputePrice : PriceInputs
{
    public ComputePrice(decimal hourlyPerNode, bool isSpot, long revision) : base(revision)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hourlyPerNode);
        HourlyPerNode = hourlyPerNode;
        IsSpot = isSpot;
    }

    public decimal HourlyPerNode { get; }

    public override bool IsSpot { get; }

    public override RatedCharge Rate(UsageRater rater, PeeringState peering, decimal quantity, int nodes)
    {
        ArgumentNullException.ThrowIfNull(rater);
        return rater.Compute(HourlyPerNode, quantity, nodes);
    }

    public override string Describe() => $"{Text(HourlyPerNode)}/h per node{(IsSpot ? " (spot)" : "")}";
}

/// <summary>An egress price: the tiers of one region pair (each transfer priced from 0 GB, as quotes and rating do).</summary>
public sealed record EgressPrice : PriceInputs
{
    public EgressPrice(EgressTiers tiers, EgressRoute route, long revision) : base(revision)
    {
        Tiers = tiers ?? throw new ArgumentNullException(nameof(tiers));
        Route = route;
    }

    public EgressTiers Tiers { get; }

    public EgressRoute Route { get; }

    public override RatedCharge Rate(UsageRater rater, PeeringState peering, decimal quantity, int nodes)
    {
        ArgumentNullException.ThrowIfNull(rater);
        ArgumentNullException.ThrowIfNull(peering);
        return rater.Egress(Tiers, peering.Adjuster, Route.SrcProvider, Route.SrcRegion, Route.DstProvider, Route.DstRegion, quantity);
    }

    public override string Describe() => Tiers.ToString();
}

/// <summary>The region pair data leaves and enters.</summary>
public readonly record struct EgressRoute(string SrcProvider, string SrcRegion, string DstProvider, string DstRegion)
{
    public override string ToString() => $"{SrcProvider}/{SrcRegion} -> {DstProvider}/{DstRegion}";
}

/// <summary>
/// The peering agreements in force for a price: the quote's at quote time, a usage's at the time of use (null adjuster: none).
/// Compute ignores it; egress applies it as <see cref="UsageRater"/> does.
/// </summary>
public sealed record PeeringState(IEgressAdjuster? Adjuster)
{
    public static PeeringState None { get; } = new((IEgressAdjuster?)null);
}
