using System.Security.Cryptography;
using System.Text;
using Sky.Common.V1;
using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

/// <summary>
/// 4,000 offers, so big posting lists keep bitmaps and scans take the bitmap plan (vector column tests,
/// pruning by the page's worst entry), then churn: removals, reused slots, changed keys and prices. Every query,
/// paged, must equal a reference evaluation written from the documented rules.
/// </summary>
public sealed class LargeIndexTests
{
    private static readonly string[] Selectors =
    [
        "", "kind=compute", "provider=aws", "provider in (aws,gcp), vcpus>=8", "region~us-*, price<=1.5", "gpu=A100",
        "gpu in (A100:8, H100)", "kind=compute, provider=gcp, memory>=32, load<0.75", "zone=\"\"", "!price",
        "availability!=unavailable, spot_price", "instance_type~m5*, region~eu*", "provider=azure, kind=compute, gpu_count>=8",
        "service=postgres, version>=15", "vcpus>2 <=16, price>0.25", "load", "kind=compute, price!=1, spot_price notin (0.5, 0.75)",
    ];

    private static readonly Preference?[] Preferences =
    [
        null,
        new Preference { PriceWeight = 1 },
        new Preference { PriceWeight = 1, Spot = true },
        new Preference { LoadWeight = 2 },
        new Preference { DistanceWeight = 1, Near = new Location { Provider = "aws", Region = "us-east-1", Zone = "us-east-1-a" } },
        new Preference { PriceWeight = 1, LoadWeight = 1 },
        new Preference { PriceWeight = 2, LoadWeight = 1, DistanceWeight = 1, Near = new Location { Provider = "gcp", Region = "europe-west4" } },
    ];

    private static readonly Dictionary<string, string[]> Regions = new()
    {
        ["aws"] = ["us-east-1", "us-west-2", "eu-west-1", "xx-unknown-1"],
        ["gcp"] = ["us-central1", "europe-west4", "asia-east1"],
        ["azure"] = ["eastus", "westeurope", "japaneast"],
    };

    [Fact]
    public void Queries_over_a_large_index_with_churn_equal_a_reference_evaluation()
    {
        var random = new Random(20240611);
        var index = new OfferIndex();
        var next = 0;
        void Put(Offer offer) => index.Upsert(OfferView.From(offer));

        for (var i = 0; i < 4000; i++) Put(RandomOffer(random, next++));
        CheckAll(index, random);

        // Churn: remove 40%, change 1,500 (other keys, prices, loads), add 1,000 (reusing freed slots).
        var ids = index.All.Select(v => v.OfferId).ToList();
        foreach (var id in ids.Where(_ => random.Next(10) < 4)) Assert.NotNull(index.Remove(id));
        var kept = index.All.Select(v => v.OfferId).ToList();
        for (var i = 0; i < 1500; i++)
        {
            var replacement = RandomOffer(random, 0);
            replacement.OfferId = kept[random.Next(kept.Count)];
            Put(replacement);
        }
        for (var i = 0; i < 1000; i++) Put(RandomOffer(random, next++));
        CheckAll(index, random);

        // Shrink until the big lists drop their bitmaps again.
        foreach (var id in index.All.Select(v => v.OfferId).ToList().Where(_ => random.Next(10) < 9)) index.Remove(id);
        CheckAll(index, random);
    }

    [Fact]
    public void Price_ranked_pages_skip_only_words_that_cannot_enter_the_page()
    {
        // Prices rising with registration order (as a provider's batch often is), so most 64-slot words can be
        // skipped by their cheapest price. Then the cheapest offers go, late words get cheap prices, freed slots
        // are reused at dear ones: every word's cheapest price must follow.
        var random = new Random(20261128);
        var index = new OfferIndex();
        var offers = new List<Offer>();
        for (var i = 0; i < 3000; i++)
        {
            var offer = RandomOffer(random, i);
            PriceByRank(offer, i);
            index.Upsert(OfferView.From(offer));
            offers.Add(offer);
        }
        CheckAll(index, random);

        foreach (var offer in offers.Take(200)) index.Remove(offer.OfferId);
        for (var i = 0; i < 300; i++)
        {
            var offer = offers[random.Next(1000, 3000)].Clone();
            PriceByRank(offer, random.Next(0, 3000));
            index.Upsert(OfferView.From(offer));
        }
        for (var i = 0; i < 150; i++)
        {
            var offer = RandomOffer(random, 5000 + i);
            PriceByRank(offer, 10_000 + i);
            index.Upsert(OfferView.From(offer));
        }
        CheckAll(index, random);
    }

    private static void PriceByRank(Offer offer, int rank)
    {
        offer.Price ??= new Price();
        offer.Price.OnDemandHourly = Usd(rank * 0.01m);
        if (offer.Price.SpotHourly is not null) offer.Price.SpotHourly = Usd(rank * 0.005m);
    }

    private static void CheckAll(OfferIndex index, Random random)
    {
        foreach (var selector in Selectors)
            foreach (var preference in Preferences.Where(_ => random.Next(7) < 3))
            {
                var request = new QueryOffersRequest { Selector = selector, Preference = preference };
                var expected = Reference(index, selector, preference);
                var actual = Ids(AllPages(index, request, random.Next(100, 400)));
                var at = expected.Zip(actual).TakeWhile(p => p.First == p.Second).Count();
                Assert.True(expected.SequenceEqual(actual),
                    $"selector \"{selector}\", preference {preference}: {expected.Count} expected, {actual.Count} returned, first difference at {at}: " +
                    $"{expected.ElementAtOrDefault(at)} expected, {actual.ElementAtOrDefault(at)} returned ({Describe(index, expected.ElementAtOrDefault(at))} / {Describe(index, actual.ElementAtOrDefault(at))})");

                // A small first page: the scan prunes hardest here (whole words by their cheapest price, single
                // slots by the page's worst entry), so it must still be exactly the head of the ranking.
                var size = random.Next(1, 12);
                var first = OfferQuery.Execute(index, new QueryOffersRequest(request) { Page = new PageRequest { PageSize = size } }).Offers;
                Assert.Equal(expected.Take(size), first.Select(o => o.OfferId));
            }
    }

    private static string Describe(OfferIndex index, string? id) =>
        id is null ? "-" : index.Get(id) is { } v ? $"{v.Provider}/{v.Region}/{v.Zone} price {v.OnDemandHourly} load {v.Load}" : "?";

    // The documented ranking, evaluated naively over every offer.
    private static List<string> Reference(OfferIndex index, string selector, Preference? preference)
    {
        var parsed = Selector.Parse(selector);
        var matches = index.All.Where(parsed.Matches).ToList();
        var criteria = new List<(Func<OfferView, double> Raw, double Weight)>();
        if (preference is not null)
        {
            if (preference.PriceWeight > 0)
                criteria.Add((v => (preference.Spot ? v.SpotHourly : v.OnDemandHourly) is { } p ? (double)(p * 1_000_000_000m) : double.NaN, preference.PriceWeight));
            if (preference.LoadWeight > 0) criteria.Add((v => v.Load ?? double.NaN, preference.LoadWeight));
            if (preference.DistanceWeight > 0) criteria.Add((v => Distance(v, preference.Near), preference.DistanceWeight));
        }
        var score = matches.ToDictionary(v => v.OfferId, _ => 0.0);
        var missing = matches.ToDictionary(v => v.OfferId, _ => 0);
        foreach (var (raw, weight) in criteria)
        {
            var present = matches.Select(raw).Where(r => !double.IsNaN(r)).ToList();
            var (min, max) = present.Count > 0 ? (present.Min(), present.Max()) : (0, 0);
            var scale = max > min ? weight / (max - min) : 0;
            foreach (var v in matches)
            {
                var r = raw(v);
                if (double.IsNaN(r)) missing[v.OfferId]++;
                else score[v.OfferId] += criteria.Count == 1 ? r : (r - min) * scale;
            }
        }
        return [.. matches
            .OrderBy(v => missing[v.OfferId]).ThenBy(v => score[v.OfferId]).ThenBy(v => v.OfferId, StringComparer.Ordinal)
            .Select(v => v.OfferId)];
    }

    private static double Distance(OfferView v, Location near)
    {
        if (v.Provider == near.Provider && v.Region == near.Region) return near.Zone.Length == 0 || v.Zone == near.Zone ? 0 : 1;
        return RegionCentres.TryGet(near.Provider, near.Region, out var a) && RegionCentres.TryGet(v.Provider, v.Region, out var b)
            ? 2 + RegionCentres.DistanceKm(a, b)
            : double.NaN;
    }

    private static Offer RandomOffer(Random random, int n)
    {
        T Pick<T>(params T[] items) => items[random.Next(items.Length)];
        var provider = Pick("aws", "gcp", "azure");
        var region = Pick(Regions[provider]);
        var id = $"{provider}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{n}/{random.Next()}")))[..20]}";
        decimal? Quarter(int max) => random.Next(6) == 0 ? null : random.Next(max + 1) * 0.25m;
        var availability = (Availability)random.Next(4);
        var load = random.Next(5) == 0 ? (double?)null : random.Next(5) * 0.25;
        if (random.Next(5) == 0)
            return Service(id, service: Pick("postgres", "kafka"), version: Pick("14.11", "15", "16.2", "17.0-rc1"), provider: provider, region: region,
                zone: Pick("", $"{region}-a"), price: Quarter(12), load: load, availability: availability);
        var offer = Compute(id, provider: provider, region: region, zone: Pick("", $"{region}-a", $"{region}-b"),
            instanceType: Pick("m5.large", "m5.2xlarge", "c6i.4xlarge", "p4d.24xlarge", "a2-highgpu-1g", "Standard_D4s_v5"),
            price: Quarter(12), spot: Quarter(8), vcpus: Pick(0, 2, 4, 8, 16, 96), memory: Pick(0, 8, 32, 256),
            load: load, availability: availability);
        switch (random.Next(6))
        {
            case 0: offer.Hardware.Accelerators.Add(new Accelerator { Name = "A100", Count = 8 }); break;
            case 1: offer.Hardware.Accelerators.Add(new Accelerator { Name = "A100", Count = 1 }); break;
            case 2: offer.Hardware.Accelerators.Add(new Accelerator { Name = "H100", Count = 8 }); break;
            case 3:
                offer.Hardware.Accelerators.Add(new Accelerator { Name = "A100", Count = 8 });
                offer.Hardware.Accelerators.Add(new Accelerator { Name = "H100", Count = 8 });
                break;
        }
        return offer;
    }
}
