using Google.Protobuf.WellKnownTypes;
using static Sky.Pricing.Tests.Grids;
using Proto = Sky.Accounting.V1;

namespace Sky.Pricing.Tests;

/// <summary>Usage rated with the quotes' prices: per-second compute with its minimum, egress with peering, the margin, all in whole nanos.</summary>
public sealed class UsageRatingTests
{
    private static readonly UsageRater Rater = new();

    [Fact]
    public void Compute_is_billed_per_second_with_a_minute_minimum_per_node()
    {
        var thirtySeconds = Rater.Compute(0.8048m, 30m, 1);
        Assert.Equal(0.013413333m, thirtySeconds.ListAmount);   // 60 s billed: 0.8048 / 60, to the nano
        Assert.Equal(0.000670667m, thirtySeconds.Margin);
        Assert.Equal(thirtySeconds.ListAmount + thirtySeconds.Margin, thirtySeconds.Amount);

        var twoNodes = Rater.Compute(1m, 7_200m, 2);
        Assert.Equal((2m, 0.1m, 2.1m), (twoNodes.ListAmount, twoNodes.Margin, twoNodes.Amount));
        Assert.Equal(120m, Rater.BilledNodeSeconds(10m, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rater.Compute(1m, -1m, 1));
    }

    [Fact]
    public void Egress_names_the_agreement_that_waived_part_of_it_and_the_margin_is_on_what_the_provider_is_paid()
    {
        var grid = new EgressGrid([Egress("aws/us-east-1", "internet", (0, 0.09m))]);
        var book = new PeeringBook([new Proto.PeeringAgreement
        {
            AgreementId = "aws-gcp", ProviderA = "aws", ProviderB = "gcp", Terms = Proto.PeeringTerms.Discounted, DiscountBps = 2500,
            EffectiveFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
        }]);
        var rated = Rater.Egress(new EgressPricer(grid, book.InForce(DateTimeOffset.UtcNow)), "aws", "us-east-1", "gcp", "us-central1", 1_000m);
        Assert.Equal((90m, 22.5m, "aws-gcp", 3.375m), (rated.ListAmount, rated.PeeringDiscount, rated.AgreementId, rated.Margin));
        Assert.Equal(70.875m, rated.Amount);
        Assert.Equal(67.5m, rated.ProviderAmount);

        var unpeered = Rater.Egress(new EgressPricer(grid), "aws", "us-east-1", "azure", "eastus", 1_000m);
        Assert.Equal((90m, 0m, (string?)null), (unpeered.ListAmount, unpeered.PeeringDiscount, unpeered.AgreementId));
        Assert.Throws<InvalidOperationException>(() => Rater.Egress(new EgressPricer(grid), "gcp", "us-central1", "aws", "us-east-1", 1m));
    }

    [Fact]
    public void Every_part_is_whole_nanos_and_the_parts_add_up_exactly()
    {
        var random = new Random(7);
        for (var i = 0; i < 2_000; i++)
        {
            var price = random.Next(0, 10_000_000) / 1_000_000m;
            var seconds = random.Next(0, 100_000) / 7m;
            var rated = new UsageRater(new RatingPolicy { MarginRate = random.Next(0, 1000) / 10_000m }).Compute(price, seconds, random.Next(1, 9));
            foreach (var part in new[] { rated.ListAmount, rated.Margin, rated.Amount })
                Assert.Equal(part, Rounding.ToNanos(part));
            Assert.Equal(rated.Amount, rated.ProviderAmount + rated.Margin);
        }
    }

    [Fact]
    public void A_policy_out_of_range_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UsageRater(new RatingPolicy { MarginRate = 1.5m }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UsageRater(new RatingPolicy { ComputeMinimum = TimeSpan.FromSeconds(-1) }));
    }
}
