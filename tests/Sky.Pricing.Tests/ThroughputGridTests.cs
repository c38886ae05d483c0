using Sky.Directory.Catalog;
using Sky.Testing;
using static Sky.Pricing.Tests.Grids;

namespace Sky.Pricing.Tests;

public sealed class ThroughputGridTests
{
    [Fact]
    public void Transfer_time_is_bytes_times_eight_over_the_measured_rate()
    {
        var grid = new ThroughputGrid([Rate("aws/us-east-1", "gcp/us-central1", 4_000_000_000)]);
        // 500 GB = 4e12 bits at 4e9 bit/s = 1,000 s.
        Assert.Equal(TimeSpan.FromSeconds(1_000), grid.TransferTime("aws", "us-east-1", "gcp", "us-central1", 500_000_000_000m));
        Assert.Equal(4_000_000_000, grid.BitsPerSecond("AWS", "US-EAST-1", "gcp", "us-central1"));
    }

    [Fact]
    public void The_same_region_uses_the_intra_region_rate_and_unknown_pairs_the_fallback_or_nothing()
    {
        var grid = new ThroughputGrid([], intraRegionBitsPerSecond: 8_000_000_000);
        Assert.Equal(TimeSpan.FromSeconds(1), grid.TransferTime("gcp", "us-central1", "gcp", "us-central1", 1_000_000_000m));
        Assert.Null(grid.TransferTime("gcp", "us-central1", "aws", "us-east-1", 1m));
        // Directional: a measurement of a -> b says nothing of b -> a.
        var measured = new ThroughputGrid([Rate("aws/a", "aws/b", 1_000)], fallbackBitsPerSecond: 500);
        Assert.Equal(1_000, measured.BitsPerSecond("aws", "a", "aws", "b"));
        Assert.Equal(500, measured.BitsPerSecond("aws", "b", "aws", "a"));
    }

    [Fact]
    public void Several_zone_measurements_of_one_region_pair_keep_the_slowest()
    {
        var grid = new ThroughputGrid([Rate("gcp/us-central1", "aws/us-east-1", 9_000), Rate("gcp/us-central1", "aws/us-east-1", 6_000)]);
        Assert.Equal(6_000, grid.BitsPerSecond("gcp", "us-central1", "aws", "us-east-1"));
        Assert.Equal(1, grid.Count);
    }

    [Fact]
    public void Times_round_up_to_the_tick_never_down()
    {
        // 1 byte at 3 bit/s = 2.666... s.
        Assert.Equal(TimeSpan.FromTicks(26_666_667), ThroughputGrid.TransferTime(1m, 3));
        Assert.Equal(TimeSpan.Zero, ThroughputGrid.TransferTime(0m, 3));
    }

    [Fact]
    public void Bad_entries_and_rates_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ThroughputGrid([Rate("aws/a", "aws", 5)]));
        Assert.Contains("throughput entry 0: src and dst provider and region are required", e.Message);
        e = Assert.Throws<ArgumentException>(() => new ThroughputGrid([Rate("aws/a", "aws/b", 0)]));
        Assert.Contains("bits_per_second must be > 0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThroughputGrid([], intraRegionBitsPerSecond: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThroughputGrid([], fallbackBitsPerSecond: -1));
    }

    [SkippableFact]
    public void Skyplanes_measured_grid_loads()
    {
        using var reader = new StreamReader(SharedData.Require("anchors/skyplane/throughput.csv"));
        var grid = new ThroughputGrid(SkyplaneGrids.ReadThroughput(reader));
        Assert.True(grid.Count > 1_000, $"only {grid.Count} region pairs");
        var rate = grid.BitsPerSecond("aws", "us-east-1", "aws", "us-west-2");
        Assert.NotNull(rate);
        Assert.InRange(rate.Value, 100_000_000, 100_000_000_000);
    }
}
