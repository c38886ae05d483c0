using static Sky.Pricing.Tests.Grids;

namespace Sky.Pricing.Tests;

/// <summary>Peering agreements applied after the tiers, and quotes that never pass a missing price off as free.</summary>
public sealed class EgressPricerTests
{
    private static readonly EgressGrid Grid = new(
    [
        Egress("aws/us-east-1", "internet", (10_240, 0.09m), (51_200, 0.085m), (153_600, 0.07m), (0, 0.05m)),
        Egress("aws/us-east-1", "aws", (0, 0.02m)),
    ]);

    [Fact]
    public void Without_agreements_the_quote_is_the_list_cost()
    {
        var quote = new EgressPricer(Grid).Quote("aws", "us-east-1", "gcp", "us-central1", 10_240m);
        Assert.Equal(EgressMatch.Internet, quote.Match);
        Assert.Equal(921.60m, quote.Cost);
        Assert.Equal(quote.ListCost, quote.Cost);
        Assert.False(quote.Adjusted);
    }

    [Fact]
    public void A_missing_price_cannot_be_read_as_zero()
    {
        var quote = new EgressPricer(Grid).Quote("gcp", "us-central1", "aws", "us-east-1", 5m);
        Assert.False(quote.HasPrice);
        Assert.Equal(EgressMatch.None, quote.Match);
        var e = Assert.Throws<InvalidOperationException>(() => quote.Cost);
        Assert.Equal("no egress price from gcp/us-central1 to aws/us-east-1", e.Message);
        Assert.Contains("no egress price", quote.ToString());
    }

    [Fact]
    public void A_free_agreement_zeroes_the_covered_pair_only()
    {
        var pricer = new EgressPricer(Grid, new PeeringAgreements([PeeringAgreement.Free("p1", "aws", "us-east-1", "gcp", "")]));
        var covered = pricer.Quote("aws", "us-east-1", "gcp", "us-central1", 500m);
        Assert.Equal(0m, covered.Cost);
        Assert.Equal(45m, covered.ListCost);
        Assert.True(covered.Adjusted);
        Assert.Equal(45m, pricer.Quote("aws", "us-east-1", "azure", "eastus", 500m).Cost);
        // Directional: the agreement does not cover gcp -> aws.
        Assert.False(pricer.Adjuster!.Covers("gcp", "us-central1", "aws", "us-east-1"));
    }

    [Fact]
    public void A_discount_takes_a_percentage_off_the_tiered_cost()
    {
        var pricer = new EgressPricer(Grid, PeeringAgreement.Discount("p2", "aws", "", "gcp", "us-central1", 25m));
        Assert.Equal(691.20m, pricer.Quote("aws", "us-east-1", "gcp", "us-central1", 10_240m).Cost);   // 921.60 x 0.75
        Assert.Equal(921.60m, pricer.Quote("aws", "us-east-1", "gcp", "europe-west4", 10_240m).Cost); // other region: not covered
    }

    [Fact]
    public void A_capped_volume_is_priced_by_agreement_and_the_rest_by_the_tiers()
    {
        var agreement = PeeringAgreement.CappedVolume("p3", "aws", "us-east-1", "gcp", "", capGb: 1_000m, pricePerGb: 0.01m);
        var pricer = new EgressPricer(Grid, agreement);
        Assert.Equal(5m, pricer.Quote("aws", "us-east-1", "gcp", "x", 500m).Cost);
        // 1,000 GB at 0.01 + 9,240 GB at 0.09 + 1,000 GB at 0.085
        Assert.Equal(10m + 831.60m + 85m, pricer.Quote("aws", "us-east-1", "gcp", "x", 11_240m).Cost);
        // 800 GB used: 200 GB left under the cap.
        Assert.Equal(2m + 300m * 0.09m, pricer.Quote("aws", "us-east-1", "gcp", "x", 500m, alreadyUsedGb: 800m).Cost);
        // Splitting a transfer never changes its total.
        var whole = pricer.Quote("aws", "us-east-1", "gcp", "x", 12_000m).Cost;
        var parts = pricer.Quote("aws", "us-east-1", "gcp", "x", 700m).Cost + pricer.Quote("aws", "us-east-1", "gcp", "x", 11_300m, 700m).Cost;
        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Overlapping_agreements_do_not_stack_the_cheapest_applies()
    {
        var agreements = new PeeringAgreements(
        [
            PeeringAgreement.Discount("ten", "aws", "", "gcp", "", 10m),
            PeeringAgreement.Discount("half", "aws", "us-east-1", "gcp", "us-central1", 50m),
        ]);
        var pricer = new EgressPricer(Grid, agreements);
        Assert.Equal(45m, pricer.Quote("aws", "us-east-1", "gcp", "us-central1", 1_000m).Cost);   // 90 x 0.5, not 90 x 0.9 x 0.5
        Assert.Equal(81m, pricer.Quote("aws", "us-east-1", "gcp", "asia-east1", 1_000m).Cost);
    }

    [Fact]
    public void Agreements_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PeeringAgreement.Discount("d", "aws", "", "gcp", "", 0m));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeeringAgreement.Discount("d", "aws", "", "gcp", "", 101m));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeeringAgreement.CappedVolume("c", "aws", "", "gcp", "", 0m, 0.01m));
        Assert.Throws<ArgumentException>(() => PeeringAgreement.Free("", "aws", "", "gcp", ""));
        var e = Assert.Throws<ArgumentException>(() => new PeeringAgreements(
            [PeeringAgreement.Free("x", "aws", "", "gcp", ""), PeeringAgreement.Free("x", "gcp", "", "aws", "")]));
        Assert.Contains("peering agreement x is listed twice", e.Message);
    }

    [Fact]
    public void An_adjuster_that_returns_a_negative_cost_is_refused()
    {
        var pricer = new EgressPricer(Grid, new Rebate());
        var e = Assert.Throws<InvalidOperationException>(() => pricer.Quote("aws", "us-east-1", "gcp", "x", 10m));
        Assert.Contains("a cost is never negative", e.Message);
    }

    private sealed class Rebate : IEgressAdjuster
    {
        public bool Covers(string srcProvider, string srcRegion, string dstProvider, string dstRegion) => true;
        public decimal Adjust(in EgressCharge charge) => -charge.ListCost;
    }
}
