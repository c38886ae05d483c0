using Sky.Directory.V1;

namespace Sky.Placement.Catalog;

/// <summary>
/// An immutable view of the directory's compute offers and grids, indexed so a task's candidates are found without
/// scanning every row: by instance type, by accelerator model (case-insensitive, as SkyPilot matches "A10g" to "A10G"),
/// and the CPU-only offers apart. A change makes a new snapshot; planners keep using the one they started with.
/// </summary>
public sealed class CatalogSnapshot
{
    public static readonly CatalogSnapshot Empty = new([], [], [], 0);

    private readonly Dictionary<string, ComputeOffer> _byId;
    private readonly Dictionary<string, ComputeOffer[]> _byInstanceType;
    private readonly Dictionary<string, ComputeOffer[]> _byAccelerator;
    private readonly ComputeOffer[] _cpuOnly;

    public CatalogSnapshot(IEnumerable<ComputeOffer> offers, IReadOnlyList<EgressPrice> egress, IReadOnlyList<Throughput> throughput, long revision)
    {
        _byId = new Dictionary<string, ComputeOffer>(StringComparer.Ordinal);
        foreach (var offer in offers) _byId[offer.OfferId] = offer;
        var byType = new Dictionary<string, List<ComputeOffer>>(StringComparer.OrdinalIgnoreCase);
        var byAccelerator = new Dictionary<string, List<ComputeOffer>>(StringComparer.OrdinalIgnoreCase);
        var cpuOnly = new List<ComputeOffer>();
        foreach (var offer in _byId.Values)
        {
            Add(byType, offer.InstanceType, offer);
            if (offer.AcceleratorName is { } name) Add(byAccelerator, name, offer);
            else cpuOnly.Add(offer);
        }
        _byInstanceType = byType.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        _byAccelerator = byAccelerator.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        _cpuOnly = [.. cpuOnly];
        Egress = egress;
        Throughput = throughput;
        Revision = revision;
    }

    private CatalogSnapshot(CatalogSnapshot same, long revision)
    {
        (_byId, _byInstanceType, _byAccelerator, _cpuOnly) = (same._byId, same._byInstanceType, same._byAccelerator, same._cpuOnly);
        (Egress, Throughput, Revision) = (same.Egress, same.Throughput, revision);
    }

    /// <summary>The same offers and grids at a later revision (a change placement has no use for, such as a service instance).</summary>
    public CatalogSnapshot AtRevision(long revision) => revision <= Revision ? this : new CatalogSnapshot(this, revision);

    private static void Add(Dictionary<string, List<ComputeOffer>> index, string key, ComputeOffer offer)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(offer);
    }

    /// <summary>Number of compute offers.</summary>
    public int Count => _byId.Count;

    public IEnumerable<ComputeOffer> Offers => _byId.Values;
    public IReadOnlyList<EgressPrice> Egress { get; }
    public IReadOnlyList<Throughput> Throughput { get; }

    /// <summary>The directory revision the snapshot reflects (the highest it has seen).</summary>
    public long Revision { get; }

    public ComputeOffer? Get(string offerId) => _byId.GetValueOrDefault(offerId);

    /// <summary>Accelerator models known to the catalog, for "did you mean" errors.</summary>
    public IEnumerable<string> AcceleratorNames => _byAccelerator.Keys;

    /// <summary>
    /// The offers a request can only be met by, before its other conditions: those of <paramref name="instanceType"/>
    /// when given, else those carrying one of <paramref name="accelerators"/>, else the CPU-only offers.
    /// </summary>
    public IEnumerable<ComputeOffer> Candidates(string? instanceType, IReadOnlyCollection<string>? accelerators)
    {
        if (!string.IsNullOrEmpty(instanceType))
            return _byInstanceType.TryGetValue(instanceType, out var typed) ? typed : [];
        if (accelerators is { Count: > 0 })
            return accelerators.SelectMany(a => _byAccelerator.TryGetValue(a, out var list) ? list : []);
        return _cpuOnly;
    }

    private ComputeOffer[][]? _cpuZonesOnDemand, _cpuZonesSpot;

    /// <summary>
    /// The CPU-only offers with a price of the kind asked (spot or on demand), one array per zone, each cheapest first
    /// (then by offer id): a CPU-only task reads a zone only until its few cheapest fitting offers are found. Built on
    /// first use per snapshot.
    /// </summary>
    public IReadOnlyList<ComputeOffer[]> CpuOnlyByZone(bool spot)
    {
        ref var cache = ref spot ? ref _cpuZonesSpot : ref _cpuZonesOnDemand;
        if (Volatile.Read(ref cache) is { } built) return built;
        var zones = _cpuOnly.Where(o => o.Hourly(spot) is not null)
            .GroupBy(o => (o.Provider, o.Region, o.Zone))
            .Select(g => g.OrderBy(o => o.Hourly(spot)!.Value).ThenBy(o => o.OfferId, StringComparer.Ordinal).ToArray())
            .ToArray();
        Volatile.Write(ref cache, zones);
        return zones;
    }

    /// <summary>A new snapshot with <paramref name="upserts"/> put (unless older than what it holds) and <paramref name="removals"/> gone.</summary>
    public CatalogSnapshot With(IEnumerable<ComputeOffer> upserts, IEnumerable<(string OfferId, long Revision)> removals, long revision)
    {
        var offers = new Dictionary<string, ComputeOffer>(_byId, StringComparer.Ordinal);
        foreach (var offer in upserts)
            if (!offers.TryGetValue(offer.OfferId, out var held) || held.Revision <= offer.Revision) offers[offer.OfferId] = offer;
        foreach (var (id, removedAt) in removals)
            if (offers.TryGetValue(id, out var held) && held.Revision <= removedAt) offers.Remove(id);
        return new CatalogSnapshot(offers.Values, Egress, Throughput, Math.Max(Revision, revision));
    }

    /// <summary>The same offers with other grids.</summary>
    public CatalogSnapshot WithGrids(IReadOnlyList<EgressPrice> egress, IReadOnlyList<Throughput> throughput, long revision) =>
        new(_byId.Values, egress, throughput, Math.Max(Revision, revision));
}
