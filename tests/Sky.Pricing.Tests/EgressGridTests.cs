using Sky.Directory.Catalog;
using static Sky.Pricing.Tests.Grids;

namespace Sky.Pricing.Tests;

/// <summary>The lookup precedence of <see cref="EgressGrid"/>: exact pair, any region of the provider, same region free, internet, none.</summary>
public sealed class EgressGridTests
{
    private static readonly (long, decimal)[] Internet = [(10_240, 0.09m), (51_200, 0.085m), (153_600, 0.07m), (0, 0.05m)];

    private static EgressGrid Sample() => new(
    [
        Egress("aws/us-east-1", "aws", (0, 0.02m)),
        Egress("aws/us-east-1", "aws/us-west-2", (0, 0.015m)),
        Egress("aws/us-east-1", "internet", Internet),
        Egress("aws/us-east-1", "gcp", (0, 0.11m)),
        Egress("gcp/us-central1", "gcp/europe-west4", (0, 0.05m)),
    ]);

    [Fact]
    public void An_exact_pair_wins_over_the_any_region_entry()
    {
        var rate = Sample().Lookup("aws", "us-east-1", "aws", "us-west-2");
        Assert.Equal(EgressMatch.ExactPair, rate.Match);
        Assert.Equal(EgressTiers.Flat(0.015m), rate.Tiers);
    }

    [Fact]
    public void Without_an_exact_pair_the_any_region_entry_of_the_destination_provider_applies()
    {
        var rate = Sample().Lookup("aws", "us-east-1", "aws", "eu-west-1");
        Assert.Equal(EgressMatch.AnyRegionOfProvider, rate.Match);
        Assert.Equal(20m, rate.Tiers!.Cost(1_000m));

        rate = Sample().Lookup("aws", "us-east-1", "gcp", "us-central1");
        Assert.Equal(EgressMatch.AnyRegionOfProvider, rate.Match);
        Assert.Equal(EgressTiers.Flat(0.11m), rate.Tiers);
    }

    [Fact]
    public void The_same_region_is_free_when_no_entry_prices_it_but_an_entry_wins()
    {
        var grid = Sample();
        var free = grid.Lookup("gcp", "us-central1", "gcp", "us-central1");
        Assert.Equal(EgressMatch.SameRegion, free.Match);
        Assert.Equal(0m, free.Tiers!.Cost(500m));

        // aws/us-east-1 has an any-region entry for aws, which also covers its own region: the entry is more specific than the rule.
        Assert.Equal(EgressMatch.AnyRegionOfProvider, grid.Lookup("aws", "us-east-1", "aws", "us-east-1").Match);
        // A region the grid has never heard of is still free to itself.
        Assert.Equal(EgressMatch.SameRegion, grid.Lookup("lambda", "us-west-1", "lambda", "us-west-1").Match);
    }

    [Fact]
    public void Another_provider_without_an_entry_pays_the_internet_tiers()
    {
        var rate = Sample().Lookup("aws", "us-east-1", "azure", "eastus");
        Assert.Equal(EgressMatch.Internet, rate.Match);
        Assert.Equal(921.60m, rate.Tiers!.Cost(10_240m));
    }

    [Fact]
    public void Nothing_applicable_is_no_price_not_zero()
    {
        var grid = Sample();
        // Same provider, another region, no entry: the internet fallback is for other providers only.
        var rate = grid.Lookup("gcp", "us-central1", "gcp", "asia-east1");
        Assert.Equal(EgressMatch.None, rate.Match);
        Assert.False(rate.HasPrice);
        Assert.Null(rate.Tiers);
        // A source with no entries at all.
        Assert.False(grid.Lookup("lambda", "us-west-1", "aws", "us-east-1").HasPrice);
        // gcp/us-central1 has no internet entry.
        Assert.False(grid.Lookup("gcp", "us-central1", "azure", "eastus").HasPrice);
    }

    [Fact]
    public void Names_match_in_any_case_and_a_later_entry_replaces_an_earlier_one()
    {
        var grid = new EgressGrid([Egress("aws/us-east-1", "gcp", (0, 0.11m)), Egress("AWS/US-EAST-1", "gcp", (0, 0.12m))]);
        Assert.Equal(1, grid.Count);
        Assert.Equal(EgressTiers.Flat(0.12m), grid.Lookup("Aws", "us-East-1", "GCP", "x").Tiers);
    }

    [Fact]
    public void Equal_tiers_are_shared()
    {
        var grid = new EgressGrid([Egress("aws/a", "gcp", Internet), Egress("aws/b", "gcp", Internet), Egress("aws/a", "azure", (0, 0.02m))]);
        Assert.Equal(2, grid.DistinctTiers.Count);
        Assert.Same(grid.Lookup("aws", "a", "gcp", "x").Tiers, grid.Lookup("aws", "b", "gcp", "y").Tiers);
    }

    [Fact]
    public void Bad_entries_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new EgressGrid([Egress("aws/a", "gcp", (0, 0.1m)), Egress("aws/a", "gcp/x", (100, 0.1m))]));
        Assert.Contains("egress entry 1 (aws/a -> gcp/x): egress tiers: the last tier must be unbounded", e.Message);
        e = Assert.Throws<ArgumentException>(() => new EgressGrid([Egress("aws", "gcp", (0, 0.1m))]));
        Assert.Contains("egress entry 0: src provider and region are required", e.Message);
        e = Assert.Throws<ArgumentException>(() => new EgressGrid([Egress("aws/a", "", (0, 0.1m))]));
        Assert.Contains("egress entry 0: dst provider is required", e.Message);
    }

    [Fact]
    public void Lookups_allocate_nothing()
    {
        var grid = Sample();
        string[] dst = ["aws", "us-west-2", "gcp", "us-central1", "azure", "eastus", "gcp", "asia-east1"];
        grid.Lookup("aws", "us-east-1", "aws", "us-west-2");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var priced = 0;
        for (var i = 0; i < 10_000; i++)
            if (grid.Lookup("aws", "us-east-1", dst[i % 4 * 2], dst[i % 4 * 2 + 1]).HasPrice) priced++;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, priced);
    }

    [Fact]
    public void The_built_in_grid_prices_the_10_tb_edge_right()
    {
        var grid = new EgressGrid(BuiltinCatalog.EgressPrices);
        var toGcp = grid.Lookup("aws", "us-east-1", "gcp", "us-central1");
        Assert.True(toGcp.HasPrice);
        Assert.Equal(10_240m * 0.09m, toGcp.Tiers!.Cost(10_240m));
        Assert.Equal(10_240m * 0.09m + 0.085m, toGcp.Tiers.Cost(10_241m));
        Assert.Equal(0m, grid.Lookup("gcp", "us-central1", "gcp", "us-central1").Tiers!.Cost(10_000m));
    }
}
