using Sky.Common.V1;

namespace Sky.Pricing.Tests;

/// <summary>Tiered egress at 0, 1 GB, every tier edge and between them, with volume already used straddling edges.</summary>
public sealed class EgressTiersTests
{
    // AWS's internet egress (aws.amazon.com/ec2/pricing/on-demand): 10 TB / next 40 TB / next 100 TB / beyond.
    internal static readonly EgressTiers Aws = new([new(10_240, 0.09m), new(51_200, 0.085m), new(153_600, 0.07m), new(0, 0.05m)]);

    // GCP premium tier: 0-1 TiB / 1-10 TiB / 10+ TiB.
    private static readonly EgressTiers Gcp = new([new(1_024, 0.12m), new(10_240, 0.11m), new(0, 0.08m)]);

    [Theory]
    [InlineData("0", "0")]
    [InlineData("1", "0.09")]
    [InlineData("1024", "92.16")]
    [InlineData("10239", "921.51")]
    [InlineData("10240", "921.60")]            // SkyPilot's formula gives 0 here
    [InlineData("10240.5", "921.6425")]
    [InlineData("10241", "921.685")]
    [InlineData("20000", "1751.20")]           // 921.60 + 9,760 x 0.085
    [InlineData("51200", "4403.20")]           // 921.60 + 40,960 x 0.085
    [InlineData("51201", "4403.27")]
    [InlineData("100000", "7819.20")]          // 4403.20 + 48,800 x 0.07
    [InlineData("153600", "11571.20")]         // 4403.20 + 102,400 x 0.07
    [InlineData("153601", "11571.25")]
    [InlineData("1000000", "53891.20")]        // 11571.20 + 846,400 x 0.05
    public void Aws_tiers_cost_the_integral_at_and_between_every_edge(string gb, string expected) =>
        Assert.Equal(decimal.Parse(expected), Aws.Cost(decimal.Parse(gb)));

    [Theory]
    [InlineData("1", "0.12")]
    [InlineData("1024", "122.88")]
    [InlineData("1025", "122.99")]
    [InlineData("10240", "1136.64")]           // 122.88 + 9,216 x 0.11
    [InlineData("10241", "1136.72")]
    public void Gcp_tiers_break_at_one_tebibyte(string gb, string expected) =>
        Assert.Equal(decimal.Parse(expected), Gcp.Cost(decimal.Parse(gb)));

    [Theory]
    [InlineData("2", "10239", "0.175")]        // 1 GB at 0.09, 1 GB at 0.085
    [InlineData("41000", "10200", "3485.20")]  // 40 x 0.09 + 40,960 x 0.085: ends exactly on the 51,200 edge
    [InlineData("1", "10240", "0.085")]        // starts exactly on an edge: the next tier's price
    [InlineData("200000", "10240", "13481.60")] // 40,960 x 0.085 + 102,400 x 0.07 + 56,640 x 0.05
    [InlineData("10", "200000", "0.50")]       // past every bound
    [InlineData("0", "51200", "0")]
    public void Volume_already_used_moves_the_transfer_up_the_tiers(string gb, string used, string expected) =>
        Assert.Equal(decimal.Parse(expected), Aws.Cost(decimal.Parse(gb), decimal.Parse(used)));

    [Fact]
    public void A_flat_price_is_volume_times_price_and_free_is_zero()
    {
        Assert.Equal(12.5m, EgressTiers.Flat(0.02m).Cost(625m));
        Assert.Equal(0m, EgressTiers.Free.Cost(1_000_000m, 5m));
        Assert.True(EgressTiers.Flat(0.02m).IsFlat);
        Assert.False(Aws.IsFlat);
    }

    [Fact]
    public void Negative_volumes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Aws.Cost(-1m));
        Assert.Throws<ArgumentOutOfRangeException>(() => Aws.Cost(1m, -0.5m));
    }

    [Theory]
    [InlineData(new long[0], new double[0], "at least one tier")]
    [InlineData(new long[] { 100 }, new[] { 0.1 }, "last tier must be unbounded")]
    [InlineData(new long[] { 100, 50, 0 }, new[] { 0.1, 0.1, 0.1 }, "tier 1 up_to_gb 50 must be above tier 0's 100")]
    [InlineData(new long[] { 100, 100, 0 }, new[] { 0.1, 0.1, 0.1 }, "tier 1 up_to_gb 100 must be above")]
    [InlineData(new long[] { 0, 100 }, new[] { 0.1, 0.1 }, "tier 0 is unbounded")]
    [InlineData(new long[] { -5, 0 }, new[] { 0.1, 0.1 }, "tier 0 up_to_gb -5 is negative")]
    [InlineData(new long[] { 100, 0 }, new[] { 0.1, -0.1 }, "tier 1 price per GB -0.1 is negative")]
    public void Invalid_tiers_say_what_is_wrong(long[] bounds, double[] prices, string message)
    {
        var bands = bounds.Select((b, i) => new EgressBand(b, (decimal)prices[i]));
        var e = Assert.Throws<ArgumentException>(() => new EgressTiers(bands));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Proto_tiers_convert_exactly_and_check_the_currency()
    {
        var tiers = EgressTiers.FromProto(
        [
            new Sky.Directory.V1.EgressTier { UpToGb = 10_240, PricePerGb = Money.FromDecimal(0.09m, "USD") },
            new Sky.Directory.V1.EgressTier { UpToGb = 0, PricePerGb = Money.FromDecimal(0.085m, "") },
        ]);
        Assert.Equal([new EgressBand(10_240, 0.09m), new EgressBand(0, 0.085m)], tiers);

        var e = Assert.Throws<ArgumentException>(() => EgressTiers.FromProto(
            [new Sky.Directory.V1.EgressTier { UpToGb = 0, PricePerGb = Money.FromDecimal(0.08m, "EUR") }]));
        Assert.Contains("tier 0: price is in EUR, expected USD", e.Message);
        e = Assert.Throws<ArgumentException>(() => EgressTiers.FromProto([new Sky.Directory.V1.EgressTier { UpToGb = 0 }]));
        Assert.Contains("price_per_gb is required", e.Message);
    }

    [Fact]
    public void Equal_tiers_are_equal_and_print_readably()
    {
        var copy = new EgressTiers([new(10_240, 0.090m), new(51_200, 0.085m), new(153_600, 0.07m), new(0, 0.05m)]);
        Assert.Equal(Aws, copy);
        Assert.Equal(Aws.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(Aws, Gcp);
        Assert.Equal("0.12/GB to 1024 GB, 0.11/GB to 10240 GB, 0.08/GB above", Gcp.ToString());
        Assert.Equal("0.02/GB", EgressTiers.Flat(0.02m).ToString());
    }
}
