using System.Diagnostics;
using Sky.Directory.Catalog;
using Sky.Directory.Domain;
using Sky.Transfer.Planning;

namespace Sky.Bench;

/// <summary>
/// Transfer planning on Skyplane's measured grids (../shared/anchors/skyplane: 63 regions, 3,907 measured pairs) with
/// gateway prices from SkyPilot's catalogs (Skyplane's instance types, cheapest zone per region): for a few region
/// pairs, the plan time of every goal (median of 5 after a warm-up; the deadline and budget halfway between the
/// cheapest and the fastest plan), the plans' throughput and cost, and the direct route's beside them. In process,
/// the planner alone.
/// </summary>
public static class TransferPlanBench
{
    private const long Bytes = 1_000_000_000_000;
    private const int Runs = 5;

    /// <summary>Neighbours, a long haul, and pairs whose direct path the grid measured slow.</summary>
    private static readonly (string From, string To)[] Pairs =
    [
        ("aws/us-east-1", "gcp/us-east1"),
        ("aws/us-east-1", "gcp/asia-southeast1"),
        ("azure/eastus", "aws/ap-southeast-2"),
        ("aws/ap-northeast-2", "gcp/us-central1"),
        ("gcp/europe-west4", "azure/westus2"),
    ];

    public static Task RunAsync(Figures figures, TimeSpan duration)
    {
        var shared = SharedData.Find("");
        if (shared is null)
        {
            Console.WriteLine("transfer-plan: ../shared is absent (Skyplane's grids); nothing to measure");
            figures.Add("skipped", "../shared absent");
            return Task.CompletedTask;
        }
        var load = Stopwatch.StartNew();
        var skyplane = Path.Combine(shared, "anchors", "skyplane");
        using var throughput = File.OpenText(Path.Combine(skyplane, "throughput.csv"));
        using var cost = File.OpenText(Path.Combine(skyplane, "cost.csv"));
        var network = TransferNetwork.From(SkyplaneGrids.ReadThroughput(throughput), SkyplaneGrids.ReadCost(cost));
        figures.Add("grid_load_ms", load.Elapsed.TotalMilliseconds, 0);
        figures.Add("grid_regions", network.Regions.Count, 0);
        figures.Add("grid_pairs", network.Throughput.Count, 0);
        var (offers, source) = GatewayOffers(shared);
        figures.Add("gateway_prices", source);

        var planner = new TransferPlanner();
        var all = new List<double>();
        foreach (var (from, to) in Pairs)
        {
            var name = $"{from}_{to}".Replace('/', '_').Replace('-', '_');
            var request = new TransferPlanRequest { Source = Parse(from), Destination = Parse(to), Bytes = Bytes };
            planner.Plan(request, network, offers); // warm: the solver's native library, the JIT
            var cheapest = Measure(figures, all, $"{name}_cheapest", planner, request, network, offers);
            var fastest = Measure(figures, all, $"{name}_fastest", planner, request with { Goal = PlanGoal.Fastest }, network, offers);
            var deadline = TimeSpan.FromSeconds(Math.Ceiling((cheapest.Plan.Duration + fastest.Plan.Duration).TotalSeconds / 2));
            Measure(figures, all, $"{name}_deadline", planner, request with { Goal = PlanGoal.CheapestByDeadline, Deadline = deadline }, network, offers);
            var budget = decimal.Round((cheapest.Plan.TotalCost + fastest.Plan.TotalCost) / 2, 2);
            Measure(figures, all, $"{name}_budget", planner, request with { Goal = PlanGoal.FastestUnderBudget, Budget = budget }, network, offers);
            if (fastest.Direct is { } direct)
            {
                figures.Add($"{name}_direct_gbps", direct.ThroughputBps / 1e9, 3);
                figures.Add($"{name}_direct_usd", (double)direct.TotalCost, 2);
            }
            figures.Add($"{name}_relays_considered", fastest.RelaysConsidered.Count, 0);
        }
        all.Sort();
        figures.Add("plan_p50_ms", all[all.Count / 2], 1);
        figures.Add("plan_max_ms", all[^1], 1);
        figures.Add("plans", all.Count, 0);
        return Task.CompletedTask;
    }

    /// <summary>Plans <paramref name="request"/> <see cref="Runs"/> times; records the median time and the plan.</summary>
    private static TransferPlanResult Measure(Figures figures, List<double> all, string name, TransferPlanner planner,
        TransferPlanRequest request, TransferNetwork network, GatewayOffers offers)
    {
        var runs = new List<(double Ms, TransferPlanResult Result)>();
        for (var i = 0; i < Runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var result = planner.Plan(request, network, offers);
            runs.Add((Stopwatch.GetElapsedTime(started).TotalMilliseconds, result));
        }
        runs.Sort((a, b) => a.Ms.CompareTo(b.Ms));
        var (ms, median) = runs[runs.Count / 2];
        all.Add(ms);
        var plan = median.Plan;
        figures.Add($"{name}_ms", ms, 1);
        figures.Add($"{name}_gbps", plan.ThroughputBps / 1e9, 3);
        figures.Add($"{name}_minutes", plan.Duration.TotalMinutes, 2);
        figures.Add($"{name}_usd", (double)plan.TotalCost, 2);
        figures.Add($"{name}_routes", string.Join("; ", plan.Routes.Select(r => $"{string.Join(">", r.Hops)} {r.ThroughputBps / 1e9:0.##}G")));
        figures.Add($"{name}_optimal", plan.Optimal ? "yes" : "no");
        return median;
    }

    /// <summary>
    /// Gateway offers at SkyPilot's on-demand prices (Skyplane's instance types, the cheapest zone of each region); one
    /// list price per provider when the catalogs are absent.
    /// </summary>
    private static (GatewayOffers Offers, string Source) GatewayOffers(string shared)
    {
        var prices = new Dictionary<(string, string), GatewayOffer>();
        foreach (var provider in new[] { "aws", "gcp", "azure" })
        {
            var file = Path.Combine(shared, "catalogs", "skypilot", provider, "vms.csv");
            if (!File.Exists(file)) continue;
            using var csv = File.OpenText(file);
            var type = GatewayInstanceTypes.For(provider)!;
            foreach (var offer in SkyPilotCatalog.Read(csv, provider).Offers)
            {
                if (offer.InstanceType != type || offer.Price?.OnDemandHourly is not { } money) continue;
                var key = (provider, offer.Location.Region);
                var hourly = money.ToDecimal();
                if (!prices.TryGetValue(key, out var known) || hourly < known.HourlyPrice)
                    prices[key] = new GatewayOffer(type, OfferIds.For(provider, offer.Key), hourly);
            }
        }
        if (prices.Count > 0)
            return ((provider, region) => prices.GetValueOrDefault((provider, region)), $"SkyPilot catalogs, {prices.Count} regions");
        return ((provider, region) => GatewayInstanceTypes.For(provider) is { } type ? new GatewayOffer(type, $"{provider}-{region}", 1.536m) : null,
            "one list price, 1.536/h (catalogs absent)");
    }

    private static CloudRegion Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return new CloudRegion(text[..slash], text[(slash + 1)..]);
    }
}
