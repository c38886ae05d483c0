using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Placement.Optimizer;
using Sky.Pricing;

namespace Sky.Placement.Tests.Optimizer;

/// <summary>Small builders for placement problems in tests.</summary>
internal static class Problems
{
    /// <summary>A candidate at "provider/region" (or "provider/region/zone").</summary>
    public static Candidate At(string location, decimal hourly, int rank = 0, string instance = "m5.large", string? offer = null)
    {
        var parts = location.Split('/');
        return new Candidate
        {
            OfferId = offer ?? $"{location}:{instance}:{hourly}",
            Provider = parts[0],
            Region = parts[1],
            Zone = parts.Length > 2 ? parts[2] : null,
            InstanceType = instance,
            HourlyCost = hourly,
            PreferenceRank = rank,
        };
    }

    public static PlacementTask Task(int index, params Candidate[] candidates) => new(index, $"t{index}", 1m, candidates);

    public static PlacementTask Task(int index, decimal hours, params Candidate[] candidates) => new(index, $"t{index}", hours, candidates);

    public static EgressPrice Egress(string src, string dst, params (long UpToGb, decimal Price)[] tiers)
    {
        var entry = new EgressPrice { Src = Location(src), Dst = Location(dst) };
        entry.Tiers.AddRange(tiers.Select(t => new EgressTier { UpToGb = t.UpToGb, PricePerGb = Money.FromDecimal(t.Price, "USD") }));
        return entry;
    }

    public static Throughput Rate(string src, string dst, long bitsPerSecond) =>
        new() { Src = Location(src), Dst = Location(dst), BitsPerSecond = bitsPerSecond };

    public static Location Location(string text)
    {
        var parts = text.Split('/');
        return new Location { Provider = parts[0], Region = parts.Length > 1 ? parts[1] : "" };
    }

    /// <summary>AWS's internet tiers (10 TB / 40 TB / 100 TB / beyond).</summary>
    public static readonly (long, decimal)[] AwsInternet = [(10_240, 0.09m), (51_200, 0.085m), (153_600, 0.07m), (0, 0.05m)];

    /// <summary>
    /// Two providers, two regions each, priced like the built-in grid: free within a region, 0.02/GB between AWS regions,
    /// 0.01 or 0.05 between GCP regions, internet tiers across providers.
    /// </summary>
    public static EgressGrid TwoClouds() => new(
    [
        Egress("aws/us-east-1", "aws/us-east-1", (0, 0m)),
        Egress("aws/us-west-2", "aws/us-west-2", (0, 0m)),
        Egress("aws/us-east-1", "aws", (0, 0.02m)),
        Egress("aws/us-west-2", "aws", (0, 0.02m)),
        Egress("aws/us-east-1", "internet", AwsInternet),
        Egress("aws/us-west-2", "internet", AwsInternet),
        Egress("gcp/us-central1", "gcp", (0, 0.01m)),
        Egress("gcp/europe-west4", "gcp", (0, 0.05m)),
        Egress("gcp/us-central1", "internet", (1_024, 0.12m), (10_240, 0.11m), (0, 0.08m)),
        Egress("gcp/europe-west4", "internet", (1_024, 0.12m), (10_240, 0.11m), (0, 0.08m)),
    ]);

    public static PlacementProblem Problem(IReadOnlyList<PlacementTask> tasks, IReadOnlyList<TaskEdge>? edges = null, EgressGrid? grid = null,
        ThroughputGrid? throughput = null, IEgressAdjuster? adjuster = null) => new()
    {
        Tasks = tasks,
        Edges = edges ?? [],
        Egress = new EgressPricer(grid ?? TwoClouds(), adjuster),
        Throughput = throughput ?? ThroughputGrid.Empty(fallbackBitsPerSecond: 1_000_000_000),
    };

    /// <summary>"provider/region" of a placement.</summary>
    public static string Where(this TaskPlacement placement) => $"{placement.Chosen.Provider}/{placement.Chosen.Region}";
}
