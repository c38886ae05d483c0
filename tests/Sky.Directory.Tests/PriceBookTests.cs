using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Directory.V1;
using Sky.Testing;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Directory.Tests;

/// <summary>
/// GetPrices: the versioned price book. Every price change is kept at its revision, on the in-memory store and on
/// real Redis (where the book is written by the same Lua commit as the change, and survives a restart).
/// </summary>
public sealed class PriceBookTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly Location UsEast = new() { Provider = "aws", Region = "us-east-1" };
    private static readonly Location EuWest = new() { Provider = "aws", Region = "eu-west-1" };
    private static readonly Location GcpCentral = new() { Provider = "gcp", Region = "us-central1" };
    private static readonly Location AzureEast = new() { Provider = "azure", Region = "eastus" };

    private async Task<string> StoreAsync(string store) => store == "memory" ? store : await redis.NewDatabaseAsync();

    private static Task<TestMesh> StartAsync(string store, string? token = null) =>
        TestMesh.StartAsync("directory", store: store, operatorToken: token,
            configure: b => b.Services.AddSingleton(new DirectoryOptions { SeedBuiltinCatalog = false }));

    private static Task<GetPricesResponse> OffersAt(DirectoryClient client, long revision, params string[] ids) =>
        client.GetPricesAsync(new GetPricesRequest { Revision = revision, OfferIds = { ids } }).ResponseAsync;

    private static async Task<EgressPriceAt> RouteAt(DirectoryClient client, long revision, Location src, Location dst) =>
        (await client.GetPricesAsync(new GetPricesRequest { Revision = revision, Routes = { new RegionPair { Src = src, Dst = dst } } })).Routes.Single();

    private static EgressPrice Egress(Location src, Location dst, params (long UpTo, decimal Price)[] tiers) => new()
    {
        Src = src, Dst = dst,
        Tiers = { tiers.Select(t => new EgressTier { UpToGb = t.UpTo, PricePerGb = Offers.Usd(t.Price) }) },
    };

    [SkippableTheory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_offer_is_priced_as_it_was_at_each_revision_and_a_change_without_a_new_price_adds_no_version(string kind)
    {
        var store = await StoreAsync(kind);
        string token;
        string id;
        long registered, loaded, repriced, removed;
        await using (var mesh = await StartAsync(store))
        {
            token = mesh.OperatorToken;
            var client = mesh.Client<DirectoryClient>();
            var offer = Offers.Compute("aws", "us-east-1", "g6.xlarge", 0.8048m);
            var first = (await client.RegisterAsync(Offers.Register(offer, 600))).Offer;
            (id, registered) = (first.OfferId, first.Revision);
            offer.Load = 0.5;   // dynamic, but not a price
            loaded = (await client.RegisterAsync(Offers.Register(offer, 600))).Offer.Revision;
            offer.Price.SpotHourly = Offers.Usd(0.31m);
            repriced = (await client.RegisterAsync(Offers.Register(offer, 600))).Offer.Revision;
            await client.DeregisterAsync(new DeregisterRequest { OfferId = id });
            removed = (await client.QueryOffersAsync(new QueryOffersRequest { Selector = "kind=compute" })).Revision;
            Assert.True(registered < loaded && loaded < repriced && repriced < removed);

            await AssertBookAsync(client);
        }
        if (kind == "memory") return;
        // On Redis the book is the store's: a new process answers the same.
        await using var again = await StartAsync(store, token);
        await AssertBookAsync(again.Client<DirectoryClient>());

        async Task AssertBookAsync(DirectoryClient client)
        {
            if (registered > 1) Assert.False((await OffersAt(client, registered - 1, id)).Offers.Single().Found);

            var atFirst = (await OffersAt(client, registered, id)).Offers.Single();
            Assert.True(atFirst.Found);
            Assert.Equal(registered, atFirst.Revision);
            Assert.Equal(0.8048m, atFirst.Price.OnDemandHourly.ToDecimal());
            Assert.Equal(Math.Round(0.8048m / 3, 4), atFirst.Price.SpotHourly.ToDecimal());

            var atLoad = (await OffersAt(client, loaded, id)).Offers.Single();
            Assert.Equal(registered, atLoad.Revision);
            Assert.Equal(atFirst.Price, atLoad.Price);

            var atNew = (await OffersAt(client, repriced, id, "no-such-offer")).Offers;
            Assert.Equal(repriced, atNew[0].Revision);
            Assert.Equal(0.31m, atNew[0].Price.SpotHourly.ToDecimal());
            Assert.Equal(0.8048m, atNew[0].Price.OnDemandHourly.ToDecimal());
            Assert.Equal(new OfferPriceAt { OfferId = "no-such-offer" }, atNew[1]);

            Assert.False((await OffersAt(client, removed, id)).Offers.Single().Found);
        }
    }

    [SkippableTheory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_egress_pair_is_priced_by_the_grid_as_it_was_with_the_same_precedence_as_a_live_grid(string kind)
    {
        await using var mesh = await StartAsync(await StoreAsync(kind));
        var client = mesh.Client<DirectoryClient>();
        var first = await client.PutEgressPriceGridAsync(new PutEgressPriceGridRequest
        {
            Entries =
            {
                Egress(UsEast, EuWest, (0, 0.02m)),
                Egress(UsEast, new Location { Provider = "gcp" }, (10_240, 0.09m), (0, 0.085m)),
                Egress(UsEast, new Location { Provider = "internet" }, (0, 0.12m)),
            },
        });
        // Replacing aws's entries: the pair gets a new price, the other two are removed.
        var second = await client.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Entries = { Egress(UsEast, EuWest, (0, 0.03m)) }, Replace = true });
        Assert.Equal(3, second.EntriesRemoved);

        var exact = await RouteAt(client, first.Revision, UsEast, EuWest);
        Assert.Equal((V1.EgressMatch.ExactPair, first.Revision, 0.02m), (exact.Match, exact.Revision, exact.Tiers.Single().PricePerGb.ToDecimal()));
        var anyRegion = await RouteAt(client, first.Revision, UsEast, GcpCentral);
        Assert.Equal(V1.EgressMatch.AnyRegion, anyRegion.Match);
        Assert.Equal([(10_240L, 0.09m), (0L, 0.085m)], anyRegion.Tiers.Select(t => (t.UpToGb, t.PricePerGb.ToDecimal())));
        var internet = await RouteAt(client, first.Revision, UsEast, AzureEast);
        Assert.Equal((V1.EgressMatch.Internet, 0.12m), (internet.Match, internet.Tiers.Single().PricePerGb.ToDecimal()));
        var same = await RouteAt(client, first.Revision, UsEast, UsEast);
        Assert.Equal((V1.EgressMatch.SameRegion, 0L, 0m), (same.Match, same.Revision, same.Tiers.Single().PricePerGb.ToDecimal()));

        var later = await RouteAt(client, second.Revision, UsEast, EuWest);
        Assert.Equal((V1.EgressMatch.ExactPair, second.Revision, 0.03m), (later.Match, later.Revision, later.Tiers.Single().PricePerGb.ToDecimal()));
        var gone = await RouteAt(client, second.Revision, UsEast, GcpCentral);
        Assert.Equal(V1.EgressMatch.None, gone.Match);
        Assert.Empty(gone.Tiers);
        // Before the first write nothing was priced.
        if (first.Revision > 1) Assert.Equal(V1.EgressMatch.None, (await RouteAt(client, first.Revision - 1, UsEast, EuWest)).Match);
    }

    [Fact]
    public async Task Bad_requests_name_the_field_and_a_future_revision_is_out_of_range()
    {
        await using var mesh = await StartAsync("memory");
        var client = mesh.Client<DirectoryClient>();
        var revision = (await client.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")))).Offer.Revision;

        async Task<(StatusCode, string)> Fails(GetPricesRequest request)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => client.GetPricesAsync(request).ResponseAsync);
            return (e.StatusCode, e.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations[0].Field);
        }

        Assert.Equal((StatusCode.InvalidArgument, "revision"), await Fails(new GetPricesRequest { OfferIds = { "x" } }));
        Assert.Equal((StatusCode.OutOfRange, "revision"), await Fails(new GetPricesRequest { Revision = revision + 1, OfferIds = { "x" } }));
        Assert.Equal((StatusCode.InvalidArgument, "offer_ids"), await Fails(new GetPricesRequest { Revision = revision }));
        Assert.Equal((StatusCode.InvalidArgument, "offer_ids"),
            await Fails(new GetPricesRequest { Revision = revision, OfferIds = { Enumerable.Range(0, DirectoryEngine.MaxPriceItems + 1).Select(i => $"o{i}") } }));
        Assert.Equal((StatusCode.InvalidArgument, "offer_ids[1]"), await Fails(new GetPricesRequest { Revision = revision, OfferIds = { "x", "" } }));
        Assert.Equal((StatusCode.InvalidArgument, "routes[0].dst.region"),
            await Fails(new GetPricesRequest { Revision = revision, Routes = { new RegionPair { Src = UsEast, Dst = new Location { Provider = "gcp" } } } }));
    }
}
