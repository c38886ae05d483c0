using Grpc.Health.V1;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Sky.Testing;

namespace Sky.Transfer.Tests;

/// <summary>The transfer service on a host of its own: it serves, and every RPC enforces the access rule in its .proto.</summary>
public sealed class TransferContractTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();
    private static string Rpc(string method) => "/sky.transfer.v1.Transfer/" + method;

    [Fact]
    public async Task Serves_on_a_host_of_its_own()
    {
        await using var mesh = await TestMesh.StartAsync("transfer");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.transfer.v1.Transfer" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Every_rpc_enforces_its_declared_access_rule()
    {
        await using var mesh = await TestMesh.StartAsync("transfer");
        await ContractAccess.VerifyAsync(mesh, Sky.Transfer.V1.TransferReflection.Descriptor.Services.Single());
    }

    [Fact]
    public void Tenants_plan_and_run_transfers_and_providers_do_not()
    {
        foreach (var rpc in new[] { "PlanTransfer", "StartTransfer", "GetTransfer", "ListTransfers", "CancelTransfer", "WatchTransfer" })
        {
            Assert.True(Policy.Admits(Rpc(rpc), PrincipalKind.Tenant), rpc);
            Assert.False(Policy.Admits(Rpc(rpc), PrincipalKind.Provider), rpc);
        }
    }
}
