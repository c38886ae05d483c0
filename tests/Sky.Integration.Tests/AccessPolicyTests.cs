using Sky.Common.V1;
using Sky.Hosting.Identity;

namespace Sky.Integration.Tests;

public sealed class AccessPolicyTests
{
    private static readonly AccessPolicy Policy = AccessPolicy.FromContracts();

    [Fact]
    public void Every_rpc_of_every_contract_has_a_rule()
    {
        var methods = Policy.Methods.ToList();
        foreach (var service in new[] { "sky.mesh.v1.Mesh", "sky.naming.v1.Naming", "sky.directory.v1.Directory",
                     "sky.placement.v1.Placement", "sky.transfer.v1.Transfer", "sky.accounting.v1.Accounting" })
            Assert.Contains(methods, m => m.StartsWith($"/{service}/", StringComparison.Ordinal));
    }

    [Fact]
    public void The_operator_is_always_admitted_and_rules_come_from_the_proto_option()
    {
        Assert.True(Policy.Admits("/sky.mesh.v1.Mesh/CreateApiKey", PrincipalKind.Operator));
        Assert.False(Policy.Admits("/sky.mesh.v1.Mesh/CreateApiKey", PrincipalKind.Tenant));
        Assert.False(Policy.Admits("/sky.mesh.v1.Mesh/CreateApiKey", PrincipalKind.Provider));
        Assert.True(Policy.Admits("/sky.mesh.v1.Mesh/GetMeshInfo", PrincipalKind.Tenant));
        Assert.True(Policy.Admits("/sky.mesh.v1.Mesh/GetMeshInfo", PrincipalKind.Provider));
    }

    [Fact]
    public void Unknown_methods_admit_the_operator_only_and_probes_are_open()
    {
        Assert.False(Policy.Admits("/evil.v1.Backdoor/Open", PrincipalKind.Tenant));
        Assert.True(Policy.Admits("/evil.v1.Backdoor/Open", PrincipalKind.Operator));
        Assert.True(AccessPolicy.IsOpen("/grpc.health.v1.Health/Check"));
        Assert.True(AccessPolicy.IsOpen("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
        Assert.False(AccessPolicy.IsOpen("/sky.mesh.v1.Mesh/GetMeshInfo"));
    }

    [Fact]
    public void Principals_act_only_within_their_scope()
    {
        var aws = new Principal(PrincipalKind.Provider, "aws", "k1");
        var acme = new Principal(PrincipalKind.Tenant, "acme", "k2");
        var op = new Principal(PrincipalKind.Operator, "", "operator");
        Assert.True(aws.ActsForProvider("aws"));
        Assert.False(aws.ActsForProvider("gcp"));
        Assert.False(aws.ActsForTenant("aws"));
        Assert.True(acme.ActsForTenant("acme"));
        Assert.False(acme.ActsForProvider("acme"));
        Assert.True(op.ActsForProvider("gcp") && op.ActsForTenant("anyone"));
    }

    [Fact]
    public void Keys_are_random_and_only_their_hash_is_kept()
    {
        var a = ApiKeys.NewSecret();
        var b = ApiKeys.NewSecret();
        Assert.NotEqual(a, b);
        Assert.Matches("^sky_[A-Za-z0-9_-]{43}$", a);
        Assert.Equal(64, ApiKeys.Hash(a).Length);
        Assert.Equal(ApiKeys.Hash(a), ApiKeys.Hash(a));
        Assert.True(ApiKeys.IsValidScope("acme-corp-1"));
        Assert.False(ApiKeys.IsValidScope("-acme"));
        Assert.False(ApiKeys.IsValidScope("Acme"));
        Assert.False(ApiKeys.IsValidScope(new string('a', 64)));
    }
}
