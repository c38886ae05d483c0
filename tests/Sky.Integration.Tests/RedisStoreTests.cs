using Grpc.Core;
using Sky.Common.V1;
using Sky.Mesh.V1;
using Sky.Testing;
using Grpc.Health.V1;

namespace Sky.Integration.Tests;

public sealed class RedisStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [SkippableFact]
    public async Task Issued_keys_survive_a_restart_and_are_shared_by_hosts_on_one_redis()
    {
        var store = await redis.NewDatabaseAsync();
        string tenantKey;
        string keyId;
        await using (var first = await TestMesh.StartAsync(store: store))
        {
            var reply = await first.Client<Sky.Mesh.V1.Mesh.MeshClient>().CreateApiKeyAsync(new CreateApiKeyRequest { Kind = PrincipalKind.Tenant, Scope = "acme" });
            (tenantKey, keyId) = (reply.ApiKey, reply.KeyId);
        }

        await using var second = await TestMesh.StartAsync(store: store);
        await using var third = await TestMesh.StartAsync(store: store, operatorToken: second.OperatorToken);
        var info = await second.Client<Sky.Mesh.V1.Mesh.MeshClient>(tenantKey).GetMeshInfoAsync(new());
        Assert.Equal("acme", info.Caller.Scope);
        Assert.Equal("redis", info.Store);
        await third.Client<Sky.Mesh.V1.Mesh.MeshClient>(tenantKey).GetMeshInfoAsync(new());

        Assert.True((await third.Client<Sky.Mesh.V1.Mesh.MeshClient>().RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = keyId })).Revoked);
        var ex = await Assert.ThrowsAsync<RpcException>(() => third.Client<Sky.Mesh.V1.Mesh.MeshClient>(tenantKey).GetMeshInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        var listed = await second.Client<Sky.Mesh.V1.Mesh.MeshClient>().ListApiKeysAsync(new());
        Assert.NotNull(listed.Keys.Single(k => k.KeyId == keyId).RevokedAt);
    }

    [SkippableFact]
    public async Task Health_includes_the_redis_store()
    {
        var store = await redis.NewDatabaseAsync();
        await using var mesh = await TestMesh.StartAsync(store: store);
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.directory.v1.Directory" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task An_unreachable_redis_makes_the_services_not_serving()
    {
        await using var mesh = await TestMesh.StartAsync(store: "redis://127.0.0.1:9");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.naming.v1.Naming" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, reply.Status);
    }
}
