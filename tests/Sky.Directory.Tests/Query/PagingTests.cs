using Sky.Common.V1;
using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class PagingTests
{
    private static OfferIndex Many(int count)
    {
        var random = new Random(42);
        var index = new OfferIndex();
        for (var i = 0; i < count; i++)
        {
            // Few distinct prices and loads: plenty of ties for the offer_id tie-break to settle.
            var offer = Compute($"o{random.Next(1_000_000):D6}-{i}", region: i % 3 == 0 ? "us-east-1" : "eu-west-1",
                price: i % 7 == 0 ? null : random.Next(5) * 0.25m, spot: i % 3 == 1 ? null : random.Next(3) * 0.1m,
                load: i % 5 == 0 ? null : random.Next(4) / 4.0);
            index.Upsert(OfferView.From(offer));
        }
        return index;
    }

    public static TheoryData<string, Preference?, int> Queries() => new()
    {
        { "", null, 7 },
        { "region=us-east-1", null, 1 },
        { "", new Preference { PriceWeight = 1 }, 10 },
        { "region~eu-*", new Preference { PriceWeight = 1, LoadWeight = 2 }, 33 },
        { "", new Preference { DistanceWeight = 1, LoadWeight = 1, Near = new Location { Provider = "aws", Region = "us-east-2" } }, 1000 },
        { "price<=0.5", new Preference { LoadWeight = 1 }, 3 },
        // Small pages walk the sorted orders, the one big page scans the region's posting set: same order.
        { "region=eu-west-1", null, 4 },
        { "region=eu-west-1", new Preference { PriceWeight = 1 }, 4 },
        { "region=eu-west-1", new Preference { PriceWeight = 1, Spot = true }, 9 },
        // The cheapest offers do not match: the walk gives up and scans.
        { "region=us-east-1, price>=1", new Preference { PriceWeight = 1 }, 2 },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Paging_through_all_pages_returns_each_match_once_in_the_order_of_one_big_page(string selector, Preference? preference, int pageSize)
    {
        var index = Many(600);
        var request = new QueryOffersRequest { Selector = selector, Preference = preference };
        var paged = Ids(AllPages(index, request, pageSize));
        Assert.Equal(paged.Count, paged.Distinct().Count());
        Assert.Equal(BruteForce(index, selector), paged.Order(StringComparer.Ordinal));
        var whole = Ids(AllPages(index, request, 1000));
        Assert.Equal(whole, paged);
    }

    [Fact]
    public void Unranked_pages_continue_after_the_last_id_so_changes_between_pages_neither_repeat_nor_skip_old_offers()
    {
        var index = Many(100);
        var before = index.All.Select(v => v.OfferId).Order(StringComparer.Ordinal).ToList();
        var seen = new List<string>();
        var token = "";
        var added = 0;
        do
        {
            var (offers, page) = OfferQuery.Execute(index, new QueryOffersRequest { Page = new PageRequest { PageSize = 9, PageToken = token } });
            seen.AddRange(Ids(offers));
            token = page.NextPageToken;
            // Between pages: add offers before and after the cursor.
            index.Upsert(OfferView.From(Compute($"a-new-{added}")));
            index.Upsert(OfferView.From(Compute($"z-new-{added++}")));
        } while (token.Length > 0);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(before.Except(seen));
    }

    [Fact]
    public void A_short_last_page_has_no_token_and_an_exact_fit_too()
    {
        var index = Many(20);
        var (offers, page) = OfferQuery.Execute(index, new QueryOffersRequest { Page = new PageRequest { PageSize = 20 } });
        Assert.Equal(20, offers.Count);
        Assert.Equal("", page.NextPageToken);
        (offers, page) = OfferQuery.Execute(index, new QueryOffersRequest { Page = new PageRequest { PageSize = 19 } });
        Assert.Equal(19, offers.Count);
        Assert.NotEqual("", page.NextPageToken);
        (offers, page) = OfferQuery.Execute(index, new QueryOffersRequest { Selector = "region=nowhere" });
        Assert.Empty(offers);
        Assert.Equal("", page.NextPageToken);
    }

    [Fact]
    public void Page_size_defaults_to_100_and_is_capped_at_1000()
    {
        var index = Many(1200);
        Assert.Equal(100, OfferQuery.Execute(index, new QueryOffersRequest()).Offers.Count);
        Assert.Equal(1000, OfferQuery.Execute(index, new QueryOffersRequest { Page = new PageRequest { PageSize = 5000 } }).Offers.Count);
        InvalidArgument(() => OfferQuery.Execute(index, new QueryOffersRequest { Page = new PageRequest { PageSize = -1 } }), "page.page_size");
    }

    [Fact]
    public void A_token_is_valid_only_with_the_selector_and_preference_it_came_from()
    {
        var index = Many(50);
        var first = new QueryOffersRequest { Selector = "region=eu-west-1", Preference = new Preference { PriceWeight = 1 }, Page = new PageRequest { PageSize = 5 } };
        var token = OfferQuery.Execute(index, first).Page.NextPageToken;
        Assert.NotEqual("", token);

        var same = first.Clone();
        same.Page.PageToken = token;
        Assert.Equal(5, OfferQuery.Execute(index, same).Offers.Count);

        var otherSelector = same.Clone();
        otherSelector.Selector = "region=us-east-1";
        Assert.Contains("different selector or preference", InvalidArgument(() => OfferQuery.Execute(index, otherSelector), "page.page_token"));

        var otherPreference = same.Clone();
        otherPreference.Preference.PriceWeight = 2;
        InvalidArgument(() => OfferQuery.Execute(index, otherPreference), "page.page_token");

        var unranked = same.Clone();
        unranked.Preference = null;
        InvalidArgument(() => OfferQuery.Execute(index, unranked), "page.page_token");

        foreach (var garbage in new[] { "not-base64!", "bzox", Sky.Hosting.Store.Paging.Encode(5), token[..^2] })
        {
            var forged = same.Clone();
            forged.Page.PageToken = garbage;
            InvalidArgument(() => OfferQuery.Execute(index, forged), "page.page_token");
        }
    }

    [Fact]
    public void Concurrent_readers_get_the_answers_a_single_reader_gets()
    {
        // The engine lets readers share the index (a read lock): queries must not share mutable state.
        var index = Many(5000);
        var requests = Queries().Select(row => new QueryOffersRequest
        {
            Selector = (string)row[0], Preference = (Preference?)row[1], Page = new PageRequest { PageSize = (int)row[2] },
        }).ToList();
        var expected = requests.Select(r => Ids(OfferQuery.Execute(index, r).Offers)).ToList();
        var failures = 0;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var q = i % requests.Count;
            if (!expected[q].SequenceEqual(Ids(OfferQuery.Execute(index, requests[q]).Offers))) Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }
}
