using Sky.Directory.V1;

namespace Sky.Placement.Catalog;

/// <summary>
/// A directory compute offering as the optimizer needs it: flat fields, exact prices, no protobuf on the hot path.
/// Prices are per hour for one node (spot null when there is no spot capacity).
/// </summary>
public sealed record ComputeOffer(
    string OfferId,
    string Provider,
    string Region,
    string Zone,
    string InstanceType,
    double Vcpus,
    double MemoryGib,
    string? AcceleratorName,
    int AcceleratorCount,
    string Arch,
    decimal? OnDemandHourly,
    decimal? SpotHourly,
    Availability Availability,
    long Revision)
{
    /// <summary>The offer as placement sees it, or null for what placement cannot run tasks on (service instances, no price).</summary>
    public static ComputeOffer? From(Offer offer)
    {
        if (offer.Kind != OfferKind.Compute || offer.Location is null || offer.InstanceType.Length == 0) return null;
        var onDemand = offer.Price?.OnDemandHourly?.ToDecimal();
        var spot = offer.Price?.SpotHourly?.ToDecimal();
        if (onDemand is null && spot is null) return null;
        var hardware = offer.Hardware ?? new Hardware();
        var accelerator = hardware.Accelerators.Count > 0 ? hardware.Accelerators[0] : null;
        return new ComputeOffer(offer.OfferId, offer.Location.Provider, offer.Location.Region, offer.Location.Zone, offer.InstanceType,
            hardware.Vcpus, hardware.MemoryGib, accelerator?.Name, accelerator?.Count ?? 0,
            hardware.Arch.Length == 0 ? "x86_64" : hardware.Arch, onDemand, spot, offer.Availability, offer.Revision);
    }

    /// <summary>vCPUs and memory as decimals, converted once (task bounds compare decimals; a conversion per check was a third of a scan).</summary>
    public decimal VcpusExact { get; } = (decimal)Vcpus;
    public decimal MemoryGibExact { get; } = (decimal)MemoryGib;

    /// <summary>"L4:1", or null for an instance without accelerators.</summary>
    public string? Accelerators => AcceleratorName is null ? null : $"{AcceleratorName}:{AcceleratorCount}";

    /// <summary>The hourly price of one node, spot or on demand; null when that kind of capacity has no price.</summary>
    public decimal? Hourly(bool spot) => spot ? SpotHourly : OnDemandHourly;
}
