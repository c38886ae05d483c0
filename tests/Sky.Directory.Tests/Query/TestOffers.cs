using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Directory.Query;
using Sky.Directory.V1;

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
/// Offers built from the SkyPilot catalogs in ../shared/catalogs/skypilot (a small ad-hoc reader: the real
/// importer lives in Catalog/), plus generated service instances, for tests and measurements at catalog scale.
/// </summary>
internal static class CatalogOffers
{
    /// <summary>The catalog folder next to the repository (found above the test binaries, or above this source file when
    /// the build output lives elsewhere, e.g. --artifacts-path), or null when it is absent.</summary>
    public static string? CatalogDirectory([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
            for (var dir = start.Length > 0 ? new DirectoryInfo(start) : null; dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln")))
                {
                    var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "catalogs", "skypilot"));
                    return System.IO.Directory.Exists(path) ? path : null;
                }
        return null;
    }

    /// <summary>Compute offers from one provider's vms.csv (columns found by header name).</summary>
    public static List<Offer> Load(string catalogDirectory, string provider)
    {
        var lines = File.ReadAllLines(Path.Combine(catalogDirectory, provider, "vms.csv"));
        var header = Split(lines[0]);
        int Col(string name) => header.IndexOf(name);
        int type = Col("InstanceType"), accName = Col("AcceleratorName"), accCount = Col("AcceleratorCount"), vcpus = Col("vCPUs"),
            memory = Col("MemoryGiB"), price = Col("Price"), spot = Col("SpotPrice"), region = Col("Region"),
            zone = Col("AvailabilityZone"), arch = Col("Arch");
        var offers = new List<Offer>(lines.Length);
        for (var n = 1; n < lines.Length; n++)
        {
            var f = Split(lines[n]);
            if (f.Count < header.Count || f[type].Length == 0) continue;
            string At(int i) => i >= 0 && i < f.Count ? f[i] : "";
            var offer = TestOffers.Compute(
                id: HashId(provider, $"{f[type]}/{At(region)}/{At(zone)}/{n}"), provider: provider, region: At(region), zone: At(zone), instanceType: f[type],
                price: Decimal(At(price)), spot: Decimal(At(spot)), vcpus: (double)(Decimal(At(vcpus)) ?? 0),
                memory: (double)(Decimal(At(memory)) ?? 0), arch: At(arch).Length > 0 ? At(arch) : "x86_64");
            if (At(accName).Length > 0 && Decimal(At(accCount)) is { } count && count >= 1)
                offer.Hardware.Accelerators.Add(new Accelerator { Name = At(accName), Count = (int)count });
            offers.Add(offer);
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

    // Ids shaped like the directory's (provider, '-', a hash), so id order is unrelated to catalog order.
    private static string HashId(string provider, string key) =>
        $"{provider}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..20]}";

    private static decimal? Decimal(string text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static List<string> Split(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
