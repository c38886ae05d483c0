using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Directory.Engine;
using Sky.Directory.Store;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using StackExchange.Redis;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Directory.Tests;

/// <summary>On Redis, a directory change and the events announcing it are one commit: neither goes without the other.</summary>
public sealed class DirectoryOutboxTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly RedisKey Outbox = EventOutbox.Key("directory");

    private static Task<TestMesh> StartAsync(string store) =>
        TestMesh.StartAsync("directory", store: store, configure: b => b.Services.AddSingleton(new DirectoryOptions { SeedBuiltinCatalog = false }));

    private static (ConcurrentQueue<SkyEvent> Seen, IAsyncDisposable Subscription) Listen(TestMesh mesh)
    {
        var seen = new ConcurrentQueue<SkyEvent>();
        var subscription = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Directory, "outbox-test", (e, _) =>
        {
            seen.Enqueue(e);
            return Task.CompletedTask;
        });
        return (seen, subscription);
    }

    private static async Task<T> EventuallyAsync<T>(Func<T?> probe, TimeSpan within) where T : class
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (probe() is { } found) return found;
            await Task.Delay(50);
        }
        throw new TimeoutException("not seen within " + within);
    }

    [SkippableFact]
    public async Task Writes_through_the_api_publish_their_events_and_leave_the_outbox_empty()
    {
        await using var mesh = await StartAsync(await redis.NewDatabaseAsync());
        var (seen, subscription) = Listen(mesh);
        await using var _ = subscription;
        var client = mesh.Client<DirectoryClient>();
        var offer = (await client.RegisterAsync(Offers.Register(Offers.Postgres("aws", "us-east-1", "pg-1")))).Offer;
        await client.DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId });
        await client.PutThroughputGridAsync(new PutThroughputGridRequest
        {
            Entries = { new Throughput { Src = new() { Provider = "aws", Region = "us-east-1" }, Dst = new() { Provider = "aws", Region = "eu-west-1" }, BitsPerSecond = 1_000_000 } },
        });

        await EventuallyAsync(() => seen.Count >= 3 ? seen : null, TimeSpan.FromSeconds(10));
        var events = seen.ToArray();
        var registered = (DirectoryOfferRegistered)events[0].Data;
        Assert.Equal((offer.Revision, offer.Revision), (registered.Revision, registered.Offer.Revision));
        var deregistered = (DirectoryOfferDeregistered)events[1].Data;
        Assert.Equal(offer.Revision + 1, deregistered.Revision);
        Assert.Equal(offer.Revision, deregistered.Offer.Revision);   // the removed version keeps its own revision
        var grid = (DirectoryThroughputGridUpdated)events[2].Data;
        Assert.Equal((offer.Revision + 2, "throughput"), (grid.Revision, events[2].Subject));
        var db = mesh.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        Assert.Equal(0, await db.StreamLengthAsync(Outbox));
    }

    [SkippableFact]
    public async Task A_host_that_dies_between_commit_and_publish_loses_no_event_and_a_failed_commit_announces_nothing()
    {
        await using var mesh = await StartAsync(await redis.NewDatabaseAsync());
        var (seen, subscription) = Listen(mesh);
        await using var _ = subscription;
        var log = mesh.Services.GetRequiredService<IDirectoryLog>();
        var outbox = mesh.Services.GetRequiredKeyedService<EventOutbox>("directory");
        var db = mesh.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

        // Commit as the engine does, then "die": DeliverAsync is never called.
        var offer = Offers.Postgres("gcp", "us-central1", "pg-crash");
        offer.OfferId = "offer-crash";
        var announce = outbox.Prepare(Topics.Directory, "directory.offer.registered",
            new DirectoryOfferRegistered { OfferId = offer.OfferId, Offer = offer, Time = Timestamp.FromDateTime(DateTime.UtcNow) }, offer.OfferId, revisionOf: 0);
        var committed = await log.CommitAsync([new LogWrite(OfferChangeType.Registered, offer.OfferId, offer, 0)], [announce], default);
        Assert.True(committed.Committed);
        Assert.Single(committed.Outbox);
        Assert.Equal(1, await db.StreamLengthAsync(Outbox));

        // A commit whose condition fails stores no event.
        var stale = await log.CommitAsync([new LogWrite(OfferChangeType.Registered, offer.OfferId, offer.Clone(), 0)],
            [outbox.Prepare(Topics.Directory, "directory.offer.registered", new DirectoryOfferRegistered(), offer.OfferId, revisionOf: 0)], default);
        Assert.False(stale.Committed);
        Assert.Equal(1, await db.StreamLengthAsync(Outbox));

        // The sweeper takes the entry over after the grace period and publishes it with its id and revision.
        var delivered = await EventuallyAsync(() => seen.FirstOrDefault(e => e.Id == announce.Event.Id), EventOutbox.Grace + TimeSpan.FromSeconds(10));
        var data = (DirectoryOfferRegistered)delivered.Data;
        Assert.Equal((committed.FirstRevision, committed.FirstRevision), (data.Revision, data.Offer.Revision));
        Assert.Equal(0, await db.StreamLengthAsync(Outbox));
        Assert.Single(seen, e => e.Id == announce.Event.Id);
    }
}
