using Grpc.Health.V1;
using Sky.Common.V1;
using Sky.Hosting.Identity;
using Sky.Testing;

namespace Sky.Accounting.Tests;

/// <summary>The accounting service on a host of its own: it serves, and every RPC enforces the access rule in its .proto.</summary>
public sealed class AccountingContractTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();
    private static string Rpc(string method) => "/sky.accounting.v1.Accounting/" + method;

    [Fact]
    public async Task Serves_on_a_host_of_its_own()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var reply = await mesh.Client<Health.HealthClient>(token: null).CheckAsync(new HealthCheckRequest { Service = "sky.accounting.v1.Accounting" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Every_rpc_enforces_its_declared_access_rule()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        await ContractAccess.VerifyAsync(mesh, Sky.Accounting.V1.AccountingReflection.Descriptor.Services.Single());
    }

    [Fact]
    public void Money_moving_rpcs_are_operator_only_and_each_party_reads_its_own_side()
    {
        foreach (var operatorOnly in new[] { "CloseBillingPeriod", "CreatePeeringAgreement", "DeletePeeringAgreement" })
        {
            Assert.False(Policy.Admits(Rpc(operatorOnly), PrincipalKind.Provider), operatorOnly);
            Assert.False(Policy.Admits(Rpc(operatorOnly), PrincipalKind.Tenant), operatorOnly);
        }
        Assert.True(Policy.Admits(Rpc("RecordUsage"), PrincipalKind.Provider));
        Assert.False(Policy.Admits(Rpc("RecordUsage"), PrincipalKind.Tenant));
        Assert.True(Policy.Admits(Rpc("ListSettlements"), PrincipalKind.Provider));
        Assert.False(Policy.Admits(Rpc("ListSettlements"), PrincipalKind.Tenant));
        foreach (var tenantRead in new[] { "ListUsage", "GetInvoice", "ListInvoices", "ExportFocus", "StreamBilling", "GetQuote", "Reconcile" })
            Assert.True(Policy.Admits(Rpc(tenantRead), PrincipalKind.Tenant), tenantRead);
    }
}
