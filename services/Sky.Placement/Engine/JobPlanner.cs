using Sky.Placement.Catalog;
using Sky.Placement.Optimizer;
using Sky.Placement.Tasks;
using Sky.Pricing;

namespace Sky.Placement.Engine;

/// <summary>A location placement may not use: a whole provider (region null), a region (zone null) or a zone.</summary>
public sealed record BlockedLocation(string Provider, string? Region = null, string? Zone = null)
{
    public bool Covers(string provider, string region, string zone) =>
        string.Equals(Provider, provider, StringComparison.OrdinalIgnoreCase)
        && (Region is null || string.Equals(Region, region, StringComparison.OrdinalIgnoreCase))
        && (Zone is null || string.Equals(Zone, zone, StringComparison.OrdinalIgnoreCase));

    public override string ToString() => Provider + (Region is null ? "" : "/" + Region) + (Zone is null ? "" : "/" + Zone);
}

/// <summary>What the user allows beyond the YAML (data residency, budgets, deadline, objective) and what failures ruled out.</summary>
public sealed record PlanningPolicy
{
    public IReadOnlySet<string> AllowedProviders { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> DeniedProviders { get; init; } = new HashSet<string>();
    /// <summary>Allowed locations; empty means any (of the allowed providers).</summary>
    public IReadOnlyList<BlockedLocation> AllowedRegions { get; init; } = [];
    public IReadOnlyList<BlockedLocation> DeniedRegions { get; init; } = [];
    public decimal? MaxHourlyCost { get; init; }
    public decimal? MaxJobCost { get; init; }
    public TimeSpan? Deadline { get; init; }
    public PlacementObjective Objective { get; init; } = PlacementObjective.Cost;
    /// <summary>Expected run time per task name; others run <see cref="DefaultDuration"/> (SkyPilot's 1 hour).</summary>
    public IReadOnlyDictionary<string, TimeSpan> Durations { get; init; } = new Dictionary<string, TimeSpan>();
    /// <summary>Locations that failed during this job (capacity, quota, preemption), as SkyPilot's blocked resources.</summary>
    public IReadOnlyList<BlockedLocation> Blocked { get; init; } = [];
    /// <summary>Tasks already placed (they keep their placement when the others are planned again).</summary>
    public IReadOnlyDictionary<string, Candidate> Fixed { get; init; } = new Dictionary<string, Candidate>();

    public static readonly TimeSpan DefaultDuration = TimeSpan.FromHours(1);

    public TimeSpan DurationOf(string task) => Durations.TryGetValue(task, out var d) ? d : DefaultDuration;

    public bool Admits(string provider, string region, string zone)
    {
        if (AllowedProviders.Count > 0 && !AllowedProviders.Contains(provider)) return false;
        if (DeniedProviders.Count > 0 && DeniedProviders.Contains(provider)) return false;
        if (AllowedRegions.Count > 0 && !Covered(AllowedRegions, provider, region, zone)) return false;
        return !Covered(DeniedRegions, provider, region, zone) && !Covered(Blocked, provider, region, zone);
    }

    private static bool Covered(IReadOnlyList<BlockedLocation> list, string provider, string region, string zone)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i].Covers(provider, region, zone)) return true;
        return false;
    }
}

/// <summary>
/// A task graph planned: the problem given to the optimizer and its answer. The problem's first tasks are the graph's,
/// in its order; after them come the located buckets the tasks read (<see cref="IsData"/>), fixed where they are.
/// </summary>
public sealed record JobPlan(TaskGraph Graph, PlacementProblem Problem, PlacementPlan Plan)
{
    /// <summary>True for a bucket a task reads: it runs nothing and appears in a plan only as the source of its egress.</summary>
    public bool IsData(PlacementTask task) => task.Index >= Graph.Tasks.Count;

    /// <summary>Where each task of the graph runs (the buckets left out), in dependency order.</summary>
    public IEnumerable<TaskPlacement> TaskPlacements => Plan.Tasks.Where(t => !IsData(t.Task));
}

/// <summary>A task no offer can run under the policy; the message says which condition emptied the list.</summary>
public sealed class NoCandidatesException(string task, string message) : Exception(message)
{
    public string Task { get; } = task;
}

/// <summary>
/// Turns a task graph into a placement problem over the catalog's offers and solves it. Candidates come from the
/// catalog's indexes (instance type, accelerator model, CPU-only), then each task's conditions and the policy filter
/// them; prices are per hour for all nodes (spot prices when asked). The egress grid and throughput grid of a
/// snapshot are built once and reused by every plan on that snapshot. Egress is priced with the peering agreements
/// in force when the plan is made (<paramref name="peering"/> is asked once per plan).
/// </summary>
public sealed class JobPlanner(OptimizerOptions? options, Func<IEgressAdjuster?>? peering)
{
    public JobPlanner(OptimizerOptions? options = null, IEgressAdjuster? peering = null) : this(options, peering is null ? null : () => peering) { }

    // SkyPilot's default when a task names no instance type, accelerator or CPU count: 8+ vCPUs, 4 GiB per vCPU.
    private static readonly QuantityBound DefaultCpus = new(8, OrMore: true);
    private static readonly MemoryBound DefaultMemory = new(4, OrMore: true, PerVcpu: true);

    private readonly PlacementOptimizer _optimizer = new(options);
    private readonly Lock _gate = new();
    private (CatalogSnapshot Snapshot, EgressGrid Egress, ThroughputGrid Throughput)? _grids;

    public OptimizerOptions Options => _optimizer.Options;

    public JobPlan Plan(TaskGraph graph, CatalogSnapshot catalog, PlanningPolicy policy, CancellationToken ct = default)
    {
        var (egress, throughput) = Grids(catalog);
        var index = graph.Tasks.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var tasks = new List<PlacementTask>(graph.Tasks.Count);
        foreach (var task in graph.Tasks)
        {
            var candidates = policy.Fixed.TryGetValue(task.Name, out var fixedAt) ? [fixedAt] : CandidatesOf(task, catalog, policy);
            tasks.Add(new PlacementTask(tasks.Count, task.Name, (decimal)policy.DurationOf(task.Name).TotalHours, candidates));
        }
        var edges = new List<TaskEdge>();
        foreach (var task in graph.Tasks)
            foreach (var parent in graph.InflowsOf(task).Where(i => i.Bucket is null))
                edges.Add(new TaskEdge(index[parent.From], index[task.Name], parent.Gb));
        // A located bucket is a task fixed in its region that costs nothing: reading it is an edge like any other, so
        // every solver prices its egress per region pair and counts its transfer time, with no special case.
        foreach (var task in graph.Tasks)
            foreach (var input in graph.InflowsOf(task))
            {
                if (input.Bucket is not { } at) continue;
                var bucket = new Candidate
                {
                    OfferId = "bucket:" + input.From, Provider = at.Provider, Region = at.Region, InstanceType = "bucket", HourlyCost = 0m,
                };
                tasks.Add(new PlacementTask(tasks.Count, input.From, 0m, [bucket]));
                edges.Add(new TaskEdge(tasks.Count - 1, index[task.Name], input.Gb));
            }
        var problem = new PlacementProblem
        {
            Tasks = tasks,
            Edges = edges,
            Objective = policy.Objective,
            Deadline = policy.Deadline,
            MaxHourlyCost = policy.MaxHourlyCost,
            MaxJobCost = policy.MaxJobCost,
            Egress = new EgressPricer(egress, peering?.Invoke()),
            Throughput = throughput,
        };
        return new JobPlan(graph, problem, _optimizer.Optimize(problem, ct));
    }

    /// <summary>The egress prices of <paramref name="catalog"/> (its grid, built once per snapshot) with the peering agreements now.</summary>
    public EgressPricer Egress(CatalogSnapshot catalog) => new(Grids(catalog).Item1, peering?.Invoke());

    private (EgressGrid, ThroughputGrid) Grids(CatalogSnapshot catalog)
    {
        lock (_gate)
        {
            if (_grids is { } cached && ReferenceEquals(cached.Snapshot.Egress, catalog.Egress) && ReferenceEquals(cached.Snapshot.Throughput, catalog.Throughput))
                return (cached.Egress, cached.Throughput);
        }
        var built = (catalog, new EgressGrid(catalog.Egress), new ThroughputGrid(catalog.Throughput));
        lock (_gate) _grids = built;
        return (built.Item2, built.Item3);
    }

    /// <summary>Candidates kept per zone and preference rank: the best one, and enough to list the next best alternatives.</summary>
    public const int KeptPerZone = 6;

    /// <summary>
    /// The offers that can run one node of <paramref name="task"/> under the policy, priced for all its nodes. Only the
    /// <see cref="KeptPerZone"/> cheapest of each zone (and preference rank) are kept: egress and transfer time depend
    /// on the region alone, so within a zone the cheapest offer is the best under every objective and budget, and the
    /// next best alternatives of a task are among the few cheapest of their zones. A CPU-only spot task over the real
    /// catalogs has ~47,000 matching offers; this leaves a few thousand.
    /// </summary>
    public static IReadOnlyList<Candidate> CandidatesOf(TaskSpec task, CatalogSnapshot catalog, PlanningPolicy policy)
    {
        var ranked = task.CandidatesOrdered || task.Candidates.Any(c => c.AcceleratorsOrdered && c.Accelerators.Count > 1);
        var kept = new Dictionary<(string, string, string, int), List<Candidate>>();
        var seen = new HashSet<(string, bool)>();
        var reasons = new Rejections();
        var several = task.Candidates.Count > 1;
        for (var i = 0; i < task.Candidates.Count; i++)
        {
            var request = task.Candidates[i];
            var names = request.Accelerators.Count == 0 ? null : request.Accelerators.Select(a => a.Name).ToList();
            // A CPU-only request reads each zone's offers cheapest first and stops at the zone's few cheapest that fit;
            // other requests read the index's list for their instance type or accelerators.
            if (request.InstanceType is null && names is null)
            {
                foreach (var zoneOffers in catalog.CpuOnlyByZone(request.UseSpot))
                {
                    var accepted = 0;
                    foreach (var offer in zoneOffers)
                        if (Consider(offer, request, i) && ++accepted == KeptPerZone) break;
                }
            }
            else
            {
                foreach (var offer in catalog.Candidates(request.InstanceType, names)) Consider(offer, request, i);
            }
        }
        if (kept.Count == 0) throw new NoCandidatesException(task.Name, reasons.Explain(task, catalog));
        return Ordered(kept);

        // True when the offer can run the request under the policy (whether or not it beat the zone's kept ones).
        bool Consider(ComputeOffer offer, ResourceCandidate request, int i)
        {
            if (offer.Hourly(request.UseSpot) is not { } price) { reasons.NoPrice++; return false; }
            if (!Fits(request, offer)) { reasons.Shape++; return false; }
            var accelerator = MatchAccelerator(request, offer);
            if (accelerator < 0) { reasons.Accelerator++; return false; }
            if (offer.Availability == Sky.Directory.V1.Availability.Unavailable) { reasons.Unavailable++; return false; }
            if (!policy.Admits(offer.Provider, offer.Region, offer.Zone)) { reasons.Policy++; return false; }
            if (request.MaxHourlyCost is { } cap && price > cap) { reasons.Budget++; return false; }
            if (several && !seen.Add((offer.OfferId, request.UseSpot))) return true;
            var rank = !ranked ? 0 : (task.CandidatesOrdered ? i * 64 : 0) + (request.AcceleratorsOrdered ? accelerator : 0) + 1;
            var hourly = price * task.NumNodes;
            if (!kept.TryGetValue((offer.Provider, offer.Region, offer.Zone, rank), out var zone))
                kept[(offer.Provider, offer.Region, offer.Zone, rank)] = zone = new List<Candidate>(KeptPerZone + 1);
            if (zone.Count == KeptPerZone && zone[^1].HourlyCost <= hourly) return true;
            var at = zone.Count;
            while (at > 0 && zone[at - 1].HourlyCost > hourly) at--;
            zone.Insert(at, new Candidate
            {
                OfferId = offer.OfferId,
                Provider = offer.Provider,
                Region = offer.Region,
                Zone = offer.Zone.Length == 0 ? null : offer.Zone,
                InstanceType = offer.InstanceType,
                Accelerators = offer.Accelerators,
                UseSpot = request.UseSpot,
                NumNodes = task.NumNodes,
                HourlyCost = hourly,
                PreferenceRank = rank,
            });
            if (zone.Count > KeptPerZone) zone.RemoveAt(KeptPerZone);
            return true;
        }
    }

    private static List<Candidate> Ordered(Dictionary<(string, string, string, int), List<Candidate>> kept)
    {
        // A stable order (cheapest first, then offer id) so equal plans come out the same every time.
        var result = kept.Values.SelectMany(z => z).ToList();
        result.Sort((a, b) => a.HourlyCost != b.HourlyCost ? a.HourlyCost.CompareTo(b.HourlyCost) : string.CompareOrdinal(a.OfferId, b.OfferId));
        return result;
    }

    /// <summary>Index of the requested accelerator the offer carries (name and count), 0 when none was requested; -1 when it does not match.</summary>
    private static int MatchAccelerator(ResourceCandidate request, ComputeOffer offer)
    {
        if (request.Accelerators.Count == 0) return offer.AcceleratorName is null || request.InstanceType is not null ? 0 : -1;
        for (var a = 0; a < request.Accelerators.Count; a++)
        {
            var wanted = request.Accelerators[a];
            if (string.Equals(wanted.Name, offer.AcceleratorName, StringComparison.OrdinalIgnoreCase) && wanted.Count == offer.AcceleratorCount) return a;
        }
        return -1;
    }

    private static bool Fits(ResourceCandidate request, ComputeOffer offer)
    {
        if (request.Provider is { } provider && !string.Equals(provider, offer.Provider, StringComparison.OrdinalIgnoreCase)) return false;
        if (request.Region is { } region && !string.Equals(region, offer.Region, StringComparison.OrdinalIgnoreCase)) return false;
        if (request.Zone is { } zone && !string.Equals(zone, offer.Zone, StringComparison.OrdinalIgnoreCase)) return false;
        // As SkyPilot, x86-64 unless the task names its instance type (task YAML has no architecture field to ask for Arm).
        if (request.InstanceType is null && offer.Arch != "x86_64") return false;
        var vcpus = offer.VcpusExact;
        var memory = offer.MemoryGibExact;
        var defaulted = request.InstanceType is null && request.Accelerators.Count == 0 && request.Cpus is null && request.MemoryGib is null;
        var cpus = request.Cpus ?? (defaulted ? DefaultCpus : null);
        var mem = request.MemoryGib ?? (defaulted ? DefaultMemory : null);
        if (cpus is not null && !cpus.Admits(vcpus)) return false;
        if (mem is not null && !mem.Admits(memory, vcpus)) return false;
        return true;
    }

    /// <summary>Counts of why offers were turned down, to say what emptied a task's candidate list.</summary>
    private sealed class Rejections
    {
        public int Accelerator, Shape, Unavailable, Policy, NoPrice, Budget;

        public string Explain(TaskSpec task, CatalogSnapshot catalog)
        {
            var asked = string.Join(" or ", task.Candidates.Select(Describe));
            var why = new List<string>();
            if (Shape > 0) why.Add($"{Shape} of another location or size");
            if (Accelerator > 0) why.Add($"{Accelerator} with other accelerators");
            if (Unavailable > 0) why.Add($"{Unavailable} unavailable");
            if (Policy > 0) why.Add($"{Policy} outside the allowed providers and regions or blocked by failures");
            if (NoPrice > 0) why.Add($"{NoPrice} without a {(task.Candidates.Any(c => c.UseSpot) ? "spot" : "on-demand")} price");
            if (Budget > 0) why.Add($"{Budget} over max_hourly_cost");
            var unknown = task.Candidates.SelectMany(c => c.Accelerators)
                .Where(a => !catalog.AcceleratorNames.Contains(a.Name, StringComparer.OrdinalIgnoreCase)).Select(a => a.Name).Distinct().ToList();
            var detail = why.Count == 0 ? "the catalog has no such offer" : "offers turned down: " + string.Join(", ", why);
            if (unknown.Count > 0) detail += $"; the catalog has no accelerator named {string.Join(", ", unknown)}";
            return $"task '{task.Name}': no offer satisfies {asked} ({detail})";
        }

        private static string Describe(ResourceCandidate c)
        {
            var parts = new List<string>();
            if (c.Provider is not null) parts.Add(c.Provider + (c.Region is null ? "" : "/" + c.Region) + (c.Zone is null ? "" : "/" + c.Zone));
            if (c.InstanceType is not null) parts.Add(c.InstanceType);
            if (c.Accelerators.Count > 0) parts.Add(string.Join("|", c.Accelerators));
            if (c.Cpus is not null) parts.Add($"cpus {c.Cpus}");
            if (c.MemoryGib is not null) parts.Add($"memory {c.MemoryGib}");
            if (c.UseSpot) parts.Add("spot");
            return parts.Count == 0 ? "the default resources" : "{" + string.Join(", ", parts) + "}";
        }
    }
}
