namespace Sky.Pricing;

/// <summary>
/// A transfer priced by the grid, handed to an <see cref="IEgressAdjuster"/>: the region pair, the volume, the
/// volume already sent on the pair in the billing period, the tiers that priced it and their (list) cost.
/// </summary>
public readonly record struct EgressCharge(
    string SrcProvider, string SrcRegion, string DstProvider, string DstRegion,
    decimal Gb, decimal AlreadyUsedGb, EgressTiers Tiers, decimal ListCost);

/// <summary>
/// Changes a list egress cost after the tiers have priced it: peering agreements (free, a percent discount,
/// a volume at an agreed price). Accounting owns the agreements; placement, transfer and rating apply them
/// through this hook so a quote and a bill agree.
/// </summary>
public interface IEgressAdjuster
{
    /// <summary>
    /// Whether any agreement covers the pair. Cheap, and asked once per region pair, so an optimizer calls
    /// <see cref="Adjust"/> only for pairs that can change.
    /// </summary>
    bool Covers(string srcProvider, string srcRegion, string dstProvider, string dstRegion);

    /// <summary>The cost to charge for <paramref name="charge"/>; never negative.</summary>
    decimal Adjust(in EgressCharge charge);

    /// <summary>
    /// <see cref="Adjust"/> and the id of the agreement that gave the cost (null when none did), for a bill that names
    /// the agreement behind its discount.
    /// </summary>
    (decimal Cost, string? AgreementId) AdjustNamed(in EgressCharge charge) => (Adjust(charge), null);
}
