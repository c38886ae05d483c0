using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.Domain;
using Sky.Directory.Query;
using Sky.Directory.V1;
using Sky.Testing;

namespace Sky.Directory.Tests.Query;

/// <summary>Builders of stored offers for query tests.</summary>
internal static class TestOffers
{
    public static Money Usd(decimal amount)
    {
        var units = decimal.Truncate(amount);
        return new Money { CurrencyCode = "USD", Units = (long)units, Nanos = (int)((amount - units) * 1_000_000_000m) };
    }

    public static Offer Compute(
        string id, string provider = "aws", string region = "us-east-1", string zone = "", string instanceType = "m5.large",
        decimal? price = null, decimal? spot = null, double vcpus = 2, double memory = 8, string? gpu = null, int gpuCount = 0,
        double? load = null, Availability availability = Availability.Unspecified, string arch = "x86_64", string origin = "catalog")
    {
        var offer = new Offer
        {
            OfferId = id,
            Key = $"{instanceType}/{region}/{zone}",
            Kind = OfferKind.Compute,
            Location = new Location { Provider = provider, Region = region, Zone = zone },
            InstanceType = instanceType,
            Hardware = new Hardware { Vcpus = vcpus, MemoryGib = memory, Arch = arch },
            Price = new Price(),
            Load = load,
            Availability = availability,
            Origin = origin,
        };
        if (price is { } p) offer.Price.OnDemandHourly = Usd(p);
        if (spot is { } s) offer.Price.SpotHourly = Usd(s);
        if (gpu is not null) offer.Hardware.Accelerators.Add(new Accelerator { Name = gpu, Count = gpuCount });
        return offer;
    }

    public static Offer Service(
        string id, string service = "postgres", string version = "16.2", string provider = "aws", string region = "us-east-1",
        string zone = "", decimal? price = null, double? load = null, Availability availability = Availability.Unspecified,
        string apiVersion = "", params (string Key, string Value)[] attributes)
    {
        var offer = new Offer
        {
            OfferId = id,
            Key = id,
            Kind = OfferKind.ServiceInstance,
            Location = new Location { Provider = provider, Region = region, Zone = zone },
            Service = service,
            Name = $"{id}.{service}.{region}.{provider}.sky",
            Version = version,
            ApiVersion = apiVersion,
            Price = new Price(),
            Load = load,
            Availability = availability,
            Origin = "registered",
        };
        if (price is { } p) offer.Price.OnDemandHourly = Usd(p);
        foreach (var (key, value) in attributes) offer.Attributes[key] = value;
        return offer;
    }

    public static OfferIndex Index(params Offer[] offers)
    {
        var index = new OfferIndex();
        foreach (var offer in offers) index.Upsert(OfferView.From(offer));
        return index;
    }

    /// <summary>Ids of the offers a selector matches, by brute force over every offer, sorted.</summary>
    public static List<string> BruteForce(OfferIndex index, string selector)
    {
        var parsed = Selector.Parse(selector);
        return [.. index.All.Where(parsed.Matches).Select(v => v.OfferId).Order(StringComparer.Ordinal)];
    }

    /// <summary>Every page of a query, concatenated.</summary>
    public static List<Offer> AllPages(OfferIndex index, QueryOffersRequest request, int pageSize, int maxPages = 100_000)
    {
        var all = new List<Offer>();
        var token = "";
        for (var pages = 0; pages < maxPages; pages++)
        {
            var page = request.Clone();
            page.Page = new PageRequest { PageSize = pageSize, PageToken = token };
            var (offers, response) = OfferQuery.Execute(index, page);
            all.AddRange(offers);
            token = response.NextPageToken;
            if (token.Length == 0) return all;
            Assert.NotEmpty(offers);
        }
        throw new InvalidOperationException("too many pages");
    }

    public static List<string> Ids(IEnumerable<Offer> offers) => [.. offers.Select(o => o.OfferId)];

    /// <summary>Asserts an INVALID_ARGUMENT with a BadRequest violation on <paramref name="field"/>; returns its description.</summary>
    public static string InvalidArgument(Action action, string field)
    {
        var error = Assert.Throws<RpcException>(action);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        var violation = Assert.Single(badRequest.FieldViolations);
        Assert.Equal(field, violation.Field);
        return violation.Description;
    }
}

/// <summary>
/// Offers built from the SkyPilot catalogs in ../shared/catalogs/skypilot, plus generated service instances, for
/// tests at catalog scale.
/// </summary>
internal static class CatalogOffers
{
    /// <summary>The catalog folder beside the checkout, or null when it is absent.</summary>
    public static string? CatalogDirectory() => SharedData.Find("catalogs/skypilot");

    /// <summary>Compute offers from one provider's vms.csv, read by the directory's own importer, with ids as the directory gives them.</summary>
    public static List<Offer> Load(string catalogDirectory, string provider)
    {
        using var reader = File.OpenText(Path.Combine(catalogDirectory, provider, "vms.csv"));
        var offers = SkyPilotCatalog.Read(reader, provider).Offers.ToList();
        foreach (var offer in offers)
        {
            offer.OfferId = OfferIds.For(provider, offer.Key);
            offer.Origin = "catalog";
        }
        return offers;
    }

    /// <summary>Service instances spread over the given compute offers' locations, with versions, loads and prices.</summary>
    public static List<Offer> Services(IReadOnlyList<Offer> compute, int count, int seed = 7)
    {
        var random = new Random(seed);
        string[] services = ["postgres", "kafka", "redis", "mysql", "nginx"];
        string[] versions = ["14.11", "15.6", "16.2", "17.0", "3.7.0", "7.2.4", "8.0.36", "1.25"];
        var offers = new List<Offer>(count);
        for (var i = 0; i < count; i++)
        {
            var at = compute[random.Next(compute.Count)];
            var availability = (Availability)random.Next(0, 4);
            var offer = TestOffers.Service(
                id: $"svc-{i:D6}", service: services[random.Next(services.Length)], version: versions[random.Next(versions.Length)],
                provider: at.Location.Provider, region: at.Location.Region, zone: at.Location.Zone,
                price: Math.Round((decimal)random.NextDouble() * 5, 4), load: random.Next(10) == 0 ? null : random.NextDouble(),
                availability: availability, attributes: [("tier", random.Next(3).ToString(CultureInfo.InvariantCulture))]);
            offer.InstanceType = at.InstanceType;
            offers.Add(offer);
        }
        return offers;
    }
}
