using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.Engine;
using Sky.Directory.V1;
using Sky.Testing;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Directory.Tests;

/// <summary>The directory on real Redis: durable across restarts, shared by hosts, watches across hosts.</summary>
public sealed class DirectoryRedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static Task<TestMesh> StartAsync(string store, bool seed = false, string? operatorToken = null) =>
        TestMesh.StartAsync("directory", store: store, operatorToken: operatorToken,
            configure: b => b.Services.AddSingleton(new DirectoryOptions { SeedBuiltinCatalog = seed }));

    [SkippableFact]
    public async Task Offers_grids_and_revisions_survive_a_restart()
    {
        var store = await redis.NewDatabaseAsync();
        Offer offer;
        long revision;
        string token;
        await using (var first = await StartAsync(store))
        {
            token = first.OperatorToken;
            var client = first.Client<DirectoryClient>();
            offer = (await client.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1"), ttlSeconds: 600))).Offer;
            var grid = await client.PutThroughputGridAsync(new PutThroughputGridRequest
            {
                Entries = { new Throughput { Src = new Location { Provider = "aws", Region = "us-east-1" }, Dst = new Location { Provider = "aws", Region = "eu-west-1" }, BitsPerSecond = 4_000_000_000 } },
            });
            revision = grid.Revision;
        }

        await using var second = await StartAsync(store, operatorToken: token);
        var again = second.Client<DirectoryClient>();
        var got = (await again.GetOfferAsync(new GetOfferRequest { OfferId = offer.OfferId })).Offer;
        Assert.Equal(offer, got);
        var query = await again.QueryOffersAsync(new QueryOffersRequest { Selector = "service=postgres" });
        Assert.Equal(revision, query.Revision);
        Assert.Equal(4_000_000_000, (await again.GetThroughputGridAsync(new())).Entries.Single().BitsPerSecond);

        // The next write continues the revision sequence.
        var next = await again.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-2")));
        Assert.Equal(revision + 1, next.Offer.Revision);
    }

    [SkippableFact]
    public async Task Two_hosts_on_one_redis_share_the_directory_and_a_watch_on_one_sees_writes_on_the_other()
    {
        var store = await redis.NewDatabaseAsync();
        await using var a = await StartAsync(store);
        await using var b = await StartAsync(store, operatorToken: a.OperatorToken);
        var onA = a.Client<DirectoryClient>();
        var onB = b.Client<DirectoryClient>();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = onB.Watch(new WatchRequest { Selector = "provider=gcp" }, cancellationToken: cts.Token);
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));

        await onA.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")));
        var written = (await onA.RegisterAsync(Offers.Register(Offers.Postgres("gcp", "us-central1", "pg-1")))).Offer;
        var change = await NextChangeAsync(watch, cts.Token);
        Assert.Equal(OfferChangeType.Registered, change.Type);
        Assert.Equal(written.OfferId, change.Offer.OfferId);
        Assert.Equal(written.Revision, change.Revision);

        // B reads its own view; it has caught up by the time the watch delivered.
        var onBView = await onB.QueryOffersAsync(new QueryOffersRequest { Selector = "service=postgres" });
        Assert.Equal(2, onBView.Offers.Count);

        // A removal made on B reaches A.
        await onB.DeregisterAsync(new DeregisterRequest { OfferId = written.OfferId });
        var removed = await NextChangeAsync(watch, cts.Token);
        Assert.Equal(OfferChangeType.Deregistered, removed.Type);
        await DirectoryApiTests.Eventually(() => a.Services.GetRequiredService<DirectoryEngine>().Count == 1);
        await cts.CancelAsync();
    }

    [SkippableFact]
    public async Task A_lapsed_lease_expires_once_across_hosts_and_renewals_on_one_host_count_on_the_other()
    {
        var store = await redis.NewDatabaseAsync();
        await using var a = await StartAsync(store);
        await using var b = await StartAsync(store, operatorToken: a.OperatorToken);
        var provider = await a.IssueKeyAsync(PrincipalKind.Provider, "aws");
        var onA = a.Client<DirectoryClient>(provider);
        var onB = b.Client<DirectoryClient>(provider);
        var lapsing = (await onA.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1"), ttlSeconds: 1))).Offer;
        var kept = (await onA.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-2"), ttlSeconds: 2))).Offer;

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = onA.Watch(new WatchRequest { StartRevision = kept.Revision + 1 }, cancellationToken: cts.Token);
        using var keepAlive = onB.KeepAlive(cancellationToken: cts.Token);
        var expired = NextChangeAsync(watch, cts.Token);
        while (!expired.IsCompleted)
        {
            await keepAlive.RequestStream.WriteAsync(new KeepAliveRequest { LeaseIds = { kept.LeaseId } });
            Assert.True(await keepAlive.ResponseStream.MoveNext(cts.Token));
            Assert.True(keepAlive.ResponseStream.Current.Leases.Single().Alive);
            await Task.WhenAny(expired, Task.Delay(400, cts.Token));
        }
        var change = await expired;
        Assert.Equal(OfferChangeType.Expired, change.Type);
        Assert.Equal(lapsing.OfferId, change.Offer.OfferId);
        Assert.Equal(kept.OfferId, (await onB.GetOfferAsync(new GetOfferRequest { OfferId = kept.OfferId })).Offer.OfferId);
        await keepAlive.RequestStream.CompleteAsync();
        await cts.CancelAsync();
    }

    private static async Task<OfferChange> NextChangeAsync(Grpc.Core.AsyncServerStreamingCall<WatchResponse> watch, CancellationToken ct)
    {
        while (await watch.ResponseStream.MoveNext(ct))
            if (watch.ResponseStream.Current.Changes.Count > 0) return watch.ResponseStream.Current.Changes[0];
        throw new InvalidOperationException("watch ended");
    }
}
