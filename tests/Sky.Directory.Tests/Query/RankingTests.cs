using Sky.Common.V1;
using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class RankingTests
{
    private static List<string> Rank(OfferIndex index, Preference? preference, string selector = "") =>
        Ids(OfferQuery.Execute(index, new QueryOffersRequest { Selector = selector, Preference = preference }).Offers);

    [Fact]
    public void Cheapest_first_with_ties_by_offer_id_and_unpriced_last()
    {
        var index = Index(
            Compute("e", price: 2.0m), Compute("b", price: 0.1m), Compute("d", price: 2.00m),
            Compute("a"), Compute("c", price: 0.100000001m), Compute("f", price: 0m));
        Assert.Equal(["f", "b", "c", "d", "e", "a"], Rank(index, new Preference { PriceWeight = 1 }));
        // The weight's size does not matter on its own.
        Assert.Equal(["f", "b", "c", "d", "e", "a"], Rank(index, new Preference { PriceWeight = 0.001 }));
    }

    [Fact]
    public void Spot_ranks_by_the_spot_price()
    {
        var index = Index(Compute("a", price: 1m, spot: 0.9m), Compute("b", price: 2m, spot: 0.3m), Compute("c", price: 0.5m));
        Assert.Equal(["b", "a", "c"], Rank(index, new Preference { PriceWeight = 1, Spot = true }));
        Assert.Equal(["c", "a", "b"], Rank(index, new Preference { PriceWeight = 1 }));
    }

    [Fact]
    public void Least_loaded_first_and_unknown_load_last()
    {
        var index = Index(
            Service("a", load: 0.7), Service("b"), Service("c", load: 0.1), Service("d", load: 0.1), Service("e", load: 1));
        Assert.Equal(["c", "d", "a", "e", "b"], Rank(index, new Preference { LoadWeight = 1 }));
    }

    [Fact]
    public void Nearest_is_same_zone_then_same_region_then_other_regions_by_distance_then_unknown()
    {
        var index = Index(
            Compute("tokyo", region: "ap-northeast-1"),
            Compute("frankfurt", region: "eu-central-1"),
            Compute("ohio", region: "us-east-2"),
            Compute("virginia-az2", region: "us-east-1", zone: "use1-az2"),
            Compute("virginia-az1", region: "us-east-1", zone: "use1-az1"),
            Compute("virginia-wide", region: "us-east-1"),
            Compute("gcp-ashburn", provider: "gcp", region: "us-east4"),
            Compute("lambda", provider: "lambda", region: "us-east-1"),
            Compute("nowhere", region: "xx-nowhere-1"));
        var near = new Preference { DistanceWeight = 1, Near = new Location { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" } };
        Assert.Equal(
            ["virginia-az1", "virginia-az2", "virginia-wide", "gcp-ashburn", "ohio", "frankfurt", "tokyo", "lambda", "nowhere"],
            Rank(index, near));

        // Without a zone the whole region ties at distance 0 (then by id).
        near.Near.Zone = "";
        Assert.Equal(["virginia-az1", "virginia-az2", "virginia-wide", "gcp-ashburn", "ohio"], Rank(index, near)[..5]);

        // A region with no known centre: only its own offers rank, everything else is unknown (then by id).
        near.Near = new Location { Provider = "lambda", Region = "us-east-1" };
        Assert.Equal(["lambda", "frankfurt", "gcp-ashburn", "nowhere"], Rank(index, near)[..4]);
    }

    [Fact]
    public void A_weighted_mix_sums_min_max_normalised_criteria()
    {
        // Normalised price: a 0, b 1, c 0.5. Normalised load: a 1, b 0, c 0.4.
        var index = Index(
            Service("a", price: 1m, load: 1.0), Service("b", price: 2m, load: 0.0), Service("c", price: 1.5m, load: 0.4));
        // Equal weights: a 1, b 1, c 0.9.
        Assert.Equal(["c", "a", "b"], Rank(index, new Preference { PriceWeight = 1, LoadWeight = 1 }));
        // Price three times as important: a 1, b 3, c 1.9.
        Assert.Equal(["a", "c", "b"], Rank(index, new Preference { PriceWeight = 3, LoadWeight = 1 }));
        // Load three times as important: a 3, b 1, c 2.7.
        Assert.Equal(["b", "c", "a"], Rank(index, new Preference { PriceWeight = 1, LoadWeight = 3 }));
    }

    [Fact]
    public void In_a_mix_offers_missing_a_weighted_criterion_rank_after_complete_ones()
    {
        var index = Index(
            Service("complete-worst", price: 9m, load: 1.0),
            Service("no-load-cheap", price: 0.1m),
            Service("no-price-idle", load: 0.0),
            Service("nothing"),
            Service("complete-best", price: 1m, load: 0.0));
        Assert.Equal(
            ["complete-best", "complete-worst", "no-load-cheap", "no-price-idle", "nothing"],
            Rank(index, new Preference { PriceWeight = 1, LoadWeight = 1 }));
    }

    [Fact]
    public void Mixing_distance_and_price()
    {
        var index = Index(
            Compute("here-expensive", region: "eu-central-1", price: 9m),
            Compute("near-cheap", region: "eu-west-3", price: 1m),
            Compute("far-cheapest", region: "ap-southeast-2", price: 0.5m),
            Compute("dublin-dearest", region: "eu-west-1", price: 20m));
        // Price over 0.5..20: here 0.44, near 0.03, far 0, dublin 1. Distance over 0..16,485 km: here 0,
        // near (Paris) 0.03, far (Sydney) 1, dublin 0.07.
        var preference = new Preference { PriceWeight = 1, DistanceWeight = 1, Near = new Location { Provider = "aws", Region = "eu-central-1" } };
        Assert.Equal(["near-cheap", "here-expensive", "far-cheapest", "dublin-dearest"], Rank(index, preference));
    }

    [Fact]
    public void All_weights_zero_orders_by_offer_id()
    {
        var index = Index(Compute("b", price: 1m), Compute("c", price: 0.5m), Compute("a", price: 2m));
        Assert.Equal(["a", "b", "c"], Rank(index, null));
        Assert.Equal(["a", "b", "c"], Rank(index, new Preference { Spot = true, Near = new Location { Provider = "aws" } }));
    }

    [Fact]
    public void Ranking_applies_to_the_matches_only()
    {
        var index = Index(Compute("gpu-cheap", gpu: "A100", gpuCount: 1, price: 3m), Compute("cpu", price: 0.1m), Compute("gpu-dear", gpu: "A100", gpuCount: 8, price: 30m));
        Assert.Equal(["gpu-cheap", "gpu-dear"], Rank(index, new Preference { PriceWeight = 1 }, "gpu=A100"));
    }

    [Theory]
    [InlineData(-1, 0, 0, "preference.price_weight")]
    [InlineData(0, double.NaN, 0, "preference.load_weight")]
    [InlineData(0, 0, double.PositiveInfinity, "preference.distance_weight")]
    [InlineData(0, 0, -0.5, "preference.distance_weight")]
    public void Bad_weights_are_invalid(double price, double load, double distance, string field)
    {
        var request = new QueryOffersRequest { Preference = new Preference { PriceWeight = price, LoadWeight = load, DistanceWeight = distance } };
        InvalidArgument(() => OfferQuery.Execute(new OfferIndex(), request), field);
    }

    [Fact]
    public void Distance_needs_a_near_provider_and_region()
    {
        var index = new OfferIndex();
        InvalidArgument(() => OfferQuery.Execute(index, new QueryOffersRequest { Preference = new Preference { DistanceWeight = 1 } }), "preference.near");
        InvalidArgument(() => OfferQuery.Execute(index, new QueryOffersRequest
        {
            Preference = new Preference { DistanceWeight = 1, Near = new Location { Provider = "aws" } },
        }), "preference.near.region");
        InvalidArgument(() => OfferQuery.Execute(index, new QueryOffersRequest
        {
            Preference = new Preference { DistanceWeight = 1, Near = new Location { Region = "us-east-1" } },
        }), "preference.near.provider");
    }

    [Fact]
    public void Region_centres_give_plausible_great_circle_distances()
    {
        Assert.True(RegionCentres.TryGet("AWS", "US-EAST-1", out var virginia));
        Assert.True(RegionCentres.TryGet("aws", "eu-west-1", out var dublin));
        Assert.InRange(RegionCentres.DistanceKm(virginia, dublin), 5200, 5700);
        Assert.True(RegionCentres.TryGet("gcp", "australia-southeast1", out var sydney));
        Assert.True(RegionCentres.TryGet("azure", "westeurope", out var amsterdam));
        Assert.InRange(RegionCentres.DistanceKm(sydney, amsterdam), 16_000, 17_000);
        Assert.False(RegionCentres.TryGet("lambda", "us-east-1", out _));
        var a = RegionCentres.IdOf("aws", "us-east-1");
        var b = RegionCentres.IdOf("azure", "eastus");
        Assert.Equal(RegionCentres.DistanceKm(RegionCentres.At(a), RegionCentres.At(b)), RegionCentres.DistanceKm(a, b));
        Assert.Equal(0, RegionCentres.DistanceKm(a, a));
    }
}
