using Sky.Directory.V1;
using Sky.Pricing;

namespace Sky.Transfer.Planning;

/// <summary>
/// The directory's grids as the planner reads them: the throughput grid (bits/s between region pairs, one VM each
/// end, 64 TCP connections), the egress price grid, and the regions they cover, which are the candidate relays.
/// Built once per grid revision and shared by every plan; immutable.
/// </summary>
public sealed class TransferNetwork
{
    private readonly Dictionary<CloudRegion, CloudRegion> known;

    /// <exception cref="ArgumentException">A region lacks its provider or name.</exception>
    public TransferNetwork(ThroughputGrid throughput, EgressGrid egress, IEnumerable<CloudRegion> regions)
    {
        Throughput = throughput ?? throw new ArgumentNullException(nameof(throughput));
        Egress = egress ?? throw new ArgumentNullException(nameof(egress));
        ArgumentNullException.ThrowIfNull(regions);
        known = [];
        var ordered = new List<CloudRegion>();
        foreach (var region in regions)
        {
            if (string.IsNullOrWhiteSpace(region.Provider) || string.IsNullOrWhiteSpace(region.Region))
                throw new ArgumentException($"transfer network: region '{region}' lacks its provider or name", nameof(regions));
            if (known.TryAdd(region, region)) ordered.Add(region);
        }
        Regions = ordered;
    }

    /// <summary>
    /// The network of the directory's grid entries: every region the throughput grid measured from or to (GCP zones
    /// become their region, as <see cref="ThroughputGrid"/> keys them).
    /// </summary>
    public static TransferNetwork From(IReadOnlyCollection<Throughput> throughput, IEnumerable<EgressPrice> egress, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(throughput);
        var grid = new ThroughputGrid(throughput);
        var regions = throughput.SelectMany(t => new[] { t.Src, t.Dst }).Select(l => new CloudRegion(l.Provider, l.Region));
        return new TransferNetwork(grid, new EgressGrid(egress, currency), regions);
    }

    public ThroughputGrid Throughput { get; }
    public EgressGrid Egress { get; }
    /// <summary>Regions in first-seen order (plans break ties by it, so they are reproducible).</summary>
    public IReadOnlyList<CloudRegion> Regions { get; }

    public bool Contains(CloudRegion region) => known.ContainsKey(region);

    /// <summary>The region as the grid spells it (names compare without case), or null when the grid does not know it.</summary>
    public CloudRegion? Find(CloudRegion region) => known.TryGetValue(region, out var spelled) ? spelled : null;

    /// <summary>Measured rate from one region to another in Gbit/s (10^9), or null when the grid has no estimate.</summary>
    internal double? Gbps(CloudRegion from, CloudRegion to) =>
        Throughput.BitsPerSecond(from.Provider, from.Region, to.Provider, to.Region) is { } bps ? bps / 1e9 : null;
}
