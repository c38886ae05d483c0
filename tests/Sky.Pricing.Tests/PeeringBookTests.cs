using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using static Sky.Pricing.Tests.Grids;
using Proto = Sky.Accounting.V1;

namespace Sky.Pricing.Tests;

/// <summary>Accounting's peering agreements (both ways, with effective dates) as the pricing engine applies them.</summary>
public sealed class PeeringBookTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly EgressGrid Grid = new(
    [
        Egress("aws/us-east-1", "internet", (10_240, 0.09m), (51_200, 0.085m), (0, 0.05m)),
        Egress("gcp/us-central1", "internet", (1_024, 0.12m), (0, 0.11m)),
    ]);

    private static Proto.PeeringAgreement Agreement(string id, Proto.PeeringTerms terms, DateTimeOffset from, DateTimeOffset? until = null,
        int discountBps = 0, decimal? cap = null)
    {
        var agreement = new Proto.PeeringAgreement
        {
            AgreementId = id, ProviderA = "aws", ProviderB = "gcp", Terms = terms, DiscountBps = discountBps,
            EffectiveFrom = Timestamp.FromDateTimeOffset(from),
        };
        if (until is { } u) agreement.EffectiveUntil = Timestamp.FromDateTimeOffset(u);
        if (cap is { } c) agreement.MaxPricePerGb = Money.FromDecimal(c, "USD");
        return agreement;
    }

    private static decimal Cost(PeeringBook book, DateTimeOffset at, string src, string srcRegion, string dst, string dstRegion, decimal gb) =>
        new EgressPricer(Grid, book.InForce(at)).Quote(src, srcRegion, dst, dstRegion, gb).Cost;

    [Fact]
    public void An_agreement_applies_both_ways_from_its_start_inclusive_until_its_end_exclusive()
    {
        var book = new PeeringBook([Agreement("free-1", Proto.PeeringTerms.Free, Start, Start.AddDays(10))]);
        Assert.Equal(90m, Cost(book, Start.AddTicks(-1), "aws", "us-east-1", "gcp", "us-central1", 1_000m));
        Assert.Equal(0m, Cost(book, Start, "aws", "us-east-1", "gcp", "us-central1", 1_000m));
        Assert.Equal(0m, Cost(book, Start, "gcp", "us-central1", "aws", "us-east-1", 1_000m));
        Assert.Equal(120m, Cost(book, Start.AddDays(10), "gcp", "us-central1", "aws", "us-east-1", 1_000m));
        Assert.Equal(Start, book.NextChangeAfter(Start.AddDays(-1)));
        Assert.Equal(Start.AddDays(10), book.NextChangeAfter(Start));
        Assert.Null(book.NextChangeAfter(Start.AddDays(10)));
    }

    [Fact]
    public void A_discount_in_basis_points_takes_that_share_off_the_tiered_list_price()
    {
        var book = new PeeringBook([Agreement("d", Proto.PeeringTerms.Discounted, Start, discountBps: 2500)]);
        // 10,240 GB at 0.09 plus 1,760 GB at 0.085 = 1071.20, less 25 %.
        Assert.Equal(803.40m, Cost(book, Start, "aws", "us-east-1", "gcp", "us-central1", 12_000m));
    }

    [Fact]
    public void A_price_cap_lowers_only_the_tiers_above_it()
    {
        var book = new PeeringBook([Agreement("c", Proto.PeeringTerms.Capped, Start, cap: 0.087m)]);
        // 10,240 GB at min(0.09, 0.087) plus 1,760 GB at 0.085 (under the cap, unchanged).
        Assert.Equal(10_240m * 0.087m + 1_760m * 0.085m, Cost(book, Start, "aws", "us-east-1", "gcp", "us-central1", 12_000m));
        Assert.Equal(100m * 0.087m, Cost(book, Start, "gcp", "us-central1", "aws", "us-east-1", 100m));
    }

    [Fact]
    public void Ending_or_removing_an_agreement_replaces_it_by_id()
    {
        var book = new PeeringBook([Agreement("free-1", Proto.PeeringTerms.Free, Start)]);
        var ended = book.With(Agreement("free-1", Proto.PeeringTerms.Free, Start, Start.AddDays(1)));
        Assert.Single(ended.All);
        Assert.Equal(0m, Cost(ended, Start, "aws", "us-east-1", "gcp", "us-central1", 10m));
        Assert.Equal(0.9m, Cost(ended, Start.AddDays(2), "aws", "us-east-1", "gcp", "us-central1", 10m));
        Assert.Empty(book.Without("free-1").All);
    }

    [Fact]
    public void Unpriceable_terms_are_refused_with_the_agreement_named()
    {
        var capWithoutPrice = Agreement("c", Proto.PeeringTerms.Capped, Start);
        var e = Assert.Throws<ArgumentException>(() => new PeeringBook([capWithoutPrice]).InForce(Start));
        Assert.Contains("peering agreement c", e.Message);
    }
}
