using Sky.Pricing;

namespace Sky.Placement.Optimizer;

/// <summary>
/// A problem reduced for search. Egress and transfer time depend only on the (source region, destination region)
/// pair of an edge, never on the instance type or zone, so within one region a task only ever needs its best
/// candidate: the lowest (preference rank, hourly cost). Each task is cut down to those per-region options
/// before any search (90,000 catalog rows become a few hundred regions). With a budget, a cheaper candidate of a
/// worse rank in the same region can be the only one that fits, so then each region keeps its Pareto front of
/// (rank, hourly cost). Costs stay exact decimals here; the CP-SAT model scales them itself.
/// </summary>
internal sealed class SearchSpace
{
    private const decimal MillisecondsPerHour = 3_600_000m;
    // GB (10^9 bytes) x 8 bits x 1,000 ms per second: ms = GB x this / (bit/s).
    private const decimal BitMillisecondsPerGb = 8_000_000_000_000m;

    private readonly Dictionary<(string Provider, string Region), int> locationIds = new(LocationComparer.Instance);
    private readonly List<EgressTiers> tiersById = [];
    private readonly Dictionary<EgressTiers, int> tierIds = new(ReferenceEqualityComparer.Instance);
    private int[] pairTiers = [];      // -2 not looked up, -1 no price, else tiers id
    private bool[] pairCovered = [];   // a peering agreement covers the pair
    private long[] pairRate = [];      // 0 not looked up, -1 no estimate, else bit/s
    private int pairWidth;

    private SearchSpace(PlacementProblem problem, int[] order)
    {
        Problem = problem;
        Order = order;
        var n = problem.Tasks.Count;
        In = new List<int>[n];
        Out = new List<int>[n];
        for (var t = 0; t < n; t++) (In[t], Out[t]) = ([], []);
        for (var e = 0; e < problem.Edges.Count; e++)
        {
            Out[problem.Edges[e].From].Add(e);
            In[problem.Edges[e].To].Add(e);
        }
        DurationMs = new long[n];
        for (var t = 0; t < n; t++) DurationMs[t] = (long)decimal.Ceiling(problem.Tasks[t].DurationHours * MillisecondsPerHour);
        NeedsTime = problem.NeedsTime;
        Tasks = [];
        Edges = [];
    }

    public PlacementProblem Problem { get; }
    /// <summary>Tasks in a topological order.</summary>
    public int[] Order { get; }
    /// <summary>Edge indices into and out of each task.</summary>
    public List<int>[] In { get; }
    public List<int>[] Out { get; }
    /// <summary>Run time of each task in whole milliseconds (rounded up): the optimizer's unit of time.</summary>
    public long[] DurationMs { get; }
    public bool NeedsTime { get; }
    /// <summary>True when some task's options differ in preference rank.</summary>
    public bool HasRanks { get; private set; }
    public TaskSpace[] Tasks { get; private set; }
    public EdgeSpace[] Edges { get; private set; }
    public List<(string Provider, string Region)> Locations { get; } = [];

    /// <summary>
    /// Builds the space. <paramref name="withOptions"/> false skips the per-region reduction and the edge tables
    /// (a single task is scanned directly).
    /// </summary>
    public static SearchSpace Build(PlacementProblem problem, int[] order, bool withOptions = true)
    {
        var space = new SearchSpace(problem, order);
        if (!withOptions) return space;
        var keepFronts = problem.MaxHourlyCost is not null || problem.MaxJobCost is not null;
        space.Tasks = [.. problem.Tasks.Select(t => space.Reduce(t, keepFronts))];
        space.HasRanks = space.Tasks.Any(t => t.HasRanks);
        space.pairWidth = space.Locations.Count;
        var pairs = space.pairWidth * space.pairWidth;
        space.pairTiers = new int[pairs];
        Array.Fill(space.pairTiers, -2);
        space.pairCovered = new bool[pairs];
        space.pairRate = new long[pairs];
        space.Edges = new EdgeSpace[problem.Edges.Count];
        for (var e = 0; e < problem.Edges.Count; e++) space.Edges[e] = space.BuildEdge(e);
        return space;
    }

    /// <summary>"provider/region" of a global location id.</summary>
    public string LocationName(int location) => $"{Locations[location].Provider}/{Locations[location].Region}";

    private TaskSpace Reduce(PlacementTask task, bool keepFronts)
    {
        var candidates = task.Candidates;
        var localOf = new Dictionary<int, int>();
        var locations = new List<int>();
        var candidateLocation = new int[candidates.Count];
        var counts = new List<int>();
        for (var i = 0; i < candidates.Count; i++)
        {
            var global = Intern(candidates[i].Provider, candidates[i].Region);
            if (!localOf.TryGetValue(global, out var local))
            {
                local = locations.Count;
                localOf.Add(global, local);
                locations.Add(global);
                counts.Add(0);
            }
            candidateLocation[i] = local;
            counts[local]++;
        }

        // Bucket candidates by location (counting sort), then keep each bucket's best or its Pareto front.
        var start = new int[locations.Count + 1];
        for (var l = 0; l < locations.Count; l++) start[l + 1] = start[l] + counts[l];
        var fill = (int[])start.Clone();
        var bucketed = new int[candidates.Count];
        for (var i = 0; i < candidates.Count; i++) bucketed[fill[candidateLocation[i]]++] = i;

        var options = new List<int>();
        var comparer = new CandidateOrder(candidates);
        for (var l = 0; l < locations.Count; l++)
        {
            if (!keepFronts)
            {
                var best = bucketed[start[l]];
                for (var k = start[l] + 1; k < start[l + 1]; k++)
                    if (comparer.Compare(bucketed[k], best) < 0) best = bucketed[k];
                options.Add(best);
                continue;
            }
            Array.Sort(bucketed, start[l], start[l + 1] - start[l], comparer);
            var cheapest = decimal.MaxValue;
            for (var k = start[l]; k < start[l + 1]; k++)
            {
                var c = candidates[bucketed[k]];
                if (c.HourlyCost >= cheapest) continue;
                options.Add(bucketed[k]);
                cheapest = c.HourlyCost;
            }
        }

        var count = options.Count;
        var space = new TaskSpace
        {
            Locations = [.. locations],
            CandidateLocation = candidateLocation,
            Option = [.. options],
            OptionLocation = new int[count],
            Rank = new int[count],
            Hourly = new decimal[count],
            Compute = new decimal[count],
        };
        for (var o = 0; o < count; o++)
        {
            var c = candidates[options[o]];
            space.OptionLocation[o] = candidateLocation[options[o]];
            space.Rank[o] = c.PreferenceRank;
            space.Hourly[o] = c.HourlyCost;
            space.Compute[o] = c.HourlyCost * task.DurationHours;
        }
        for (var o = 1; o < count && !space.HasRanks; o++) space.HasRanks = space.Rank[o] != space.Rank[0];
        return space;
    }

    private int Intern(string provider, string region)
    {
        if (locationIds.TryGetValue((provider, region), out var id)) return id;
        id = Locations.Count;
        Locations.Add((provider, region));
        locationIds.Add((provider, region), id);
        return id;
    }

    private EdgeSpace BuildEdge(int index)
    {
        var edge = Problem.Edges[index];
        var src = Tasks[edge.From];
        var dst = Tasks[edge.To];
        var width = dst.Locations.Length;
        var size = src.Locations.Length * width;
        var space = new EdgeSpace
        {
            Index = index,
            Edge = edge,
            Width = width,
            Cost = new decimal[size],
            Priced = new bool[size],
            Ms = NeedsTime ? new long[size] : null,
        };
        if (edge.Gb == 0)
        {
            // A pure dependency: no data, so no egress to price and no transfer time.
            Array.Fill(space.Priced, true);
            return space;
        }

        for (var a = 0; a < src.Locations.Length; a++)
            for (var b = 0; b < width; b++)
                PairTiers(src.Locations[a], dst.Locations[b]);
        var costByTiers = new decimal[tiersById.Count];
        var known = new bool[tiersById.Count];
        var adjuster = Problem.Egress.Adjuster;
        for (var a = 0; a < src.Locations.Length; a++)
            for (var b = 0; b < width; b++)
            {
                var cell = a * width + b;
                var (from, to) = (src.Locations[a], dst.Locations[b]);
                var pair = from * pairWidth + to;
                var tiers = pairTiers[pair];
                if (tiers >= 0)
                {
                    if (!known[tiers])
                    {
                        costByTiers[tiers] = tiersById[tiers].Cost(edge.Gb);
                        known[tiers] = true;
                    }
                    var cost = costByTiers[tiers];
                    if (pairCovered[pair])
                    {
                        var (sp, sr) = Locations[from];
                        var (dp, dr) = Locations[to];
                        cost = EgressPricer.Adjust(adjuster!, new EgressCharge(sp, sr, dp, dr, edge.Gb, 0m, tiersById[tiers], cost));
                    }
                    space.Cost[cell] = cost;
                    space.Priced[cell] = true;
                }
                if (space.Ms is not null) space.Ms[cell] = TransferMs(from, to, edge.Gb) ?? -1;
            }
        return space;
    }

    private int PairTiers(int from, int to)
    {
        var pair = from * pairWidth + to;
        if (pairTiers[pair] != -2) return pairTiers[pair];
        var (sp, sr) = Locations[from];
        var (dp, dr) = Locations[to];
        var rate = Problem.Egress.Grid.Lookup(sp, sr, dp, dr);
        if (rate.Tiers is null)
        {
            pairTiers[pair] = -1;
            return -1;
        }
        if (!tierIds.TryGetValue(rate.Tiers, out var id))
        {
            id = tiersById.Count;
            tiersById.Add(rate.Tiers);
            tierIds.Add(rate.Tiers, id);
        }
        pairTiers[pair] = id;
        pairCovered[pair] = Problem.Egress.Adjuster?.Covers(sp, sr, dp, dr) ?? false;
        return id;
    }

    /// <summary>Transfer time of <paramref name="gb"/> GB between two global locations in whole ms (rounded up), or null when unknown.</summary>
    public long? TransferMs(int from, int to, decimal gb)
    {
        if (gb == 0) return 0;
        var pair = from * pairWidth + to;
        if (pairRate[pair] == 0)
        {
            var (sp, sr) = Locations[from];
            var (dp, dr) = Locations[to];
            pairRate[pair] = Problem.Throughput.BitsPerSecond(sp, sr, dp, dr) ?? -1;
        }
        var rate = pairRate[pair];
        if (rate < 0) return null;
        // bit-milliseconds / (bit/s), rounded up; integer division when the volume allows (it is in a loop over region pairs).
        var work = gb * BitMillisecondsPerGb;
        return work <= long.MaxValue && work == decimal.Truncate(work)
            ? ((long)work + rate - 1) / rate
            : (long)decimal.Ceiling(work / rate);
    }

    /// <summary>Transfer ms of an edge between local locations, or null when unknown.</summary>
    public long? EdgeMs(EdgeSpace edge, int a, int b)
    {
        if (edge.Ms is not null)
        {
            var ms = edge.Ms[a * edge.Width + b];
            return ms < 0 ? null : ms;
        }
        return TransferMs(Tasks[edge.Edge.From].Locations[a], Tasks[edge.Edge.To].Locations[b], edge.Edge.Gb);
    }

    /// <summary>
    /// Makespan in ms of tasks placed at the given local locations, or null when a transfer has no estimate.
    /// <paramref name="moved"/>/<paramref name="movedTo"/> override one task's location (for alternatives).
    /// </summary>
    public long? Makespan(int[] locationOf, long[] finish, int moved = -1, int movedTo = -1)
    {
        long makespan = 0;
        foreach (var t in Order)
        {
            long start = 0;
            foreach (var e in In[t])
            {
                var edge = Edges[e];
                var from = edge.Edge.From;
                var a = from == moved ? movedTo : locationOf[from];
                var b = t == moved ? movedTo : locationOf[t];
                if (EdgeMs(edge, a, b) is not { } ms) return null;
                start = Math.Max(start, finish[from] + ms);
            }
            finish[t] = start + DurationMs[t];
            makespan = Math.Max(makespan, finish[t]);
        }
        return makespan;
    }

    /// <summary>Evaluates options chosen per task: exact totals, or null when an edge is unpriced (or, when time matters, has no estimate).</summary>
    public Evaluation? Evaluate(int[] option)
    {
        var rank = 0L;
        decimal hourly = 0, cost = 0;
        var locationOf = new int[Tasks.Length];
        for (var t = 0; t < Tasks.Length; t++)
        {
            var o = option[t];
            rank += Tasks[t].Rank[o];
            hourly += Tasks[t].Hourly[o];
            cost += Tasks[t].Compute[o];
            locationOf[t] = Tasks[t].OptionLocation[o];
        }
        foreach (var edge in Edges)
        {
            var cell = locationOf[edge.Edge.From] * edge.Width + locationOf[edge.Edge.To];
            if (!edge.Priced[cell]) return null;
            cost += edge.Cost[cell];
        }
        var makespan = Makespan(locationOf, new long[Tasks.Length]);
        if (NeedsTime && makespan is null) return null;
        return new Evaluation(rank, hourly, cost, makespan);
    }

    /// <summary>True when the evaluation meets every hard limit exactly.</summary>
    public bool Meets(Evaluation evaluation) =>
        !(Problem.MaxHourlyCost is { } perHour && evaluation.Hourly > perHour)
        && !(Problem.MaxJobCost is { } perJob && evaluation.Cost > perJob)
        && !(Problem.Deadline is { } deadline && (evaluation.MakespanMs is not { } ms || ms * TimeSpan.TicksPerMillisecond > deadline.Ticks));

    /// <summary>The score a plan is ranked by under the problem's objective (lower is better).</summary>
    public Score ScoreOf(Evaluation evaluation) =>
        new(evaluation.Rank, Problem.Objective == PlacementObjective.Time ? evaluation.MakespanMs ?? long.MaxValue : 0, evaluation.Cost);

    /// <summary>Candidate order within a region: preference rank, then hourly cost, then input order.</summary>
    private readonly struct CandidateOrder(IReadOnlyList<Candidate> candidates) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            var (a, b) = (candidates[x], candidates[y]);
            var c = a.PreferenceRank.CompareTo(b.PreferenceRank);
            if (c == 0) c = a.HourlyCost.CompareTo(b.HourlyCost);
            return c != 0 ? c : x.CompareTo(y);
        }
    }

    private sealed class LocationComparer : IEqualityComparer<(string Provider, string Region)>
    {
        public static readonly LocationComparer Instance = new();

        public bool Equals((string Provider, string Region) x, (string Provider, string Region) y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x.Provider, y.Provider) && StringComparer.OrdinalIgnoreCase.Equals(x.Region, y.Region);

        public int GetHashCode((string Provider, string Region) key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Provider), StringComparer.OrdinalIgnoreCase.GetHashCode(key.Region));
    }
}

/// <summary>One task's per-region options (see <see cref="SearchSpace"/>).</summary>
internal sealed class TaskSpace
{
    /// <summary>Global location id of each local location.</summary>
    public required int[] Locations { get; init; }
    /// <summary>Local location of every candidate of the task.</summary>
    public required int[] CandidateLocation { get; init; }
    /// <summary>Candidate index of each option.</summary>
    public required int[] Option { get; init; }
    public required int[] OptionLocation { get; init; }
    public required int[] Rank { get; init; }
    public required decimal[] Hourly { get; init; }
    /// <summary>Hourly cost x the task's hours, exact.</summary>
    public required decimal[] Compute { get; init; }
    public bool HasRanks { get; set; }
}

/// <summary>One edge's egress cost and transfer time for every pair of its tasks' local locations ([a * Width + b]).</summary>
internal sealed class EdgeSpace
{
    public required int Index { get; init; }
    public required TaskEdge Edge { get; init; }
    /// <summary>Local locations of the destination task.</summary>
    public required int Width { get; init; }
    public required decimal[] Cost { get; init; }
    public required bool[] Priced { get; init; }
    /// <summary>Transfer ms, -1 when unknown; null when time does not matter (computed on demand instead).</summary>
    public required long[]? Ms { get; init; }
}

/// <summary>Exact totals of one assignment.</summary>
internal readonly record struct Evaluation(long Rank, decimal Hourly, decimal Cost, long? MakespanMs);

/// <summary>Lexicographic plan score: preference ranks, then makespan (Time objective only, else 0), then cost.</summary>
internal readonly record struct Score(long Rank, long Ms, decimal Cost) : IComparable<Score>
{
    public int CompareTo(Score other)
    {
        var c = Rank.CompareTo(other.Rank);
        if (c == 0) c = Ms.CompareTo(other.Ms);
        return c != 0 ? c : Cost.CompareTo(other.Cost);
    }

    public static bool operator <(Score a, Score b) => a.CompareTo(b) < 0;
    public static bool operator >(Score a, Score b) => a.CompareTo(b) > 0;
}
