using Sky.Directory.V1;

namespace Sky.Pricing;

/// <summary>Which entry of an <see cref="EgressGrid"/> priced a region pair.</summary>
public enum EgressMatch
{
    /// <summary>No entry applies: the pair has no egress price (never read as free).</summary>
    None,
    /// <summary>An entry for exactly this source and destination region.</summary>
    ExactPair,
    /// <summary>The source's entry for every region of the destination's provider (destination region "").</summary>
    AnyRegionOfProvider,
    /// <summary>Source and destination are the same region and no entry says otherwise: free.</summary>
    SameRegion,
    /// <summary>A different provider with no entry of its own: the source's "internet" entry.</summary>
    Internet,
}

/// <summary>The tiers that price a region pair and which entry they came from; no tiers when <see cref="EgressMatch.None"/>.</summary>
public readonly record struct EgressRate(EgressMatch Match, EgressTiers? Tiers)
{
    public bool HasPrice => Tiers is not null;
}

/// <summary>
/// The directory's egress price grid indexed for lookups in an optimizer's inner loop: strings are hashed once
/// per name into small ints, pairs are keyed by one long, equal tiers share one <see cref="EgressTiers"/>
/// instance, and a lookup allocates nothing. Precedence, most specific first (directory.proto, EgressPrice):
/// exact pair; the source's entry for any region of the destination's provider; the same region is free when no
/// entry prices it; another provider with no entry is the source's "internet" entry; otherwise no price.
/// A later entry for the same pair replaces an earlier one. Immutable once built.
/// </summary>
public sealed class EgressGrid
{
    /// <summary>The destination provider that stands for the public internet.</summary>
    public const string InternetProvider = "internet";

    private readonly RegionIndex index = new();
    private readonly Dictionary<long, EgressTiers> exact = [];
    private readonly Dictionary<long, EgressTiers> anyRegion = [];
    private readonly List<EgressTiers> distinct = [];
    private readonly int internet;

    /// <summary>Builds the grid; every price must be in <paramref name="currency"/>.</summary>
    /// <exception cref="ArgumentException">An entry lacks its source or destination provider, or its tiers are invalid (the message names the entry).</exception>
    public EgressGrid(IEnumerable<EgressPrice> entries, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(entries);
        Currency = currency;
        var shared = new Dictionary<EgressTiers, EgressTiers>();
        var i = 0;
        foreach (var entry in entries)
        {
            var name = $"egress entry {i}";
            if (entry?.Src is null || entry.Src.Provider.Length == 0 || entry.Src.Region.Length == 0)
                throw new ArgumentException($"{name}: src provider and region are required", nameof(entries));
            if (entry.Dst is null || entry.Dst.Provider.Length == 0)
                throw new ArgumentException($"{name}: dst provider is required", nameof(entries));
            var pair = $"{entry.Src.Provider}/{entry.Src.Region} -> {entry.Dst.Provider}/{(entry.Dst.Region.Length == 0 ? "*" : entry.Dst.Region)}";
            EgressTiers tiers;
            try
            {
                tiers = EgressTiers.FromProto(entry.Tiers, currency);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{name} ({pair}): {e.Message}", nameof(entries), e);
            }
            if (!shared.TryGetValue(tiers, out var known))
            {
                shared.Add(tiers, tiers);
                distinct.Add(tiers);
                known = tiers;
            }
            var src = index.AddRegion(entry.Src.Provider, entry.Src.Region);
            if (entry.Dst.Region.Length == 0)
                anyRegion[RegionIndex.Pair(src, index.AddProvider(entry.Dst.Provider))] = known;
            else
                exact[RegionIndex.Pair(src, index.AddRegion(entry.Dst.Provider, entry.Dst.Region))] = known;
            i++;
        }
        internet = index.Provider(InternetProvider);
    }

    /// <summary>A grid with no entries: only same-region transfers have a price (free).</summary>
    public static EgressGrid Empty { get; } = new([]);

    /// <summary>The currency every price is in.</summary>
    public string Currency { get; }

    /// <summary>Entries kept (a later duplicate replaces an earlier one).</summary>
    public int Count => exact.Count + anyRegion.Count;

    /// <summary>The distinct tier lists, each once: callers cache per-volume costs by instance.</summary>
    public IReadOnlyList<EgressTiers> DistinctTiers => distinct;

    /// <summary>The price of moving data from the source region to the destination region, by the precedence above.</summary>
    public EgressRate Lookup(string srcProvider, string srcRegion, string dstProvider, string dstRegion)
    {
        var src = index.Region(index.Provider(srcProvider), srcRegion);
        var sameProvider = string.Equals(srcProvider, dstProvider, StringComparison.OrdinalIgnoreCase);
        if (src >= 0)
        {
            var dstProviderId = index.Provider(dstProvider);
            if (dstProviderId >= 0)
            {
                var dst = dstRegion.Length == 0 ? -1 : index.Region(dstProviderId, dstRegion);
                if (dst >= 0 && exact.TryGetValue(RegionIndex.Pair(src, dst), out var pair)) return new(EgressMatch.ExactPair, pair);
                if (anyRegion.TryGetValue(RegionIndex.Pair(src, dstProviderId), out var any)) return new(EgressMatch.AnyRegionOfProvider, any);
            }
        }
        if (sameProvider && string.Equals(srcRegion, dstRegion, StringComparison.OrdinalIgnoreCase))
            return new(EgressMatch.SameRegion, EgressTiers.Free);
        if (src >= 0 && !sameProvider && internet >= 0 && anyRegion.TryGetValue(RegionIndex.Pair(src, internet), out var web))
            return new(EgressMatch.Internet, web);
        return new(EgressMatch.None, null);
    }
}
