using Sky.Directory.V1;

namespace Sky.Pricing;

/// <summary>
/// Measured throughput between regions (the directory's throughput grid) for estimating transfer times.
/// Measurements are per region pair: when a pair was measured from several zones the slowest is kept, since a
/// plan cannot count on landing on the best-placed VM. Within one region the configured intra-region rate
/// applies. A pair never measured has the fallback rate when one is configured, else no estimate (null).
/// Lookups allocate nothing. Immutable once built.
/// </summary>
public sealed class ThroughputGrid
{
    /// <summary>10 Gbit/s: what VMs in one region reach over the provider's network on common instance types.</summary>
    public const long DefaultIntraRegionBitsPerSecond = 10_000_000_000;

    private const decimal TicksPerSecond = TimeSpan.TicksPerSecond;

    private readonly RegionIndex index = new();
    private readonly Dictionary<long, long> rates = [];

    /// <summary>Builds the grid.</summary>
    /// <exception cref="ArgumentException">An entry lacks a region, or a rate is not positive.</exception>
    public ThroughputGrid(IEnumerable<Throughput> entries, long intraRegionBitsPerSecond = DefaultIntraRegionBitsPerSecond,
        long? fallbackBitsPerSecond = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(intraRegionBitsPerSecond);
        if (fallbackBitsPerSecond is <= 0)
            throw new ArgumentOutOfRangeException(nameof(fallbackBitsPerSecond), fallbackBitsPerSecond, "must be > 0 bits per second, or null for no estimate");
        IntraRegionBitsPerSecond = intraRegionBitsPerSecond;
        FallbackBitsPerSecond = fallbackBitsPerSecond;
        var i = 0;
        foreach (var entry in entries)
        {
            if (entry?.Src is null || entry.Src.Provider.Length == 0 || entry.Src.Region.Length == 0
                || entry.Dst is null || entry.Dst.Provider.Length == 0 || entry.Dst.Region.Length == 0)
                throw new ArgumentException($"throughput entry {i}: src and dst provider and region are required", nameof(entries));
            if (entry.BitsPerSecond <= 0)
                throw new ArgumentException($"throughput entry {i}: bits_per_second must be > 0, found {entry.BitsPerSecond}", nameof(entries));
            var key = RegionIndex.Pair(index.AddRegion(entry.Src.Provider, entry.Src.Region), index.AddRegion(entry.Dst.Provider, entry.Dst.Region));
            rates[key] = rates.TryGetValue(key, out var known) ? Math.Min(known, entry.BitsPerSecond) : entry.BitsPerSecond;
            i++;
        }
    }

    /// <summary>A grid with no measurements: only same-region transfers (and the fallback, if given) have an estimate.</summary>
    public static ThroughputGrid Empty(long intraRegionBitsPerSecond = DefaultIntraRegionBitsPerSecond, long? fallbackBitsPerSecond = null) =>
        new([], intraRegionBitsPerSecond, fallbackBitsPerSecond);

    public long IntraRegionBitsPerSecond { get; }
    public long? FallbackBitsPerSecond { get; }

    /// <summary>Measured region pairs.</summary>
    public int Count => rates.Count;

    /// <summary>Bits per second from the source region to the destination region, or null when unknown.</summary>
    public long? BitsPerSecond(string srcProvider, string srcRegion, string dstProvider, string dstRegion)
    {
        if (string.Equals(srcProvider, dstProvider, StringComparison.OrdinalIgnoreCase)
            && string.Equals(srcRegion, dstRegion, StringComparison.OrdinalIgnoreCase))
            return IntraRegionBitsPerSecond;
        var src = index.Region(index.Provider(srcProvider), srcRegion);
        var dst = index.Region(index.Provider(dstProvider), dstRegion);
        if (src >= 0 && dst >= 0 && rates.TryGetValue(RegionIndex.Pair(src, dst), out var rate)) return rate;
        return FallbackBitsPerSecond;
    }

    /// <summary>Time to move <paramref name="bytes"/> from the source region to the destination region, or null when the rate is unknown.</summary>
    public TimeSpan? TransferTime(string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal bytes) =>
        BitsPerSecond(srcProvider, srcRegion, dstProvider, dstRegion) is { } rate ? TransferTime(bytes, rate) : null;

    /// <summary>bytes x 8 / rate, rounded up to the tick (100 ns) so an estimate is never optimistic.</summary>
    public static TimeSpan TransferTime(decimal bytes, long bitsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bitsPerSecond);
        var ticks = decimal.Ceiling(bytes * 8m * TicksPerSecond / bitsPerSecond);
        if (ticks > TimeSpan.MaxValue.Ticks)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"a transfer of {bytes} bytes at {bitsPerSecond} bit/s does not fit a TimeSpan");
        return TimeSpan.FromTicks((long)ticks);
    }
}
