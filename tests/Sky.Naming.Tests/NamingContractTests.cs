using Grpc.Health.V1;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Sky.Testing;

namespace Sky.Naming.Tests;

/// <summary>The naming service on a host of its own: it serves, and every RPC enforces the access rule in its .proto.</summary>
public sealed class NamingContractTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();
    private static string Rpc(string method) => "/sky.naming.v1.Naming/" + method;

    [Fact]
    public async Task Serves_on_a_host_of_its_own()
    {
        await using var mesh = await TestMesh.StartAsync("naming");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.naming.v1.Naming" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Every_rpc_enforces_its_declared_access_rule()
    {
        await using var mesh = await TestMesh.StartAsync("naming");
        await ContractAccess.VerifyAsync(mesh, Sky.Naming.V1.NamingReflection.Descriptor.Services.Single());
    }

    [Fact]
    public void Tenants_resolve_names_and_only_providers_and_the_operator_write_them()
    {
        foreach (var read in new[] { "Resolve", "Lookup", "ListRecords", "GetZone", "ListZones" })
            Assert.True(Policy.Admits(Rpc(read), PrincipalKind.Tenant), read);
        foreach (var write in new[] { "CreateZone", "DeleteZone", "CreateRecord", "UpdateRecord", "DeleteRecord" })
        {
            Assert.False(Policy.Admits(Rpc(write), PrincipalKind.Tenant), write);
            Assert.True(Policy.Admits(Rpc(write), PrincipalKind.Provider), write);
        }
    }
}
