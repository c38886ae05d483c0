namespace Sky.Pricing;

/// <summary>
/// Small-int ids for providers and (provider, region) pairs, so grid lookups hash strings once each and then key
/// dictionaries by integers. Names compare case-insensitively (the directory compares text that way). Not
/// thread-safe while being filled; read-only afterwards.
/// </summary>
internal sealed class RegionIndex
{
    private readonly Dictionary<string, int> providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Dictionary<string, int>> regionsByProvider = [];
    private int regionCount;

    /// <summary>The id of <paramref name="provider"/>, adding it if new.</summary>
    public int AddProvider(string provider)
    {
        if (providers.TryGetValue(provider, out var id)) return id;
        id = regionsByProvider.Count;
        providers.Add(provider, id);
        regionsByProvider.Add(new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase));
        return id;
    }

    /// <summary>The id of the region, adding provider and region if new.</summary>
    public int AddRegion(string provider, string region)
    {
        var regions = regionsByProvider[AddProvider(provider)];
        if (regions.TryGetValue(region, out var id)) return id;
        id = regionCount++;
        regions.Add(region, id);
        return id;
    }

    /// <summary>The provider's id, or -1 when no entry names it.</summary>
    public int Provider(string provider) => providers.TryGetValue(provider, out var id) ? id : -1;

    /// <summary>The region's id, or -1 when unknown.</summary>
    public int Region(int provider, string region) =>
        provider >= 0 && regionsByProvider[provider].TryGetValue(region, out var id) ? id : -1;

    /// <summary>One dictionary key for a pair of ids.</summary>
    public static long Pair(int first, int second) => ((long)first << 32) | (uint)second;
}
