using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sky.Common.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Naming.Domain;
using Sky.Naming.Store;
using Sky.Naming.V1;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Naming.Tests.NamingAssert;
using Record = Sky.Naming.V1.Record;

namespace Sky.Naming.Tests;

/// <summary>
/// The store contract below the RPCs, for both stores: each write re-checks inside its atomic step
/// the zone decision it was authorised against, so a zone change that slips in between loses nothing.
/// </summary>
public abstract class NamingStoreContract
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-03-01T12:00:00Z");

    protected abstract Task<INamingStore> NewStoreAsync();

    private static SkyName Name(string name) => SkyName.Parse(name).Name!;

    protected static Zone NewZone(string name, string owner) => new() { Name = name, Owner = owner, CreatedAt = Timestamp.FromDateTimeOffset(Now) };

    private static Record NewRecord(string name) => RecordValidation.Validate(new Record
    {
        Name = name,
        Endpoints = { new RecordEndpoint { Scheme = "tcp", Host = "10.0.0.1", Port = 1 } },
    }).Record;

    private static async Task<Zone> AddZoneAsync(INamingStore store, string name, string owner)
    {
        var parent = await store.FindZoneAsync(name, includeSelf: false);
        Assert.Equal(StoreOutcome.Done, (await store.CreateZoneAsync(NewZone(name, owner), parent)).Outcome);
        return (await store.FindZoneAsync(name, includeSelf: true))!;
    }

    [SkippableFact]
    public async Task A_record_write_authorised_against_a_zone_that_no_longer_decides_is_refused()
    {
        var store = await NewStoreAsync();
        var apex = await AddZoneAsync(store, "aws.sky", "aws");
        var name = Name("pg-1.postgres.us-east-1.aws.sky");
        var created = await store.CreateRecordAsync(name, NewRecord(name.Canonical), Now, apex);
        Assert.Equal(StoreOutcome.Done, created.Outcome);
        Assert.Equal(("aws.sky", "aws"), (created.Record!.Zone, created.Record.Owner));

        // A delegation lands between the caller's zone lookup and its write.
        await AddZoneAsync(store, "us-east-1.aws.sky", "gcp");
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.UpdateRecordAsync(name, NewRecord(name.Canonical), created.Revision, Now, apex)).Outcome);
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.DeleteRecordAsync(name, created.Revision, apex)).Outcome);
        var other = Name("pg-2.postgres.us-east-1.aws.sky");
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.CreateRecordAsync(other, NewRecord(other.Canonical), Now, apex)).Outcome);
        Assert.Null(await store.GetRecordAsync(other));

        var unchanged = await store.GetRecordAsync(name);
        Assert.Equal((created.Revision, "us-east-1.aws.sky", "gcp"), (unchanged!.Revision, unchanged.Zone, unchanged.Owner));
    }

    [SkippableFact]
    public async Task A_zone_write_on_a_stale_view_of_its_parent_or_owner_is_refused()
    {
        var store = await NewStoreAsync();
        var apex = await AddZoneAsync(store, "aws.sky", "aws");
        // The parent the caller saw (none) is no longer the deciding one once the apex exists.
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.CreateZoneAsync(NewZone("us-east-1.aws.sky", "aws"), null)).Outcome);
        var region = await AddZoneAsync(store, "us-east-1.aws.sky", "gcp");
        Assert.Equal(StoreOutcome.AlreadyExists, (await store.CreateZoneAsync(NewZone("us-east-1.aws.sky", "aws"), apex)).Outcome);

        var staleOwner = region.Clone();
        staleOwner.Owner = "azure";
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.DeleteZoneAsync(staleOwner, apex)).Outcome);
        Assert.Equal(StoreOutcome.ZoneChanged, (await store.DeleteZoneAsync(region, null)).Outcome);
        var deleted = await store.DeleteZoneAsync(region, apex);
        Assert.Equal(StoreOutcome.Done, deleted.Outcome);
        Assert.Equal(("us-east-1.aws.sky", "gcp"), (deleted.Zone!.Name, deleted.Zone.Owner));
        Assert.Equal(StoreOutcome.NotFound, (await store.DeleteZoneAsync(region, apex)).Outcome);
    }

    [SkippableFact]
    public async Task A_zone_is_not_empty_while_any_record_or_sub_zone_is_at_or_below_it()
    {
        var store = await NewStoreAsync();
        var apex = await AddZoneAsync(store, "aws.sky", "aws");
        // A sibling sharing a prefix ("aws-eu.sky") and a label prefix ("us-east-1a") are not below "us-east-1.aws.sky".
        await AddZoneAsync(store, "aws-eu.sky", "aws-eu");
        var region = await AddZoneAsync(store, "us-east-1.aws.sky", "aws");
        var neighbour = Name("pg-1.postgres.us-east-1a.aws.sky");
        Assert.Equal(StoreOutcome.Done, (await store.CreateRecordAsync(neighbour, NewRecord(neighbour.Canonical), Now, apex)).Outcome);
        Assert.Equal(StoreOutcome.Done, (await store.DeleteZoneAsync(region, apex)).Outcome);

        region = await AddZoneAsync(store, "us-east-1.aws.sky", "aws");
        var atApex = Name("us-east-1.aws.sky");
        var write = await store.CreateRecordAsync(atApex, NewRecord(atApex.Canonical), Now, region);
        var blocked = await store.DeleteZoneAsync(region, apex);
        Assert.Equal((StoreOutcome.ZoneNotEmpty, "the record 'us-east-1.aws.sky'"), (blocked.Outcome, blocked.Blocker));
        Assert.Equal(StoreOutcome.Done, (await store.DeleteRecordAsync(atApex, write.Revision, region)).Outcome);

        var deep = Name("a.b.c.us-east-1.aws.sky");
        write = await store.CreateRecordAsync(deep, NewRecord(deep.Canonical), Now, region);
        Assert.Equal("the record 'a.b.c.us-east-1.aws.sky'", (await store.DeleteZoneAsync(region, apex)).Blocker);
        Assert.Equal(StoreOutcome.Done, (await store.DeleteRecordAsync(deep, write.Revision, region)).Outcome);

        await AddZoneAsync(store, "c.us-east-1.aws.sky", "gcp");
        Assert.Equal("the sub-zone 'c.us-east-1.aws.sky'", (await store.DeleteZoneAsync(region, apex)).Blocker);
    }

    [SkippableFact]
    public async Task Revisions_only_grow_across_names_and_deletions()
    {
        var store = await NewStoreAsync();
        var apex = await AddZoneAsync(store, "aws.sky", "aws");
        var seen = new List<long>();
        foreach (var label in new[] { "a", "b", "a" })
        {
            var name = Name($"{label}.aws.sky");
            var created = await store.CreateRecordAsync(name, NewRecord(name.Canonical), Now, apex);
            var updated = await store.UpdateRecordAsync(name, NewRecord(name.Canonical), created.Revision, Now.AddSeconds(1), apex);
            Assert.Equal(Now, updated.Record!.CreatedAt.ToDateTimeOffset());
            Assert.Equal(Now.AddSeconds(1), updated.Record.UpdatedAt.ToDateTimeOffset());
            var stale = await store.UpdateRecordAsync(name, NewRecord(name.Canonical), created.Revision, Now, apex);
            Assert.Equal((StoreOutcome.StaleRevision, updated.Revision), (stale.Outcome, stale.PreviousRevision));
            seen.AddRange([created.Revision, updated.Revision]);
            if (label == "a" && seen.Count == 2)
            {
                var deleted = await store.DeleteRecordAsync(name, updated.Revision, apex);
                Assert.Equal(updated.Revision, deleted.PreviousRevision);
                Assert.Equal(updated.Record, deleted.Record);
                seen.Add(deleted.Revision);
            }
        }
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }
}

public sealed class InMemoryNamingStoreTests : NamingStoreContract
{
    protected override Task<INamingStore> NewStoreAsync() => Task.FromResult<INamingStore>(new InMemoryNamingStore());

    /// <summary>
    /// A delegation that lands between the registry's zone check and its write: the store refuses the
    /// write, the registry resolves the zone again and now refuses the caller.
    /// </summary>
    [Fact]
    public async Task The_registry_re_resolves_the_zone_when_a_delegation_races_a_write()
    {
        var inner = new InMemoryNamingStore();
        var store = new DelegateOnFirstWrite(inner, NewZone("us-east-1.aws.sky", "gcp"));
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T12:00:00Z"));
        var registry = new NameRegistry(store, new EventOutbox(new InProcEventBus(time, NullLogger<InProcEventBus>.Instance), time, Sky.Hosting.Options.MeshService.Naming, NullLogger<EventOutbox>.Instance), time);
        var aws = new Principal(PrincipalKind.Provider, "aws", "key_aws");
        var gcp = new Principal(PrincipalKind.Provider, "gcp", "key_gcp");
        await registry.CreateZoneAsync(aws, new Zone { Name = "aws.sky", Owner = "aws" }, default);

        var record = new Record { Name = "pg-1.postgres.us-east-1.aws.sky", Endpoints = { new RecordEndpoint { Scheme = "tcp", Host = "10.0.0.1", Port = 1 } } };
        await FailsAsync(StatusCode.PermissionDenied, () => registry.CreateRecordAsync(aws, record, default));
        Assert.Equal(1, store.Races);
        Assert.Null(await inner.GetRecordAsync(SkyName.Parse(record.Name).Name!));
        var written = await registry.CreateRecordAsync(gcp, record, default);
        Assert.Equal(("us-east-1.aws.sky", "gcp"), (written.Zone, written.Owner));
    }

    private sealed class DelegateOnFirstWrite(InMemoryNamingStore inner, Zone delegation) : INamingStore
    {
        public int Races { get; private set; }

        public async ValueTask<RecordWrite> CreateRecordAsync(SkyName name, Record record, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
        {
            if (Races++ == 0)
                await inner.CreateZoneAsync(delegation, await inner.FindZoneAsync(delegation.Name, includeSelf: false, ct), ct: ct);
            return await inner.CreateRecordAsync(name, record, now, expectedZone, announce, ct);
        }

        public ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default) => inner.GetRecordAsync(name, ct);
        public ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default) => inner.ListInstancesAsync(lookupName, ct);
        public ValueTask<Zone?> FindZoneAsync(string name, bool includeSelf, CancellationToken ct = default) => inner.FindZoneAsync(name, includeSelf, ct);
        public ValueTask<IReadOnlyList<Zone>> ListZonesAsync(CancellationToken ct = default) => inner.ListZonesAsync(ct);
        public ValueTask<ZoneWrite> CreateZoneAsync(Zone zone, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default) => inner.CreateZoneAsync(zone, expectedParent, announce, ct);
        public ValueTask<ZoneWrite> DeleteZoneAsync(Zone expected, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default) => inner.DeleteZoneAsync(expected, expectedParent, announce, ct);
        public ValueTask<RecordWrite> UpdateRecordAsync(SkyName name, Record record, long expectedRevision, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default) =>
            inner.UpdateRecordAsync(name, record, expectedRevision, now, expectedZone, announce, ct);
        public ValueTask<RecordWrite> DeleteRecordAsync(SkyName name, long expectedRevision, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default) =>
            inner.DeleteRecordAsync(name, expectedRevision, expectedZone, announce, ct);
        public ValueTask<IReadOnlyList<string>> ListRecordNamesAsync(string? under, CancellationToken ct = default) => inner.ListRecordNamesAsync(under, ct);
        public ValueTask<IReadOnlyList<Record>> GetRecordsAsync(IReadOnlyList<string> names, CancellationToken ct = default) => inner.GetRecordsAsync(names, ct);
    }
}

public sealed class RedisNamingStoreTests(RedisServer redis) : NamingStoreContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<IConnectionMultiplexer> _connections = [];

    protected override async Task<INamingStore> NewStoreAsync()
    {
        var uri = await redis.NewDatabaseAsync();
        var connection = await ConnectionMultiplexer.ConnectAsync(StoreLocation.Parse(uri).RedisConfiguration!);
        _connections.Add(connection);
        return new RedisNamingStore(connection);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }
}
