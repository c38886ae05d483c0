using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class OfferIndexTests
{
    private static readonly string[] Selectors =
    [
        "", "provider=aws", "provider in (aws,gcp), region~us-*", "gpu=A100", "gpu in (A100,H100)", "gpu~*100", "gpu=\"\"",
        "gpu in (A100:8, T4)", "zone=\"\"", "zone~*a", "kind=compute, availability!=unavailable", "availability=available",
        "availability in (limited, unavailable)", "service=postgres", "origin=catalog, price<=2", "region~*-1, gpu in (H100, A100:8)",
        "instance_type~m5*", "kind=service_instance, provider=gcp, zone", "region=nowhere", "provider=aws, region=us-east-1, zone=use1-az1",
    ];

    [Fact]
    public void Upsert_replaces_by_id_and_remove_returns_the_view()
    {
        var index = new OfferIndex();
        var first = OfferView.From(Compute("x", provider: "aws", gpu: "A100", gpuCount: 8));
        index.Upsert(first);
        var second = OfferView.From(Compute("x", provider: "gcp", region: "us-central1"));
        index.Upsert(second);
        Assert.Equal(1, index.Count);
        Assert.Same(second, index.Get("x"));
        Assert.Equal(BruteForce(index, "provider=aws"), Ids(OfferQuery.Execute(index, new QueryOffersRequest { Selector = "provider=aws" }).Offers));
        Assert.Empty(OfferQuery.Execute(index, new QueryOffersRequest { Selector = "gpu=A100" }).Offers);
        Assert.Same(second, index.Remove("x"));
        Assert.Null(index.Remove("x"));
        Assert.Null(index.Get("x"));
        Assert.Equal(0, index.Count);
        Assert.Empty(OfferQuery.Execute(index, new QueryOffersRequest { Selector = "provider=gcp" }).Offers);
    }

    [Fact]
    public void Clear_empties_the_index_and_its_postings()
    {
        var index = Index(Compute("a"), Compute("b", provider: "gcp"));
        index.Clear();
        Assert.Equal(0, index.Count);
        Assert.Empty(index.All);
        Assert.Empty(OfferQuery.Execute(index, new QueryOffersRequest { Selector = "provider=gcp" }).Offers);
        index.Upsert(OfferView.From(Compute("c", provider: "gcp")));
        Assert.Equal(["c"], Ids(OfferQuery.Execute(index, new QueryOffersRequest { Selector = "provider=gcp" }).Offers));
    }

    [Fact]
    public void The_view_keeps_the_offer_and_does_not_change_it()
    {
        var offer = Compute("a", provider: "AWS", region: "US-East-1", gpu: "A100", gpuCount: 8, price: 1.5m);
        var before = offer.Clone();
        var view = OfferView.From(offer);
        Assert.Same(offer, view.Offer);
        Assert.Equal(before, offer);
        Assert.Equal("aws", view.Provider);
        Assert.Equal("us-east-1", view.Region);
        Assert.Equal(1.5m, view.OnDemandHourly);
        Assert.Equal(["a100"], view.GpuNames);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(IndexGenerators)])]
    public void After_any_upserts_and_removes_queries_equal_a_brute_force_filter(IndexOp[] ops)
    {
        var index = new OfferIndex();
        var model = new Dictionary<string, Offer>();
        foreach (var op in ops)
        {
            var id = $"id{op.Id:D2}";
            if (op.Remove)
            {
                Assert.Equal(model.Remove(id), index.Remove(id) is not null);
                continue;
            }
            var offer = op.Build(id);
            model[id] = offer;
            index.Upsert(OfferView.From(offer));
        }

        Assert.Equal(model.Count, index.Count);
        Assert.Equal(model.Keys.Order(StringComparer.Ordinal), index.All.Select(v => v.OfferId).Order(StringComparer.Ordinal));
        foreach (var (id, offer) in model) Assert.Same(offer, index.Get(id)!.Offer);
        foreach (var selector in Selectors)
        {
            var expected = BruteForce(index, selector);
            Assert.Equal(expected, Ids(OfferQuery.Execute(index, new QueryOffersRequest { Selector = selector, Page = new() { PageSize = 1000 } }).Offers));
            var ranked = OfferQuery.Execute(index, new QueryOffersRequest
            {
                Selector = selector, Preference = new Preference { PriceWeight = 1 }, Page = new() { PageSize = 1000 },
            }).Offers;
            Assert.Equal(expected, Ids(ranked).Order(StringComparer.Ordinal));
        }
    }
}

/// <summary>Upsert (with random contents) or remove one of 40 offer ids.</summary>
public sealed record IndexOp(bool Remove, int Id, int Provider, int Region, int Zone, int Gpu, int Availability, int Kind, int Price)
{
    private static readonly string[] Providers = ["aws", "gcp", "azure"];
    private static readonly string[] Regions = ["us-east-1", "us-central1", "eu-west-1", "westeurope"];
    private static readonly string[] Zones = ["", "use1-az1", "us-central1-a", "zone-b"];

    public Offer Build(string id)
    {
        var provider = Providers[Provider];
        var region = Regions[Region];
        var availability = (Availability)Availability;
        decimal? price = Price == 0 ? null : Price * 0.5m;
        if (Kind == 0)
            return TestOffers.Service(id, provider: provider, region: region, zone: Zones[Zone], price: price, availability: availability);
        var offer = TestOffers.Compute(id, provider: provider, region: region, zone: Zones[Zone], instanceType: Kind == 1 ? "m5.large" : "p4d.24xlarge",
            price: price, availability: availability, origin: Price % 2 == 0 ? "catalog" : "registered");
        // Gpu 3: two models on one node, so the offer sits in two gpu posting sets.
        if (Gpu is 1 or 3) offer.Hardware.Accelerators.Add(new Sky.Common.V1.Accelerator { Name = "A100", Count = 8 });
        if (Gpu is 2 or 3) offer.Hardware.Accelerators.Add(new Sky.Common.V1.Accelerator { Name = "H100", Count = 1 });
        if (Gpu == 4) offer.Hardware.Accelerators.Add(new Sky.Common.V1.Accelerator { Name = "T4", Count = 1 });
        return offer;
    }
}

public static class IndexGenerators
{
    public static Arbitrary<IndexOp> Ops() =>
        (from remove in Gen.Choose(0, 3).Select(n => n == 0)
         from id in Gen.Choose(0, 39)
         from provider in Gen.Choose(0, 2)
         from region in Gen.Choose(0, 3)
         from zone in Gen.Choose(0, 3)
         from gpu in Gen.Choose(0, 4)
         from availability in Gen.Choose(0, 3)
         from kind in Gen.Choose(0, 2)
         from price in Gen.Choose(0, 6)
         select new IndexOp(remove, id, provider, region, zone, gpu, availability, kind, price)).ToArbitrary();
}
