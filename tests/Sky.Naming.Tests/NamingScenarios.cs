using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Naming.Domain;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;
using Sky.Testing;
using static Sky.Naming.Tests.NamingAssert;
using NamingClient = Sky.Naming.V1.Naming.NamingClient;

namespace Sky.Naming.Tests;

/// <summary>
/// Every naming RPC over a TestServer, success and failure, run once per store
/// (<see cref="NamingApiTests"/> in memory, <see cref="NamingRedisTests"/> on a real Redis).
/// </summary>
public abstract class NamingScenarios
{
    protected static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-03-01T12:00:00Z");

    /// <summary>The store URI each scenario runs on ("memory" or a fresh Redis database).</summary>
    protected abstract Task<string> StoreAsync();

    protected async Task<Harness> StartAsync()
    {
        var store = await StoreAsync();
        var clock = new FakeTimeProvider(Start);
        var mesh = await TestMesh.StartAsync("naming", store, configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        return new Harness(mesh, clock,
            mesh.Client<NamingClient>(),
            mesh.Client<NamingClient>(await mesh.IssueKeyAsync(PrincipalKind.Provider, "aws")),
            mesh.Client<NamingClient>(await mesh.IssueKeyAsync(PrincipalKind.Provider, "gcp")),
            mesh.Client<NamingClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme")));
    }

    protected sealed record Harness(TestMesh Mesh, FakeTimeProvider Clock, NamingClient Operator, NamingClient Aws, NamingClient Gcp, NamingClient Tenant) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Mesh.DisposeAsync();
    }

    internal static RecordEndpoint Endpoint(string host, int port = 5432, int priority = 0, int weight = 0, string scheme = "postgres") =>
        new() { Scheme = scheme, Host = host, Port = port, Priority = priority, Weight = weight };

    internal static Record Instance(string name, params RecordEndpoint[] endpoints) =>
        new() { Name = name, Endpoints = { endpoints.Length > 0 ? endpoints : [Endpoint("10.0.0.1")] } };

    internal static async Task<Zone> CreateZoneAsync(NamingClient client, string name, string owner, string description = "") =>
        (await client.CreateZoneAsync(new CreateZoneRequest { Zone = new Zone { Name = name, Owner = owner, Description = description } })).Zone;

    internal static async Task<Record> CreateRecordAsync(NamingClient client, Record record) =>
        (await client.CreateRecordAsync(new CreateRecordRequest { Record = record })).Record;

    [SkippableFact]
    public async Task A_provider_creates_its_apex_zone_and_anyone_reads_it()
    {
        await using var h = await StartAsync();
        var zone = await CreateZoneAsync(h.Aws, "AWS.sky.", "aws", "Amazon");
        Assert.Equal(("aws.sky", "aws", "", "Amazon"), (zone.Name, zone.Owner, zone.Parent, zone.Description));
        Assert.Equal(Start, zone.CreatedAt.ToDateTimeOffset());

        var read = (await h.Tenant.GetZoneAsync(new GetZoneRequest { Name = "aws.SKY" })).Zone;
        Assert.Equal(zone, read);
        await FailsAsync(StatusCode.NotFound, () => h.Tenant.GetZoneAsync(new GetZoneRequest { Name = "gcp.sky" }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => h.Tenant.GetZoneAsync(new GetZoneRequest { Name = "us-east-1.aws.sky" }).ResponseAsync);
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.GetZoneAsync(new GetZoneRequest { Name = "aws sky" }).ResponseAsync), "name", 3);
    }

    [SkippableFact]
    public async Task A_provider_may_not_create_another_providers_apex_but_the_operator_may()
    {
        await using var h = await StartAsync();
        await FailsAsync(StatusCode.PermissionDenied, () => CreateZoneAsync(h.Gcp, "aws.sky", "aws"));
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => CreateZoneAsync(h.Gcp, "aws.sky", "gcp")), "zone.owner");
        var zone = await CreateZoneAsync(h.Operator, "aws.sky", "aws");
        Assert.Equal("aws", zone.Owner);
        await FailsAsync(StatusCode.AlreadyExists, () => CreateZoneAsync(h.Aws, "aws.sky", "aws"));
    }

    [SkippableFact]
    public async Task Zone_requests_are_validated_field_by_field()
    {
        await using var h = await StartAsync();
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Aws.CreateZoneAsync(new CreateZoneRequest()).ResponseAsync), "zone");
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => CreateZoneAsync(h.Aws, "us_east.aws.sky", "aws")), "zone.name", 2);
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => CreateZoneAsync(h.Aws, "aws.sky", "")), "zone.owner");
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => CreateZoneAsync(h.Aws, "aws.sky", "aws", new string('x', 201))), "zone.description");
    }

    [SkippableFact]
    public async Task A_sub_zone_needs_an_enclosing_zone_owned_by_the_caller()
    {
        await using var h = await StartAsync();
        var missing = await FailsAsync(StatusCode.FailedPrecondition, () => CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "aws"));
        Assert.Contains("aws.sky", missing.Status.Detail);
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await FailsAsync(StatusCode.PermissionDenied, () => CreateZoneAsync(h.Gcp, "us-east-1.aws.sky", "gcp"));

        var sub = await CreateZoneAsync(h.Aws, "postgres.us-east-1.aws.sky", "aws");
        Assert.Equal("aws.sky", sub.Parent);
        var between = await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "aws");
        Assert.Equal("aws.sky", between.Parent);
        // The deeper zone's parent is now the one created between them.
        Assert.Equal("us-east-1.aws.sky", (await h.Aws.GetZoneAsync(new GetZoneRequest { Name = sub.Name })).Zone.Parent);
        await FailsAsync(StatusCode.AlreadyExists, () => CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "gcp"));
    }

    [SkippableFact]
    public async Task Delegation_gives_a_sub_zone_to_another_provider_who_alone_writes_there()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var delegated = await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "gcp");
        Assert.Equal(("gcp", "aws.sky"), (delegated.Owner, delegated.Parent));

        var record = await CreateRecordAsync(h.Gcp, Instance("pg-1.postgres.us-east-1.aws.sky"));
        Assert.Equal(("us-east-1.aws.sky", "gcp"), (record.Zone, record.Owner));
        await FailsAsync(StatusCode.PermissionDenied, () => CreateRecordAsync(h.Aws, Instance("pg-2.postgres.us-east-1.aws.sky")));
        await FailsAsync(StatusCode.PermissionDenied, () => h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(record.Name), ExpectedRevision = record.Revision }).ResponseAsync);
        await FailsAsync(StatusCode.PermissionDenied, () => h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = record.Name, ExpectedRevision = record.Revision }).ResponseAsync);

        // Outside the delegation aws still owns its apex, and gcp may not write there.
        var west = await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-west-2.aws.sky"));
        Assert.Equal(("aws.sky", "aws"), (west.Zone, west.Owner));
        await FailsAsync(StatusCode.PermissionDenied, () => CreateRecordAsync(h.Gcp, Instance("pg-2.postgres.us-west-2.aws.sky")));
        // The operator writes anywhere.
        await CreateRecordAsync(h.Operator, Instance("pg-9.postgres.us-east-1.aws.sky"));

        // Only the parent zone's owner takes a delegation back, and only once it is empty.
        await FailsAsync(StatusCode.PermissionDenied, () => h.Gcp.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" }).ResponseAsync);
        var busy = await FailsAsync(StatusCode.FailedPrecondition, () => h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" }).ResponseAsync);
        Assert.Contains("us-east-1.aws.sky", busy.Status.Detail);
        foreach (var name in new[] { "pg-1.postgres.us-east-1.aws.sky", "pg-9.postgres.us-east-1.aws.sky" })
        {
            var current = (await h.Gcp.ResolveAsync(new ResolveRequest { Name = name })).Record;
            await h.Gcp.DeleteRecordAsync(new DeleteRecordRequest { Name = name, ExpectedRevision = current.Revision });
        }
        await h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" });
        var back = await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky"));
        Assert.Equal(("aws.sky", "aws"), (back.Zone, back.Owner));
    }

    [SkippableFact]
    public async Task A_new_sub_zone_takes_over_the_records_below_it()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var before = await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.eu-west-1.aws.sky"));
        Assert.Equal("aws.sky", before.Zone);
        await CreateZoneAsync(h.Aws, "eu-west-1.aws.sky", "gcp");

        var after = (await h.Tenant.ResolveAsync(new ResolveRequest { Name = before.Name })).Record;
        Assert.Equal(("eu-west-1.aws.sky", "gcp"), (after.Zone, after.Owner));
        await FailsAsync(StatusCode.PermissionDenied, () => h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(before.Name), ExpectedRevision = after.Revision }).ResponseAsync);
        var updated = (await h.Gcp.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(before.Name), ExpectedRevision = after.Revision })).Record;
        Assert.Equal("gcp", updated.Owner);
    }

    [SkippableFact]
    public async Task Deleting_a_zone_needs_it_empty_of_records_and_sub_zones()
    {
        await using var h = await StartAsync();
        await FailsAsync(StatusCode.NotFound, () => h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" }).ResponseAsync);
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "aws");
        var apexRecord = await CreateRecordAsync(h.Aws, Instance("aws.sky"));

        var subZone = await FailsAsync(StatusCode.FailedPrecondition, () => h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" }).ResponseAsync);
        Assert.Contains("us-east-1.aws.sky", subZone.Status.Detail);
        await FailsAsync(StatusCode.PermissionDenied, () => h.Gcp.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" }).ResponseAsync);
        await h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" });

        var record = await FailsAsync(StatusCode.FailedPrecondition, () => h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" }).ResponseAsync);
        Assert.Contains("'aws.sky'", record.Status.Detail);
        await FailsAsync(StatusCode.PermissionDenied, () => h.Gcp.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" }).ResponseAsync);
        await h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = "aws.sky", ExpectedRevision = apexRecord.Revision });
        await h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky." });
        await FailsAsync(StatusCode.NotFound, () => h.Aws.GetZoneAsync(new GetZoneRequest { Name = "aws.sky" }).ResponseAsync);
        await FailsAsync(StatusCode.FailedPrecondition, () => CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky")));
    }

    [SkippableFact]
    public async Task ListZones_filters_by_owner_and_subtree_and_pages_in_name_order()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateZoneAsync(h.Gcp, "gcp.sky", "gcp");
        await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "gcp");
        await CreateZoneAsync(h.Aws, "eu-west-1.aws.sky", "aws");
        await CreateZoneAsync(h.Gcp, "europe-west4.gcp.sky", "gcp");

        async Task<List<string>> All(string owner = "", string under = "", int pageSize = 2)
        {
            var names = new List<string>();
            var token = "";
            do
            {
                var page = await h.Tenant.ListZonesAsync(new ListZonesRequest { Owner = owner, Under = under, Page = new PageRequest { PageSize = pageSize, PageToken = token } });
                Assert.True(page.Zones.Count <= pageSize);
                names.AddRange(page.Zones.Select(z => z.Name));
                token = page.Page.NextPageToken;
            } while (token != "");
            return names;
        }

        Assert.Equal(["aws.sky", "eu-west-1.aws.sky", "europe-west4.gcp.sky", "gcp.sky", "us-east-1.aws.sky"], await All());
        Assert.Equal(["europe-west4.gcp.sky", "gcp.sky", "us-east-1.aws.sky"], await All(owner: "gcp"));
        Assert.Equal(["aws.sky", "eu-west-1.aws.sky", "us-east-1.aws.sky"], await All(under: "AWS.sky"));
        Assert.Equal(["us-east-1.aws.sky"], await All(owner: "gcp", under: "aws.sky", pageSize: 1));
        Assert.Equal(["us-east-1.aws.sky"], await All(under: "us-east-1.aws.sky"));
        var one = await h.Tenant.ListZonesAsync(new ListZonesRequest { Under = "us-east-1.aws.sky" });
        Assert.Equal("aws.sky", one.Zones.Single().Parent);

        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ListZonesAsync(new ListZonesRequest { Under = "aws..sky" }).ResponseAsync), "under", 4);
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ListZonesAsync(new ListZonesRequest { Owner = "a b" }).ResponseAsync), "owner");
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ListZonesAsync(new ListZonesRequest { Page = new PageRequest { PageToken = "junk" } }).ResponseAsync), "page.page_token");
    }

    [SkippableFact]
    public async Task A_record_is_created_resolved_updated_and_deleted_with_growing_revisions()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var input = Instance("PG-1.postgres.us-east-1.aws.sky.", Endpoint("10.0.0.7"));
        input.ApiVersion = "16";
        input.SoftwareVersion = "16.2.0";
        input.Attributes["role"] = "primary";
        var created = await CreateRecordAsync(h.Aws, input);
        Assert.Equal("pg-1.postgres.us-east-1.aws.sky", created.Name);
        Assert.True(created.Revision > 0);
        Assert.Equal(TimeSpan.FromSeconds(60), created.Ttl.ToTimeSpan());
        Assert.Equal(Start, created.CreatedAt.ToDateTimeOffset());
        Assert.Equal(Start, created.UpdatedAt.ToDateTimeOffset());
        Assert.Equal(("aws.sky", "aws", "16", "16.2.0", "primary"), (created.Zone, created.Owner, created.ApiVersion, created.SoftwareVersion, created.Attributes["role"]));
        await FailsAsync(StatusCode.AlreadyExists, () => CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky")));

        var resolved = (await h.Tenant.ResolveAsync(new ResolveRequest { Name = "Pg-1.Postgres.Us-East-1.Aws.Sky." })).Record;
        Assert.Equal(created, resolved);

        h.Clock.Advance(TimeSpan.FromMinutes(5));
        var replacement = Instance(created.Name, Endpoint("10.0.0.8", 6432));
        replacement.Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(30));
        var updated = (await h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = replacement, ExpectedRevision = created.Revision })).Record;
        Assert.True(updated.Revision > created.Revision);
        Assert.Equal(Start, updated.CreatedAt.ToDateTimeOffset());
        Assert.Equal(Start.AddMinutes(5), updated.UpdatedAt.ToDateTimeOffset());
        // Fields left unset are cleared.
        Assert.Equal(("", "", 0), (updated.ApiVersion, updated.SoftwareVersion, updated.Attributes.Count));
        Assert.Equal(("10.0.0.8", 6432), (updated.Endpoints.Single().Host, updated.Endpoints.Single().Port));
        Assert.Equal(updated, (await h.Aws.ResolveAsync(new ResolveRequest { Name = created.Name })).Record);

        var stale = await FailsAsync(StatusCode.Aborted, () => h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = replacement, ExpectedRevision = created.Revision }).ResponseAsync);
        Assert.Contains(updated.Revision.ToString(), stale.Status.Detail);
        await FailsAsync(StatusCode.Aborted, () => h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = created.Revision }).ResponseAsync);
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = replacement }).ResponseAsync), "expected_revision");
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = -1 }).ResponseAsync), "expected_revision");

        var deleted = await h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = updated.Revision });
        Assert.True(deleted.Revision > updated.Revision);
        await FailsAsync(StatusCode.NotFound, () => h.Tenant.ResolveAsync(new ResolveRequest { Name = created.Name }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = replacement, ExpectedRevision = updated.Revision }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = deleted.Revision }).ResponseAsync);

        // A later write of the same name always has a larger revision, across delete and re-create.
        var again = await CreateRecordAsync(h.Aws, Instance(created.Name));
        Assert.True(again.Revision > deleted.Revision);
    }

    [SkippableFact]
    public async Task Record_writes_are_validated_and_need_an_enclosing_zone()
    {
        await using var h = await StartAsync();
        var noZone = await FailsAsync(StatusCode.FailedPrecondition, () => CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky")));
        Assert.Contains("aws.sky", noZone.Status.Detail);
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");

        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => CreateRecordAsync(h.Aws, Instance("pg_1.postgres.us-east-1.aws.sky"))), "record.name", 2);
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => CreateRecordAsync(h.Aws, Instance("_postgres._tcp.us-east-1.aws.sky"))), "record.name", 0);
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => CreateRecordAsync(h.Aws, new Record { Name = "pg-1.postgres.us-east-1.aws.sky" })), "record.endpoints");
        var bad = await FailsAsync(StatusCode.InvalidArgument, () => CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1"), Endpoint("10.0.0.2", port: 70000))));
        Violation(bad, "record.endpoints[1].port");
        Violation(await FailsAsync(StatusCode.InvalidArgument, () => h.Aws.CreateRecordAsync(new CreateRecordRequest()).ResponseAsync), "record");
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = "x.aws.sky!", ExpectedRevision = 1 }).ResponseAsync), "name", 9);
        // Zone ownership is checked before the name's existence.
        await FailsAsync(StatusCode.PermissionDenied, () => CreateRecordAsync(h.Gcp, Instance("pg-1.postgres.us-east-1.aws.sky")));
    }

    [SkippableFact]
    public async Task ListRecords_filters_by_subtree_and_pages_in_name_order()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateZoneAsync(h.Gcp, "gcp.sky", "gcp");
        string[] names =
        [
            "pg-2.postgres.us-east-1.aws.sky", "pg-1.postgres.us-east-1.aws.sky", "redis.us-east-1.aws.sky",
            "pg-1.postgres.us-east-1a.aws.sky", "us-east-1.aws.sky", "db.pg-1.postgres.us-east-1.aws.sky",
            "pg-1.postgres.europe-west4.gcp.sky", "aws.sky",
        ];
        foreach (var name in names)
            await CreateRecordAsync(name.EndsWith("gcp.sky") ? h.Gcp : h.Aws, Instance(name));

        async Task<List<Record>> All(string under, int pageSize)
        {
            var records = new List<Record>();
            var token = "";
            do
            {
                var page = await h.Tenant.ListRecordsAsync(new ListRecordsRequest { Under = under, Page = new PageRequest { PageSize = pageSize, PageToken = token } });
                Assert.True(page.Records.Count <= pageSize);
                records.AddRange(page.Records);
                token = page.Page.NextPageToken;
            } while (token != "");
            return records;
        }

        var all = await All("", 3);
        Assert.Equal(names.Order(StringComparer.Ordinal), all.Select(r => r.Name));
        Assert.All(all, r => Assert.Equal(r.Name.EndsWith("gcp.sky") ? "gcp" : "aws", r.Owner));
        Assert.All(all, r => Assert.True(r.Revision > 0));
        Assert.Equal(
            ["db.pg-1.postgres.us-east-1.aws.sky", "pg-1.postgres.us-east-1.aws.sky", "pg-2.postgres.us-east-1.aws.sky", "redis.us-east-1.aws.sky", "us-east-1.aws.sky"],
            (await All("US-EAST-1.aws.sky.", 2)).Select(r => r.Name));
        Assert.Equal(["db.pg-1.postgres.us-east-1.aws.sky", "pg-1.postgres.us-east-1.aws.sky"], (await All("pg-1.postgres.us-east-1.aws.sky", 100)).Select(r => r.Name));
        Assert.Empty(await All("nothing.aws.sky", 10));
        var first = await h.Tenant.ListRecordsAsync(new ListRecordsRequest());
        Assert.Equal(names.Length, first.Records.Count);
        Assert.Equal("", first.Page.NextPageToken);
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ListRecordsAsync(new ListRecordsRequest { Under = "-aws.sky" }).ResponseAsync), "under", 0);
    }

    [SkippableFact]
    public async Task Resolve_answers_endpoints_in_priority_order_and_rejects_lookup_names()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky",
            Endpoint("10.0.0.3", priority: 20), Endpoint("10.0.0.1", priority: 0, weight: 5), Endpoint("10.0.0.2", priority: 10), Endpoint("10.0.0.4", priority: 0, weight: 5)));
        for (var i = 0; i < 20; i++)
        {
            var record = (await h.Tenant.ResolveAsync(new ResolveRequest { Name = "pg-1.postgres.us-east-1.aws.sky" })).Record;
            Assert.Equal([0, 0, 10, 20], record.Endpoints.Select(e => e.Priority));
            Assert.Equal(["10.0.0.1", "10.0.0.4"], record.Endpoints.Take(2).Select(e => e.Host).Order());
        }
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ResolveAsync(new ResolveRequest { Name = "_postgres._tcp.us-east-1.aws.sky" }).ResponseAsync), "name", 0);
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.ResolveAsync(new ResolveRequest { Name = "" }).ResponseAsync), "name", 0);
        await FailsAsync(StatusCode.NotFound, () => h.Tenant.ResolveAsync(new ResolveRequest { Name = "pg-2.postgres.us-east-1.aws.sky" }).ResponseAsync);
    }

    [SkippableFact]
    public async Task Lookup_answers_every_endpoint_of_every_instance_in_srv_order_with_the_smallest_ttl()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "gcp");
        var one = Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1", priority: 10, weight: 10), Endpoint("10.0.0.2", priority: 0, weight: 10));
        one.Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(300));
        one.ApiVersion = "16";
        var two = Instance("pg-2.postgres.us-east-1.aws.sky", Endpoint("10.0.0.3", priority: 0, weight: 10), Endpoint("10.0.0.4", priority: 20));
        two.Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(45));
        var one1 = await CreateRecordAsync(h.Gcp, one);
        await CreateRecordAsync(h.Gcp, two);
        // Not instances of the service: the service name itself, a deeper name, another service, another region.
        await CreateRecordAsync(h.Gcp, Instance("postgres.us-east-1.aws.sky", Endpoint("10.0.1.1")));
        await CreateRecordAsync(h.Gcp, Instance("db.pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.1.2")));
        await CreateRecordAsync(h.Gcp, Instance("r-1.redis.us-east-1.aws.sky", Endpoint("10.0.1.3")));
        await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-west-2.aws.sky", Endpoint("10.0.1.4")));

        var firsts = new HashSet<string>();
        for (var i = 0; i < 100; i++)
        {
            var answer = await h.Tenant.LookupAsync(new LookupRequest { Name = "_Postgres._TCP.us-east-1.aws.sky." });
            Assert.Equal(TimeSpan.FromSeconds(45), answer.Ttl.ToTimeSpan());
            Assert.Equal([0, 0, 10, 20], answer.Endpoints.Select(e => e.Endpoint.Priority));
            Assert.Equal(["10.0.0.2", "10.0.0.3"], answer.Endpoints.Take(2).Select(e => e.Endpoint.Host).Order());
            Assert.Equal(["10.0.0.1", "10.0.0.4"], answer.Endpoints.Skip(2).Select(e => e.Endpoint.Host));
            firsts.Add(answer.Endpoints[0].Endpoint.Host);
            var first = answer.Endpoints.Single(e => e.Endpoint.Host == "10.0.0.1");
            Assert.Equal(("pg-1.postgres.us-east-1.aws.sky", "16", one1.Revision), (first.InstanceName, first.ApiVersion, first.Revision));
        }
        // Equal weights in one priority: a fresh shuffle per call puts each first sometimes (a miss has odds 2^-99).
        Assert.Equal(["10.0.0.2", "10.0.0.3"], firsts.Order());

        var empty = await h.Tenant.LookupAsync(new LookupRequest { Name = "_mysql._tcp.us-east-1.aws.sky" });
        Assert.Empty(empty.Endpoints);
        Assert.Equal(TimeSpan.FromSeconds(60), empty.Ttl.ToTimeSpan());
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.LookupAsync(new LookupRequest { Name = "pg-1.postgres.us-east-1.aws.sky" }).ResponseAsync), "name", 0);
        ViolationAt(await FailsAsync(StatusCode.InvalidArgument, () => h.Tenant.LookupAsync(new LookupRequest { Name = "_postgres._udp.us-east-1.aws.sky" }).ResponseAsync), "name", 10);
    }

    [SkippableFact]
    public async Task Lookup_follows_instances_as_they_come_and_go()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        const string lookup = "_kafka._tcp.eu-west-1.aws.sky";
        var broker = await CreateRecordAsync(h.Aws, Instance("b-1.kafka.eu-west-1.aws.sky", Endpoint("10.1.0.1", 9092, scheme: "kafka")));
        Assert.Equal(["10.1.0.1"], (await h.Tenant.LookupAsync(new LookupRequest { Name = lookup })).Endpoints.Select(e => e.Endpoint.Host));

        var moved = (await h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(broker.Name, Endpoint("10.1.0.9", 9092, scheme: "kafka")), ExpectedRevision = broker.Revision })).Record;
        var answer = await h.Tenant.LookupAsync(new LookupRequest { Name = lookup });
        Assert.Equal(("10.1.0.9", moved.Revision), (answer.Endpoints.Single().Endpoint.Host, answer.Endpoints.Single().Revision));

        await h.Aws.DeleteRecordAsync(new DeleteRecordRequest { Name = broker.Name, ExpectedRevision = moved.Revision });
        Assert.Empty((await h.Tenant.LookupAsync(new LookupRequest { Name = lookup })).Endpoints);
    }

    [SkippableFact]
    public async Task Concurrent_updates_from_one_revision_let_exactly_one_through()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var record = await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky"));
        var attempts = Enumerable.Range(0, 12).Select(async i =>
        {
            try
            {
                await h.Aws.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(record.Name, Endpoint($"10.0.0.{i + 10}")), ExpectedRevision = record.Revision });
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        });
        var outcomes = await Task.WhenAll(attempts);
        Assert.Equal(1, outcomes.Count(c => c == StatusCode.OK));
        Assert.Equal(11, outcomes.Count(c => c == StatusCode.Aborted));
    }

    [SkippableFact]
    public async Task Each_write_publishes_a_naming_event()
    {
        await using var h = await StartAsync();
        var received = Channel.CreateUnbounded<SkyEvent>();
        var bus = h.Mesh.Services.GetRequiredService<IEventBus>();
        await using var subscription = bus.Subscribe(Topics.Naming, "naming-tests", (e, _) => received.Writer.WriteAsync(e).AsTask());
        async Task<(SkyEvent Event, T Data)> Next<T>(string type)
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var e = await received.Reader.ReadAsync(guard.Token);
            Assert.Equal(type, e.Type);
            return (e, Assert.IsType<T>(e.Data));
        }

        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var (zoneEvent, zoneCreated) = await Next<NamingZoneChanged>(NameRegistry.ZoneChangedType);
        Assert.Equal(("aws.sky", NamingChangeType.Created, "aws"), (zoneEvent.Subject, zoneCreated.Change, zoneCreated.Zone.Owner));
        await CreateZoneAsync(h.Aws, "us-east-1.aws.sky", "gcp");
        var (_, delegated) = await Next<NamingZoneChanged>(NameRegistry.ZoneChangedType);
        Assert.Equal(("us-east-1.aws.sky", "gcp", "aws.sky"), (delegated.Zone.Name, delegated.Zone.Owner, delegated.Zone.Parent));

        var created = await CreateRecordAsync(h.Gcp, Instance("pg-1.postgres.us-east-1.aws.sky"));
        var (recordEvent, c) = await Next<NamingRecordChanged>(NameRegistry.RecordChangedType);
        Assert.Equal(created.Name, recordEvent.Subject);
        Assert.Equal((NamingChangeType.Created, created.Name, "us-east-1.aws.sky", "gcp", created.Revision, 0L), (c.Change, c.Name, c.Zone, c.Owner, c.Revision, c.PreviousRevision));
        Assert.Equal(new Location { Provider = "aws", Region = "us-east-1" }, c.Location);
        Assert.Equal(created, c.Record);
        Assert.Equal(Start, c.Time.ToDateTimeOffset());

        var updated = (await h.Gcp.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(created.Name, Endpoint("10.0.0.2")), ExpectedRevision = created.Revision })).Record;
        var (_, u) = await Next<NamingRecordChanged>(NameRegistry.RecordChangedType);
        Assert.Equal((NamingChangeType.Updated, updated.Revision, created.Revision), (u.Change, u.Revision, u.PreviousRevision));
        Assert.Equal(updated, u.Record);

        var deleted = await h.Gcp.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = updated.Revision });
        var (_, d) = await Next<NamingRecordChanged>(NameRegistry.RecordChangedType);
        Assert.Equal((NamingChangeType.Deleted, deleted.Revision, updated.Revision), (d.Change, d.Revision, d.PreviousRevision));
        Assert.Equal(updated, d.Record);

        // A refused write publishes nothing: the next event is the zone deletion.
        await FailsAsync(StatusCode.NotFound, () => h.Gcp.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = updated.Revision }).ResponseAsync);
        await h.Aws.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" });
        var (_, zoneDeleted) = await Next<NamingZoneChanged>(NameRegistry.ZoneChangedType);
        Assert.Equal((NamingChangeType.Deleted, "us-east-1.aws.sky", "gcp", "aws.sky"), (zoneDeleted.Change, zoneDeleted.Zone.Name, zoneDeleted.Zone.Owner, zoneDeleted.Zone.Parent));
    }

    [SkippableFact]
    public async Task The_dns_front_end_reads_the_same_store_through_IRecordReader()
    {
        await using var h = await StartAsync();
        var reader = h.Mesh.Services.GetRequiredService<IRecordReader>();
        Assert.Same(h.Mesh.Services.GetRequiredService<INamingStore>(), reader);
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        var one = await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1"), Endpoint("10.0.0.2")));
        var two = await CreateRecordAsync(h.Aws, Instance("pg-2.postgres.us-east-1.aws.sky"));
        await CreateRecordAsync(h.Aws, Instance("db.pg-1.postgres.us-east-1.aws.sky"));

        Assert.Equal(one, await reader.GetRecordAsync(SkyName.Parse("pg-1.postgres.us-east-1.aws.sky").Name!));
        Assert.Null(await reader.GetRecordAsync(SkyName.Parse("pg-3.postgres.us-east-1.aws.sky").Name!));
        var instances = await reader.ListInstancesAsync(SkyName.Parse("_postgres._tcp.us-east-1.aws.sky").Name!);
        Assert.Equal([one, two], instances.OrderBy(r => r.Name, StringComparer.Ordinal));
    }
}

/// <summary>The scenarios on the embedded in-memory store.</summary>
public sealed class NamingApiTests : NamingScenarios
{
    protected override Task<string> StoreAsync() => Task.FromResult("memory");

    [Fact]
    public async Task Read_rpcs_are_served_as_json_too()
    {
        await using var h = await StartAsync();
        await CreateZoneAsync(h.Aws, "aws.sky", "aws");
        await CreateRecordAsync(h.Aws, Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1")));
        var token = await h.Mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme");
        using var http = h.Mesh.Http(token);
        var resolve = await http.GetStringAsync("/v1/resolve/pg-1.postgres.us-east-1.aws.sky");
        Assert.Contains("\"host\": \"10.0.0.1\"", resolve.Replace("\":\"", "\": \""));
        var lookup = await http.GetStringAsync("/v1/lookup/_postgres._tcp.us-east-1.aws.sky");
        Assert.Contains("pg-1.postgres.us-east-1.aws.sky", lookup);
    }

    [Fact]
    public async Task An_unreachable_redis_store_answers_unavailable()
    {
        await using var mesh = await TestMesh.StartAsync("naming", store: "redis://127.0.0.1:9");
        var client = mesh.Client<NamingClient>();
        await FailsAsync(StatusCode.Unavailable, () => client.ResolveAsync(new ResolveRequest { Name = "pg-1.postgres.us-east-1.aws.sky" }).ResponseAsync);
        await FailsAsync(StatusCode.Unavailable, () => CreateZoneAsync(client, "aws.sky", "aws"));
    }
}
