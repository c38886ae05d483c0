using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Directory.Tests;

/// <summary>Every directory RPC over the wire (TestServer), on the in-memory store.</summary>
public sealed class DirectoryApiTests
{
    private static Task<TestMesh> StartAsync(FakeTimeProvider? time = null, DirectoryOptions? options = null) =>
        TestMesh.StartAsync("directory", configure: b =>
        {
            if (time is not null) b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSingleton(options ?? new DirectoryOptions { SeedBuiltinCatalog = false });
        });

    private static async Task<DirectoryClient> ProviderAsync(TestMesh mesh, string provider) =>
        mesh.Client<DirectoryClient>(await mesh.IssueKeyAsync(PrincipalKind.Provider, provider));

    private static async Task<RpcException> FailsAsync(Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        return ex;
    }

    private static BadRequest.Types.FieldViolation Violation(RpcException ex, string field) =>
        ex.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.First(v => v.Field == field);

    [Fact]
    public async Task Register_returns_the_stored_offer_and_registering_the_key_again_updates_it_in_place()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");

        var first = await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")));
        Assert.StartsWith("aws-", first.Offer.OfferId);
        Assert.Equal("registered", first.Offer.Origin);
        Assert.NotEmpty(first.Offer.LeaseId);
        Assert.True(first.Offer.Revision > 0);
        Assert.Equal(TimeSpan.FromSeconds(30), first.Ttl.ToTimeSpan());

        var again = await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1", price: 0.75m)));
        Assert.Equal(first.Offer.OfferId, again.Offer.OfferId);
        Assert.Equal(first.Offer.LeaseId, again.Offer.LeaseId);
        Assert.Equal(first.Offer.CreatedAt, again.Offer.CreatedAt);
        Assert.True(again.Offer.Revision > first.Offer.Revision);

        var got = await aws.GetOfferAsync(new GetOfferRequest { OfferId = first.Offer.OfferId });
        Assert.Equal(0.75m, got.Offer.Price.OnDemandHourly.ToDecimal());
    }

    [Fact]
    public async Task Register_rejects_bad_offers_with_every_field_named()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        var bad = Offers.Compute("aws", "us-east-1", "m6i.large", 0.096m);
        bad.Key = "has space";
        bad.Load = 1.5;
        bad.Price.OnDemandHourly.CurrencyCode = "EUR";
        var ex = await FailsAsync(() => aws.RegisterAsync(Offers.Register(bad)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("printable", Violation(ex, "offer.key").Description);
        Assert.Contains("between 0 and 1", Violation(ex, "offer.load").Description);
        Assert.Contains("USD", Violation(ex, "offer.price.on_demand_hourly.currency_code").Description);

        var noTtl = await FailsAsync(() => aws.RegisterAsync(new RegisterRequest { Offer = Offers.Postgres("aws", "us-east-1", "pg-1") }).ResponseAsync);
        Assert.Equal("ttl", Violation(noTtl, "ttl").Field);

        var badName = Offers.Postgres("aws", "us-east-1", "pg-1");
        badName.Name = "pg_1.postgres.us-east-1.aws.sky";
        var nameEx = await FailsAsync(() => aws.RegisterAsync(Offers.Register(badName)).ResponseAsync);
        Assert.StartsWith("at 2:", Violation(nameEx, "offer.name").Description);
    }

    [Fact]
    public async Task Providers_write_only_their_own_offers()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        var gcp = await ProviderAsync(mesh, "gcp");
        var ex = await FailsAsync(() => gcp.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1"))).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);

        var offer = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")))).Offer;
        var denied = await FailsAsync(() => gcp.DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        // Others' leases are reported as not alive; the stream is not failed.
        using var keepAlive = gcp.KeepAlive();
        await keepAlive.RequestStream.WriteAsync(new KeepAliveRequest { LeaseIds = { offer.LeaseId } });
        Assert.True(await keepAlive.ResponseStream.MoveNext(CancellationToken.None));
        Assert.False(keepAlive.ResponseStream.Current.Leases.Single().Alive);

        // The operator may act for any provider.
        Assert.True((await mesh.Client<DirectoryClient>().DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId })).Deregistered);
    }

    [Fact]
    public async Task Deregister_is_idempotent_and_publishes_once()
    {
        await using var mesh = await StartAsync();
        var events = new List<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Directory, "test", (e, _) => { lock (events) events.Add(e); return Task.CompletedTask; });
        var aws = await ProviderAsync(mesh, "aws");
        var offer = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")))).Offer;

        var first = await aws.DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId });
        Assert.True(first.Deregistered);
        Assert.True(first.Revision > offer.Revision);
        var second = await aws.DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId });
        Assert.False(second.Deregistered);
        Assert.Equal(0, second.Revision);
        var missing = await FailsAsync(() => aws.GetOfferAsync(new GetOfferRequest { OfferId = offer.OfferId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        await Eventually(() => { lock (events) return events.Count(e => e.Type == "directory.offer.deregistered") == 1; });
        lock (events)
        {
            Assert.Equal(1, events.Count(e => e.Type == "directory.offer.registered"));
            var removed = (DirectoryOfferDeregistered)events.Single(e => e.Type == "directory.offer.deregistered").Data;
            Assert.Equal(first.Revision, removed.Revision);
        }
    }

    [Fact]
    public async Task An_offer_whose_lease_lapses_disappears_and_expired_is_published_while_a_renewed_one_stays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-28T12:00:00Z"));
        await using var mesh = await StartAsync(time);
        var expired = new TaskCompletionSource<DirectoryOfferExpired>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Directory, "test", (e, _) =>
        {
            if (e.Type == "directory.offer.expired") expired.TrySetResult((DirectoryOfferExpired)e.Data);
            return Task.CompletedTask;
        });
        var aws = await ProviderAsync(mesh, "aws");
        var lapsing = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1"), ttlSeconds: 10))).Offer;
        var kept = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-2"), ttlSeconds: 10))).Offer;

        using var keepAlive = aws.KeepAlive();
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(4));
            await keepAlive.RequestStream.WriteAsync(new KeepAliveRequest { LeaseIds = { kept.LeaseId, "l-unknown" } });
            Assert.True(await keepAlive.ResponseStream.MoveNext(CancellationToken.None));
            var statuses = keepAlive.ResponseStream.Current.Leases;
            Assert.True(statuses[0].Alive);
            Assert.Equal(TimeSpan.FromSeconds(10), statuses[0].Ttl.ToTimeSpan());
            Assert.False(statuses[1].Alive);
            Assert.Equal("l-unknown", statuses[1].LeaseId);
        }

        var evt = await expired.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(lapsing.OfferId, evt.OfferId);
        Assert.Equal(lapsing.LeaseId, evt.LeaseId);
        var gone = await FailsAsync(() => aws.GetOfferAsync(new GetOfferRequest { OfferId = lapsing.OfferId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        var stays = await aws.GetOfferAsync(new GetOfferRequest { OfferId = kept.OfferId });
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(10), stays.Offer.LeaseExpiresAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task Query_filters_ranks_by_price_and_pages_with_tokens()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        var gcp = await ProviderAsync(mesh, "gcp");
        for (var i = 0; i < 5; i++)
        {
            await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "eu-west-1", $"pg-{i}", version: $"{14 + i % 3}.1", price: 1m + i)));
            await gcp.RegisterAsync(Offers.Register(Offers.Postgres("gcp", "europe-west1", $"pg-{i}", version: "16.0", price: 0.5m + i)));
        }
        var request = new QueryOffersRequest
        {
            Selector = "service=postgres, version>=15 <17, provider in (aws,gcp), region~eu*",
            Preference = new Preference { PriceWeight = 1 },
            Page = new PageRequest { PageSize = 3 },
        };
        var seen = new List<Offer>();
        var reply = await aws.QueryOffersAsync(request);
        Assert.True(reply.Revision >= 10);
        seen.AddRange(reply.Offers);
        while (reply.Page.NextPageToken.Length > 0)
        {
            request.Page.PageToken = reply.Page.NextPageToken;
            reply = await aws.QueryOffersAsync(request);
            seen.AddRange(reply.Offers);
        }
        // aws versions 14.1,15.1,16.1,14.1,15.1 -> 3 match (15.1, 16.1, 15.1); all 5 gcp match.
        Assert.Equal(8, seen.Count);
        Assert.Equal(8, seen.Select(o => o.OfferId).Distinct().Count());
        var prices = seen.Select(o => o.Price.OnDemandHourly.ToDecimal()).ToList();
        Assert.Equal(prices.Order(), prices);
        Assert.Equal(0.5m, prices[0]);
    }

    [Fact]
    public async Task A_repeated_query_is_answered_from_the_cache_only_while_nothing_changed()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "eu-west-1", "pg-1", price: 2m)));
        var request = new QueryOffersRequest { Selector = "service=postgres", Preference = new Preference { PriceWeight = 1 }, Page = new PageRequest { PageSize = 5 } };

        var first = await aws.QueryOffersAsync(request);
        var cached = await aws.QueryOffersAsync(request);
        Assert.Equal(first, cached);

        // A write changes the view: the same request now sees it, at the new revision.
        var cheaper = await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "eu-west-1", "pg-2", price: 1m)));
        var after = await aws.QueryOffersAsync(request);
        Assert.Equal(["pg-2", "pg-1"], after.Offers.Select(o => o.Key.Split('.')[0]));
        Assert.Equal(cheaper.Offer.Revision, after.Revision);
        await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "eu-west-1", "pg-2", price: 3m)));   // a price change
        Assert.Equal(["pg-1", "pg-2"], (await aws.QueryOffersAsync(request)).Offers.Select(o => o.Key.Split('.')[0]));

        // A grid write moves the revision but not the offers: the cached answer carries the current revision.
        var grid = await aws.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Entries = { Egress("aws", "eu-west-1", "internet", "", 0.09m) } });
        var atGrid = await aws.QueryOffersAsync(request);
        Assert.Equal(grid.Revision, atGrid.Revision);
        Assert.Equal(["pg-1", "pg-2"], atGrid.Offers.Select(o => o.Key.Split('.')[0]));
    }

    [Fact]
    public async Task A_bad_selector_is_invalid_argument_pointing_at_the_character()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<DirectoryClient>();
        var ex = await FailsAsync(() => client.QueryOffersAsync(new QueryOffersRequest { Selector = "service=postgres, price<=abc" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("at 25:", Violation(ex, "selector").Description);
    }

    [Fact]
    public async Task Watch_delivers_matching_changes_in_revision_order_and_resumes_from_a_revision()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        var client = mesh.Client<DirectoryClient>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = client.Watch(new WatchRequest { Selector = "service=postgres, price<=1" }, cancellationToken: cts.Token);
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        var start = watch.ResponseStream.Current.Revision;
        Assert.Empty(watch.ResponseStream.Current.Changes);

        var cheap = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1", price: 0.5m)))).Offer;
        await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-2", price: 5m)));        // never matches
        var pricier = (await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1", price: 2m)))).Offer; // leaves the selection
        var changes = new List<OfferChange>();
        while (changes.Count < 2 && await watch.ResponseStream.MoveNext(cts.Token))
            changes.AddRange(watch.ResponseStream.Current.Changes);
        Assert.Equal([OfferChangeType.Registered, OfferChangeType.Updated], changes.Select(c => c.Type));
        Assert.Equal([true, false], changes.Select(c => c.Matches));
        Assert.Equal([cheap.Revision, pricier.Revision], changes.Select(c => c.Revision));

        // A second watch from the first revision replays the same changes.
        using var replay = client.Watch(new WatchRequest { Selector = "service=postgres, price<=1", StartRevision = start + 1 }, cancellationToken: cts.Token);
        var replayed = new List<OfferChange>();
        while (replayed.Count < 2 && await replay.ResponseStream.MoveNext(cts.Token))
            replayed.AddRange(replay.ResponseStream.Current.Changes);
        Assert.Equal(changes.Select(c => c.Revision), replayed.Select(c => c.Revision));
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Watch_from_a_compacted_revision_says_so_and_ends()
    {
        await using var mesh = await StartAsync(options: new DirectoryOptions { SeedBuiltinCatalog = false, HistoryCapacity = 3 });
        var aws = await ProviderAsync(mesh, "aws");
        for (var i = 0; i < 6; i++) await aws.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", $"pg-{i}")));
        using var watch = mesh.Client<DirectoryClient>().Watch(new WatchRequest { StartRevision = 1 });
        var responses = new List<WatchResponse>();
        while (await watch.ResponseStream.MoveNext(CancellationToken.None)) responses.Add(watch.ResponseStream.Current);
        var only = Assert.Single(responses);
        Assert.True(only.Compacted);
        Assert.Equal(4, only.CompactRevision);
    }

    [Fact]
    public async Task Catalog_import_adds_updates_removes_and_reports_bad_rows_with_line_numbers()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<DirectoryClient>();
        const string header = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n";
        var first = await ImportAsync(client, "lambda", header +
            "gpu_1x_a100,A100,1.0,30.0,200.0,1.29,us-east-1,,\n" +
            "gpu_8x_h100,H100,8.0,208.0,1800.0,23.92,us-east-1,,\n" +
            "broken,A100,1.0,x,200.0,1.29,us-east-1,,\n", replace: false);
        Assert.Equal(2, first.OffersAdded);
        Assert.Equal(1, first.RowsSkipped);
        Assert.Equal(4, first.Issues.Single().Line);

        var second = await ImportAsync(client, "lambda", header +
            "gpu_1x_a100,A100,1.0,30.0,200.0,1.49,us-east-1,,\n", replace: true);
        Assert.Equal(0, second.OffersAdded);
        Assert.Equal(1, second.OffersUpdated);
        Assert.Equal(1, second.OffersRemoved);

        var all = await client.QueryOffersAsync(new QueryOffersRequest { Selector = "provider=lambda" });
        var offer = Assert.Single(all.Offers);
        Assert.Equal("catalog", offer.Origin);
        Assert.Equal(1.49m, offer.Price.OnDemandHourly.ToDecimal());

        var gpus = await client.ListAcceleratorsAsync(new ListAcceleratorsRequest { Name = "a100" });
        Assert.Equal("gpu_1x_a100", Assert.Single(gpus.Accelerators).InstanceType);
    }

    private static async Task<ImportCatalogResponse> ImportAsync(DirectoryClient client, string provider, string csv, bool replace)
    {
        using var call = client.ImportCatalog();
        var lines = csv.Split('\n');
        // Two parts, each ending at a line break, as the contract asks.
        var cut = string.Join('\n', lines.Take(2)) + "\n";
        await call.RequestStream.WriteAsync(new ImportCatalogRequest { Provider = provider, Csv = cut, Replace = replace });
        await call.RequestStream.WriteAsync(new ImportCatalogRequest { Csv = csv[cut.Length..] });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    [Fact]
    public async Task Grids_are_written_by_their_providers_and_read_back_in_order()
    {
        await using var mesh = await StartAsync();
        var aws = await ProviderAsync(mesh, "aws");
        var put = new PutEgressPriceGridRequest
        {
            Entries =
            {
                Egress("aws", "us-west-2", "internet", "", 0.09m),
                Egress("aws", "us-east-1", "gcp", "", 0.09m),
                Egress("aws", "us-east-1", "aws", "eu-west-1", 0.02m),
            },
        };
        var written = await aws.PutEgressPriceGridAsync(put);
        Assert.Equal(3, written.EntriesWritten);
        var denied = await FailsAsync(() => aws.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Entries = { Egress("gcp", "us-central1", "aws", "", 0.12m) } }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var read = await aws.GetEgressPriceGridAsync(new GetEgressPriceGridRequest { Src = new Location { Region = "us-east-1" } });
        Assert.Equal(written.Revision, read.Revision);
        Assert.Equal(["aws", "gcp"], read.Entries.Select(e => e.Dst.Provider));

        var replaced = await aws.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Replace = true, Entries = { Egress("aws", "us-east-1", "internet", "", 0.09m) } });
        Assert.Equal(3, replaced.EntriesRemoved);

        var throughput = new PutThroughputGridRequest
        {
            Entries = { new Throughput { Src = new Location { Provider = "aws", Region = "us-east-1" }, Dst = new Location { Provider = "gcp", Region = "us-central1" }, BitsPerSecond = 5_000_000_000, Connections = 64 } },
        };
        var operatorClient = mesh.Client<DirectoryClient>();
        Assert.Equal(1, (await operatorClient.PutThroughputGridAsync(throughput)).EntriesWritten);
        var bad = await FailsAsync(() => operatorClient.PutThroughputGridAsync(new PutThroughputGridRequest { Entries = { new Throughput { Src = throughput.Entries[0].Src } } }).ResponseAsync);
        Assert.Equal("entries[0].dst.provider", Violation(bad, "entries[0].dst.provider").Field);
        Assert.Equal(5_000_000_000, (await aws.GetThroughputGridAsync(new())).Entries.Single().BitsPerSecond);
    }

    [Fact]
    public async Task Egress_tiers_must_ascend_and_end_unbounded_so_every_volume_has_a_price()
    {
        await using var mesh = await TestMesh.StartAsync("directory");
        var client = mesh.Client<DirectoryClient>();
        foreach (var (tiers, bad) in new[]
        {
            (new long[] { 10_240, 51_200 }, 1),   // the last tier bounded: volumes past 51,200 GB would have no price
            (new long[] { 0, 0 }, 0),             // an unbounded tier before the last
            (new long[] { 10_240, 10_240, 0 }, 1),// not ascending
        })
        {
            var entry = Egress("aws", "us-east-1", "internet", "", 0.09m);
            entry.Tiers.Clear();
            entry.Tiers.AddRange(tiers.Select(t => new EgressTier { UpToGb = t, PricePerGb = Offers.Usd(0.05m) }));
            var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.PutEgressPriceGridAsync(new PutEgressPriceGridRequest { Entries = { entry } }).ResponseAsync);
            Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains($"entries[0].tiers[{bad}].up_to_gb", e.Status.Detail);
        }
    }

    private static EgressPrice Egress(string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal perGb) => new()
    {
        Src = new Location { Provider = srcProvider, Region = srcRegion },
        Dst = new Location { Provider = dstProvider, Region = dstRegion },
        Tiers = { new EgressTier { UpToGb = 0, PricePerGb = Offers.Usd(perGb) } },
    };

    [Fact]
    public async Task The_built_in_catalog_is_loaded_on_embedded_defaults()
    {
        await using var mesh = await TestMesh.StartAsync("directory");
        var client = mesh.Client<DirectoryClient>();
        var compute = await client.QueryOffersAsync(new QueryOffersRequest { Selector = "kind=compute, origin=builtin", Page = new PageRequest { PageSize = 1000 } });
        Assert.Equal(["aws", "azure", "gcp"], compute.Offers.Select(o => o.Location.Provider).Distinct().Order());
        var egress = await client.GetEgressPriceGridAsync(new());
        Assert.NotEmpty(egress.Entries);
    }

    [Fact]
    public async Task With_its_store_unreachable_the_host_starts_and_calls_are_unavailable()
    {
        await using var mesh = await TestMesh.StartAsync("directory", store: "redis://127.0.0.1:9");
        var ex = await FailsAsync(() => mesh.Client<DirectoryClient>().QueryOffersAsync(new QueryOffersRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    internal static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not met in 10 s");
            await Task.Delay(20);
        }
    }
}
