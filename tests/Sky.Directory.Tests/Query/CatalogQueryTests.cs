using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

/// <summary>The query path against the real AWS catalog (46k offers) plus generated service instances.</summary>
public sealed class CatalogQueryTests
{
    private static readonly Lazy<OfferIndex?> Catalog = new(() =>
    {
        var directory = CatalogOffers.CatalogDirectory();
        if (directory is null) return null;
        var compute = CatalogOffers.Load(directory, "aws");
        var index = new OfferIndex();
        foreach (var offer in compute) index.Upsert(OfferView.From(offer));
        foreach (var offer in CatalogOffers.Services(compute, 3000)) index.Upsert(OfferView.From(offer));
        return index;
    });

    private static OfferIndex Index()
    {
        Skip.If(Catalog.Value is null, "../shared/catalogs/skypilot is absent: no catalog to query");
        return Catalog.Value!;
    }

    [SkippableTheory]
    [InlineData("kind=compute, region=us-east-1, vcpus>=8")]
    [InlineData("gpu=A100:8, price<=40")]
    [InlineData("gpu in (A100, H100, L4), region~us-*")]
    [InlineData("gpu~*100*, spot_price<10")]
    [InlineData("instance_type~p5*")]
    [InlineData("service=postgres, version>=15 <17, provider in (aws,gcp), region~eu-*, price<=3.5")]
    [InlineData("arch=arm64, memory>=64, zone=use1-az2")]
    [InlineData("availability!=unavailable, load<0.3, tier>=1")]
    [InlineData("!gpu, vcpus=2, region=ap-south-1")]
    public void Catalog_queries_equal_a_brute_force_filter(string selector)
    {
        var index = Index();
        var expected = BruteForce(index, selector);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Ids(AllPages(index, new QueryOffersRequest { Selector = selector }, 1000)));
    }

    [SkippableFact]
    public void Cheapest_first_over_the_catalog_matches_sorting_everything()
    {
        var index = Index();
        const string selector = "kind=compute, provider=aws, vcpus>=8";
        var parsed = Selector.Parse(selector);
        var expected = index.All.Where(parsed.Matches)
            .OrderBy(v => v.OnDemandHourly is null).ThenBy(v => v.OnDemandHourly).ThenBy(v => v.OfferId, StringComparer.Ordinal)
            .Take(250).Select(v => v.OfferId).ToList();
        var request = new QueryOffersRequest { Selector = selector, Preference = new Preference { PriceWeight = 1 } };
        var firstPages = new List<string>();
        var token = "";
        while (firstPages.Count < 250)
        {
            var page = request.Clone();
            page.Page = new() { PageSize = 50, PageToken = token };
            var (offers, response) = OfferQuery.Execute(index, page);
            firstPages.AddRange(Ids(offers));
            token = response.NextPageToken;
        }
        Assert.Equal(expected, firstPages);
    }
}
