using Grpc.Health.V1;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Sky.Testing;

namespace Sky.Placement.Tests;

/// <summary>The placement service on a host of its own: it serves, and every RPC enforces the access rule in its .proto.</summary>
public sealed class PlacementContractTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();
    private static string Rpc(string method) => "/sky.placement.v1.Placement/" + method;

    [Fact]
    public async Task Serves_on_a_host_of_its_own()
    {
        await using var mesh = await TestMesh.StartAsync("placement");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.placement.v1.Placement" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Every_rpc_enforces_its_declared_access_rule()
    {
        await using var mesh = await TestMesh.StartAsync("placement");
        await ContractAccess.VerifyAsync(mesh, Sky.Placement.V1.PlacementReflection.Descriptor.Services.Single());
    }

    [Fact]
    public void Tenants_plan_launch_and_manage_jobs_and_providers_do_not()
    {
        foreach (var rpc in new[] { "Plan", "Launch", "GetJob", "ListJobs", "CancelJob", "StreamJobLogs", "WatchJob" })
        {
            Assert.True(Policy.Admits(Rpc(rpc), PrincipalKind.Tenant), rpc);
            Assert.False(Policy.Admits(Rpc(rpc), PrincipalKind.Provider), rpc);
        }
    }
}
