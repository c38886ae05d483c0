using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Query;

/// <summary>
/// Immutable view of one stored offer with everything a query reads precomputed: lower-cased (and shared)
/// text, prices as exact nano-units, parsed versions, accelerator names and counts, the region centre id and
/// a sort key of the offer_id. The engine builds one per offer change; queries touch the proto only to return it.
/// </summary>
public sealed class OfferView
{
    /// <summary>Nano-units value of a missing price.</summary>
    public const long NoPrice = long.MinValue;

    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();
    private static readonly string[] NoGpuNames = [];
    private static readonly int[] NoGpuCounts = [];

    private OfferView(Offer offer)
    {
        Offer = offer;
        OfferId = offer.OfferId;
        IdKey = SortKeyOf(OfferId);
        Kind = Symbols.Intern(offer.Kind switch
        {
            OfferKind.ServiceInstance => "service_instance",
            OfferKind.Compute => "compute",
            _ => "",
        });
        Service = Shared(offer.Service);
        Name = Lower(offer.Name);
        Provider = Shared(offer.Location?.Provider);
        Region = Shared(offer.Location?.Region);
        Zone = Shared(offer.Location?.Zone);
        InstanceType = Shared(offer.InstanceType);
        Origin = Shared(offer.Origin);
        Version = offer.Version.Length > 0 ? VersionValue.Parse(offer.Version) : null;
        ApiVersion = offer.ApiVersion.Length > 0 ? VersionValue.Parse(offer.ApiVersion) : null;
        Availability = Symbols.Intern(offer.Availability switch
        {
            V1.Availability.Limited => "limited",
            V1.Availability.Unavailable => "unavailable",
            _ => "available",
        });

        var hardware = offer.Hardware;
        Vcpus = hardware?.Vcpus ?? 0;
        MemoryGib = hardware?.MemoryGib ?? 0;
        Arch = Shared(hardware?.Arch);
        if (hardware is { Accelerators.Count: > 0 })
        {
            GpuNames = new string[hardware.Accelerators.Count];
            GpuCounts = new int[hardware.Accelerators.Count];
            for (var i = 0; i < GpuNames.Length; i++)
            {
                GpuNames[i] = Shared(hardware.Accelerators[i].Name);
                GpuCounts[i] = hardware.Accelerators[i].Count;
                GpuCount += GpuCounts[i];
            }
        }
        else
        {
            GpuNames = NoGpuNames;
            GpuCounts = NoGpuCounts;
        }

        OnDemandNanos = ToNanos(offer.Price?.OnDemandHourly);
        SpotNanos = ToNanos(offer.Price?.SpotHourly);
        Load = offer.Load;

        if (offer.Attributes.Count > 0)
        {
            var attributes = new Dictionary<string, string>(offer.Attributes.Count, StringComparer.Ordinal);
            foreach (var (key, value) in offer.Attributes) attributes[key.ToLowerInvariant()] = value.ToLowerInvariant();
            Attributes = attributes;
        }
        else Attributes = NoAttributes;

        RegionCentreId = RegionCentres.IdOf(Provider, Region);
    }

    /// <summary>Builds the view of a stored offer (offer_id set). The offer is kept, not copied: do not mutate it afterwards.</summary>
    public static OfferView From(Offer offer)
    {
        ArgumentNullException.ThrowIfNull(offer);
        return new OfferView(offer);
    }

    /// <summary>The proto, returned as-is in query results.</summary>
    public Offer Offer { get; }
    public string OfferId { get; }

    /// <summary>"service_instance", "compute", or "" when unspecified.</summary>
    public string Kind { get; }
    public string Service { get; }
    public string Name { get; }
    public string Provider { get; }
    public string Region { get; }
    /// <summary>Lower case; "" for region-wide offers.</summary>
    public string Zone { get; }
    public string InstanceType { get; }
    public string Origin { get; }
    public string Arch { get; }
    /// <summary>"available", "limited" or "unavailable" (unset reads as available).</summary>
    public string Availability { get; }
    public VersionValue? Version { get; }
    public VersionValue? ApiVersion { get; }
    /// <summary>0 means unknown.</summary>
    public double Vcpus { get; }
    /// <summary>0 means unknown.</summary>
    public double MemoryGib { get; }
    /// <summary>Lower-case accelerator names, parallel to <see cref="GpuCounts"/>.</summary>
    public string[] GpuNames { get; }
    public int[] GpuCounts { get; }
    /// <summary>Accelerators per node over all models; 0 for none.</summary>
    public int GpuCount { get; }
    public decimal? OnDemandHourly => OnDemandNanos == NoPrice ? null : OnDemandNanos / 1_000_000_000m;
    public decimal? SpotHourly => SpotNanos == NoPrice ? null : SpotNanos / 1_000_000_000m;
    /// <summary>On-demand price in nano-units (exact), or <see cref="NoPrice"/>.</summary>
    public long OnDemandNanos { get; }
    /// <summary>Spot price in nano-units (exact), or <see cref="NoPrice"/>.</summary>
    public long SpotNanos { get; }
    public double? Load { get; }
    /// <summary>Attributes with lower-case keys and values.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; }
    /// <summary>Id in <see cref="RegionCentres"/>, or -1 when the region's centre is unknown.</summary>
    public int RegionCentreId { get; }

    public bool IsAvailable => Availability != "unavailable";

    /// <summary>The first 16 characters of offer_id packed so that comparing keys agrees with ordinal order (equal keys: compare the ids).</summary>
    internal UInt128 IdKey { get; }

    /// <summary>Exact nano-units; saturates beyond +-9 billion units (no real hourly price).</summary>
    public static long ToNanos(Money? money)
    {
        if (money is null) return NoPrice;
        var units = Math.Clamp(money.Units, -9_000_000_000L, 9_000_000_000L);
        return units * 1_000_000_000L + money.Nanos;
    }

    public override string ToString() => OfferId;

    // Packs 16 characters big-endian, one byte each; a character that does not fit in a byte ends the key
    // (0-padded), so keys never order two ids differently from string.CompareOrdinal. 16 characters cover a
    // provider prefix and enough of the hash after it ("azure-" + 10) that equal keys are rare.
    internal static UInt128 SortKeyOf(string id)
    {
        UInt128 key = 0;
        var shift = 120;
        for (var i = 0; i < id.Length && shift >= 0; i++, shift -= 8)
        {
            var c = id[i];
            if (c >= 0xFF) { key |= (UInt128)0xFF << shift; break; }
            key |= (UInt128)c << shift;
        }
        return key;
    }

    private static string Lower(string? text) => string.IsNullOrEmpty(text) ? "" : text.ToLowerInvariant();
    private static string Shared(string? text) => Symbols.Intern(Lower(text));
}
