using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Naming.V1;
using Record = Sky.Naming.V1.Record;
using Sky.Testing;
using StackExchange.Redis;
using static Sky.Naming.Tests.NamingAssert;
using NamingClient = Sky.Naming.V1.Naming.NamingClient;

namespace Sky.Naming.Tests;

/// <summary>
/// The scenarios on a real Redis, plus what only a shared, durable store can show: writes survive a
/// restart, and hosts on one Redis see (and conflict with) each other's writes at once.
/// </summary>
public sealed class NamingRedisTests(RedisServer redis) : NamingScenarios, IClassFixture<RedisServer>
{
    protected override Task<string> StoreAsync() => redis.NewDatabaseAsync();

    [SkippableFact]
    public async Task Zones_and_records_survive_a_restart()
    {
        var store = await redis.NewDatabaseAsync();
        Record created;
        Zone delegated;
        await using (var first = await TestMesh.StartAsync("naming", store))
        {
            var aws = first.Client<NamingClient>(await first.IssueKeyAsync(PrincipalKind.Provider, "aws"));
            await CreateZoneAsync(aws, "aws.sky", "aws");
            delegated = await CreateZoneAsync(aws, "us-east-1.aws.sky", "gcp", "delegated to gcp");
            created = await CreateRecordAsync(first.Client<NamingClient>(), Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1"), Endpoint("10.0.0.2", priority: 1)));
        }

        await using var second = await TestMesh.StartAsync("naming", store);
        var client = second.Client<NamingClient>();
        Assert.Equal(delegated, (await client.GetZoneAsync(new GetZoneRequest { Name = "us-east-1.aws.sky" })).Zone);
        var resolved = (await client.ResolveAsync(new ResolveRequest { Name = created.Name })).Record;
        Assert.Equal(created, resolved);
        var lookup = await client.LookupAsync(new LookupRequest { Name = "_postgres._tcp.us-east-1.aws.sky" });
        Assert.Equal(["10.0.0.1", "10.0.0.2"], lookup.Endpoints.Select(e => e.Endpoint.Host));
        Assert.Equal([created.Name], (await client.ListRecordsAsync(new ListRecordsRequest { Under = "aws.sky" })).Records.Select(r => r.Name));

        // The revision counter is durable too: the next write is still later than every earlier one.
        var gcp = second.Client<NamingClient>(await second.IssueKeyAsync(PrincipalKind.Provider, "gcp"));
        var updated = (await gcp.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(created.Name), ExpectedRevision = created.Revision })).Record;
        Assert.True(updated.Revision > created.Revision);
        await FailsAsync(StatusCode.FailedPrecondition, () => client.DeleteZoneAsync(new DeleteZoneRequest { Name = "us-east-1.aws.sky" }).ResponseAsync);
    }

    [SkippableFact]
    public async Task Two_hosts_on_one_redis_see_and_conflict_with_each_others_writes()
    {
        var store = await redis.NewDatabaseAsync();
        await using var one = await TestMesh.StartAsync("naming", store);
        await using var two = await TestMesh.StartAsync("naming", store, operatorToken: one.OperatorToken);
        var awsKey = await one.IssueKeyAsync(PrincipalKind.Provider, "aws");
        var (a, b) = (one.Client<NamingClient>(awsKey), two.Client<NamingClient>(awsKey));

        await CreateZoneAsync(a, "aws.sky", "aws");
        await FailsAsync(StatusCode.AlreadyExists, () => CreateZoneAsync(b, "aws.sky", "aws"));
        var created = await CreateRecordAsync(b, Instance("pg-1.postgres.us-east-1.aws.sky", Endpoint("10.0.0.1")));
        Assert.Equal(created, (await a.ResolveAsync(new ResolveRequest { Name = created.Name })).Record);

        var updated = (await a.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(created.Name, Endpoint("10.0.0.2")), ExpectedRevision = created.Revision })).Record;
        await FailsAsync(StatusCode.Aborted, () => b.UpdateRecordAsync(new UpdateRecordRequest { Record = Instance(created.Name, Endpoint("10.0.0.3")), ExpectedRevision = created.Revision }).ResponseAsync);
        Assert.Equal(["10.0.0.2"], (await b.LookupAsync(new LookupRequest { Name = "_postgres._tcp.us-east-1.aws.sky" })).Endpoints.Select(e => e.Endpoint.Host));

        await b.DeleteRecordAsync(new DeleteRecordRequest { Name = created.Name, ExpectedRevision = updated.Revision });
        await FailsAsync(StatusCode.NotFound, () => a.ResolveAsync(new ResolveRequest { Name = created.Name }).ResponseAsync);
        Assert.Empty((await a.LookupAsync(new LookupRequest { Name = "_postgres._tcp.us-east-1.aws.sky" })).Endpoints);
        await a.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" });
        Assert.Empty((await b.ListZonesAsync(new ListZonesRequest())).Zones);
    }

    [SkippableFact]
    public async Task Every_key_lives_under_the_naming_prefix_and_a_deleted_name_leaves_nothing_behind()
    {
        var store = await redis.NewDatabaseAsync();
        await using var mesh = await TestMesh.StartAsync("naming", store);
        var client = mesh.Client<NamingClient>();
        await CreateZoneAsync(client, "aws.sky", "aws");
        var record = await CreateRecordAsync(client, Instance("pg-1.postgres.us-east-1.aws.sky"));

        var connection = mesh.Services.GetRequiredService<IConnectionMultiplexer>();
        var server = connection.GetServers().Single();
        var db = connection.GetDatabase();
        var keys = server.Keys(db.Database, "sky:naming:*").Select(k => k.ToString()).ToList();
        Assert.Contains("sky:naming:record:pg-1.postgres.us-east-1.aws.sky", keys);
        Assert.Contains("sky:naming:instances:postgres.us-east-1.aws.sky", keys);

        await client.DeleteRecordAsync(new DeleteRecordRequest { Name = record.Name, ExpectedRevision = record.Revision });
        await client.DeleteZoneAsync(new DeleteZoneRequest { Name = "aws.sky" });
        var left = server.Keys(db.Database, "sky:naming:*").Select(k => k.ToString()).Order().ToList();
        // Only the revision counter remains: it must never go back.
        Assert.Equal(["sky:naming:revision"], left);
    }
}
