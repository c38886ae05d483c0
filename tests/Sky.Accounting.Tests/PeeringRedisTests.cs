using Sky.Hosting.Peering;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Accounting.Peering;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Placement.Catalog;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Accounting.Tests.PeeringHarness;

namespace Sky.Accounting.Tests;

/// <summary>
/// The Redis peering store: agreements outlive their host and are shared by every host on the same Redis; each write's
/// event is stored in the accounting outbox with the write, so it is published even when publishing fails right after.
/// </summary>
public sealed class PeeringRedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly RedisKey Outbox = EventOutbox.Key(MeshService.Accounting.Name);

    [SkippableFact]
    public async Task Agreements_survive_their_host_and_a_new_host_on_the_same_redis_carries_on()
    {
        var store = await redis.NewDatabaseAsync();
        PeeringAgreement current, future;
        CreatePeeringAgreementRequest request;
        await using (var first = await StartAsync(store: store, fakeClock: false))
        {
            var now = first.Now;
            request = new CreatePeeringAgreementRequest
            {
                AgreementId = "aws-gcp", ProviderA = "aws", ProviderB = "gcp", Terms = Sky.Accounting.V1.PeeringTerms.Capped,
                MaxPricePerGb = Sky.Common.V1.Money.FromDecimal(0.02m, "USD"), EffectiveFrom = At(now.AddHours(-1)), Description = "capped",
            };
            current = await first.CreateAsync(request);
            future = await first.CreateAsync(Free("aws-azure", "aws", "azure", now.AddDays(1)));
            Assert.Equal(2, (await first.Events.SettledAsync(2)).Count);
            // Published at once, so the outbox holds nothing for the sweeper.
            Assert.Equal(0, await first.Mesh.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().StreamLengthAsync(Outbox));
        }

        await using var second = await StartAsync(store: store, fakeClock: false);
        Assert.Equal([future, current], await second.ListAsync());
        Assert.Equal(current, await second.CreateAsync(request));   // a retry reaching another host is still a retry
        await FailsAsync(StatusCode.FailedPrecondition, () => second.CreateAsync(Free("clash", "gcp", "aws")));

        Assert.Null((await second.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-azure" })).Agreement);
        var ended = (await second.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" })).Agreement;
        Assert.NotNull(ended.EffectiveUntil);
        Assert.Equal(2, (await second.Events.SettledAsync(2)).Count);

        await using var third = await StartAsync(store: store, fakeClock: false);
        Assert.Equal([ended], await third.ListAsync());
        Assert.Null((await third.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-azure" })).Agreement);
        await FailsAsync(StatusCode.AlreadyExists, () => third.CreateAsync(Free("aws-azure", "aws", "azure", third.Now.AddDays(1))));
        Assert.Empty(await third.Events.SettledAsync(0));
    }

    [SkippableFact]
    public async Task Of_overlapping_creates_racing_on_two_hosts_exactly_one_commits()
    {
        var store = await redis.NewDatabaseAsync();
        await using var one = await StartAsync(store: store, fakeClock: false);
        await using var two = await StartAsync(store: store, fakeClock: false);
        var codes = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            try
            {
                await (i % 2 == 0 ? one : two).CreateAsync(Free($"race-{i}", from: PeeringHarness.Start));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        })));
        Assert.Single(codes, c => c == StatusCode.OK);
        Assert.All(codes.Where(c => c != StatusCode.OK), c => Assert.Equal(StatusCode.FailedPrecondition, c));
        Assert.Single(await one.ListAsync());
        // Each host publishes on its own in-process bus: the one event is on the winner's.
        var until = DateTime.UtcNow.AddSeconds(10);
        while (one.Events.All.Count + two.Events.All.Count == 0 && DateTime.UtcNow < until) await Task.Delay(20);
        await Task.Delay(200);
        Assert.Equal(1, one.Events.All.Count + two.Events.All.Count);
    }

    [SkippableFact]
    public async Task A_write_whose_publish_fails_is_announced_by_the_sweeper_from_the_outbox()
    {
        var store = await redis.NewDatabaseAsync();
        await using var h = await StartAsync(store: store, fakeClock: false, configure: b => b.Services.AddSingleton<IEventBus>(sp =>
            new FirstPublishFails(new InProcEventBus(sp.GetRequiredService<TimeProvider>(), NullLogger<InProcEventBus>.Instance))));
        var db = h.Mesh.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

        var created = await h.CreateAsync(Free("aws-gcp", from: h.Now.AddDays(1)));
        Assert.Equal(1, await db.StreamLengthAsync(Outbox));
        // A write refused by the store's rules leaves no event behind.
        await FailsAsync(StatusCode.FailedPrecondition, () => h.CreateAsync(Free("clash", "gcp", "aws", h.Now.AddDays(2))));
        Assert.Equal(1, await db.StreamLengthAsync(Outbox));
        Assert.Null((await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" })).Agreement);
        Assert.Equal(2, await db.StreamLengthAsync(Outbox));
        Assert.Empty(h.Events.All);

        var events = await h.Events.SettledAsync(2, EventOutbox.Grace + TimeSpan.FromSeconds(15));
        Assert.Equal(["peering.agreement.created", "peering.agreement.ended"], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("aws-gcp", e.Subject));
        Assert.Equal(created, ((PeeringAgreementCreated)events[0].Data).Agreement);
        var removed = (PeeringAgreementEnded)events[1].Data;
        Assert.True(removed.Removed);
        Assert.Equal(created.EffectiveFrom, removed.Agreement.EffectiveUntil);
        Assert.Equal(0, await db.StreamLengthAsync(Outbox));
    }

    [SkippableFact]
    public async Task A_store_write_on_a_stale_revision_or_a_taken_id_changes_nothing_and_stores_no_event()
    {
        var uri = await redis.NewDatabaseAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(StoreLocation.Parse(uri).RedisConfiguration!);
        var db = connection.GetDatabase();
        var store = new RedisPeeringStore(connection);
        var agreement = Agreement("aws-gcp");

        Assert.Equal(PeeringWriteOutcome.Stale, (await store.CreateAsync(agreement, expectedRevision: 1, Announce(agreement))).Outcome);
        Assert.Null(await store.FindAsync("aws-gcp"));
        Assert.Equal(0, await db.StreamLengthAsync(Outbox));

        var done = await store.CreateAsync(agreement, expectedRevision: 0, Announce(agreement));
        Assert.Equal(PeeringWriteOutcome.Done, done.Outcome);
        Assert.Single(done.Outbox!);
        var taken = await store.CreateAsync(Agreement("aws-gcp", "azure"), expectedRevision: 1, Announce(agreement));
        Assert.Equal((PeeringWriteOutcome.IdTaken, agreement, false), (taken.Outcome, taken.Existing!.Agreement, taken.Existing.Removed));

        var ended = agreement.Clone();
        ended.EffectiveUntil = Timestamp.FromDateTimeOffset(Start.AddDays(1));
        Assert.Equal(PeeringWriteOutcome.Stale, (await store.EndAsync(ended, remove: false, expectedRevision: 0, Announce(ended))).Outcome);
        Assert.Equal(1, await db.StreamLengthAsync(Outbox));
        var snapshot = await store.ReadAsync();
        Assert.Equal((1L, agreement), (snapshot.Revision, Assert.Single(snapshot.Agreements)));

        Assert.Equal(PeeringWriteOutcome.Done, (await store.EndAsync(ended, remove: true, expectedRevision: 1, Announce(ended))).Outcome);
        Assert.Equal(new StoredAgreement(ended, Removed: true), await store.FindAsync("aws-gcp"));
        snapshot = await store.ReadAsync();
        Assert.Equal((2L, 0), (snapshot.Revision, snapshot.Agreements.Count));
        Assert.Equal(2, await db.StreamLengthAsync(Outbox));
    }

    [SkippableFact]
    public async Task Placement_loads_existing_agreements_from_accounting_when_it_starts()
    {
        var store = await redis.NewDatabaseAsync();
        PeeringAgreement created;
        await using (var accounting = await StartAsync(store: store, fakeClock: false))
            created = await accounting.CreateAsync(Free("aws-gcp"));

        // A new host with placement: no event will come, so the agreement can only arrive through ListPeeringAgreements.
        await using var mesh = await TestMesh.StartAsync("all", store);
        var feed = mesh.Services.GetRequiredService<PeeringFeed>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (feed.Book.All.Count == 0 && DateTime.UtcNow < until) await Task.Delay(20);
        Assert.Equal(created, Assert.Single(feed.Book.All));
    }

    private static PeeringAgreement Agreement(string id, string b = "gcp") => new()
    {
        AgreementId = id, ProviderA = "aws", ProviderB = b, Terms = Sky.Accounting.V1.PeeringTerms.Free,
        EffectiveFrom = Timestamp.FromDateTimeOffset(Start), CreatedAt = Timestamp.FromDateTimeOffset(Start),
    };

    private static PendingEvent Announce(PeeringAgreement agreement) => new(Topics.Peering,
        new SkyEvent(Guid.NewGuid().ToString("N"), "test", PeeringRegistry.CreatedType, Start, agreement.AgreementId,
            new PeeringAgreementCreated { Agreement = agreement, Time = Timestamp.FromDateTimeOffset(Start) }));

    /// <summary>A bus whose first publication of each peering event fails, as if the host died between its write and its publish.</summary>
    private sealed class FirstPublishFails(IEventBus inner) : IEventBus
    {
        private readonly ConcurrentDictionary<string, bool> _failed = new();

        public Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default) =>
            inner.PublishAsync(topic, type, data, subject, ct);

        public Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default) =>
            topic == Topics.Peering && _failed.TryAdd(evt.Id, true)
                ? Task.FromException(new InvalidOperationException("broker down"))
                : inner.PublishAsync(topic, evt, ct);

        public IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler) =>
            inner.Subscribe(topic, subscriber, handler);
    }
}
