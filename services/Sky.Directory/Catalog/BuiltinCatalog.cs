using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>
/// The offers and egress prices a directory starts with when no catalog has been imported: about thirty
/// instance types per cloud (general purpose, compute, memory, GPU) in a US, a European and an Asian
/// region of AWS, GCP and Azure, at the providers' on-demand list prices in USD per hour (Linux, no
/// licence). Keys follow the SkyPilot import's scheme, "&lt;type&gt;/&lt;region&gt;/&lt;zone&gt;" (Azure region-wide),
/// and AWS zones are AZ ids as there (use1-az1: stable across accounts, unlike us-east-1a).
/// Spot prices are left unset: AWS and Azure spot prices move with the market and GCP's up to once
/// a day, so an embedded figure would be stale; imports bring live ones.
/// </summary>
public static class BuiltinCatalog
{
    private static readonly List<Offer> AllOffers = BuildOffers();
    private static readonly IReadOnlyList<EgressPrice> AllEgressPrices = BuiltinEgress.Build();

    /// <summary>Compute offerings in table order, one per type, region and zone; fresh copies on every call (protobuf messages are mutable).</summary>
    public static IReadOnlyList<Offer> Offers => [.. AllOffers.Select(o => o.Clone())];

    /// <summary>Egress list prices from each built-in region (see <see cref="BuiltinEgress"/>); fresh copies on every call.</summary>
    public static IReadOnlyList<EgressPrice> EgressPrices => [.. AllEgressPrices.Select(e => e.Clone())];

    /// <summary>The regions of the built-in catalog (provider and region).</summary>
    public static IReadOnlyList<Location> Regions =>
        [.. BuiltinTable.Clouds.SelectMany(c => c.Regions.Select(r => new Location { Provider = c.Provider, Region = r.Name }))];

    private static List<Offer> BuildOffers()
    {
        var offers = new List<Offer>();
        foreach (var cloud in BuiltinTable.Clouds)
            foreach (var type in cloud.Types)
            {
                if (type.Prices.Length != cloud.Regions.Length)
                    throw new InvalidOperationException($"{cloud.Provider} {type.Name}: {type.Prices.Length} prices for {cloud.Regions.Length} regions");
                for (var r = 0; r < cloud.Regions.Length; r++)
                {
                    if (type.Prices[r] is not { } price) continue;
                    var region = cloud.Regions[r];
                    string[] zones = cloud.ZoneOverrides.TryGetValue($"{type.Name}/{region.Name}", out var only) ? only
                        : region.Zones.Length > 0 ? region.Zones : [""];
                    foreach (var zone in zones) offers.Add(ToOffer(cloud.Provider, type, region.Name, zone, price));
                }
            }
        return offers;
    }

    private static Offer ToOffer(string provider, BuiltinTable.Machine type, string region, string zone, decimal price)
    {
        var offer = new Offer
        {
            Key = SkyPilotCatalog.Key(type.Name, region, zone),
            Kind = OfferKind.Compute,
            Location = new Location { Provider = provider, Region = region, Zone = zone },
            InstanceType = type.Name,
            Hardware = new Hardware { Vcpus = type.Vcpus, MemoryGib = type.MemoryGib, Arch = type.Arm ? "arm64" : "x86_64" },
            Price = new Price { OnDemandHourly = Money.FromDecimal(price, "USD") },
            Availability = Availability.Available,
        };
        if (type.Gpu is { } gpu)
        {
            offer.Hardware.Accelerators.Add(new Accelerator { Name = gpu.Name, Count = gpu.Count });
            offer.Hardware.AcceleratorMemoryGib = gpu.MemoryGib;
            offer.Attributes["gpu_manufacturer"] = "NVIDIA";
        }
        if (type.Generation is { } generation) offer.Attributes["generation"] = generation;
        return offer;
    }
}
