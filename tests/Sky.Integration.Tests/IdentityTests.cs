using Google.Rpc;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Mesh.V1;
using Sky.Testing;

namespace Sky.Integration.Tests;

public sealed class IdentityTests : IAsyncLifetime
{
    private TestMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await TestMesh.StartAsync();
    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private Sky.Mesh.V1.Mesh.MeshClient Mesh(string? token = "") => _mesh.Client<Sky.Mesh.V1.Mesh.MeshClient>(token);

    [Fact]
    public async Task A_call_without_a_key_is_unauthenticated()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Mesh(token: null).GetMeshInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("missing API key", ex.Status.Detail);
    }

    [Fact]
    public async Task A_call_with_an_unknown_key_is_unauthenticated()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Mesh("sky_not-a-real-key").GetMeshInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task A_tenant_calling_an_operator_only_rpc_is_permission_denied()
    {
        var tenant = await _mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme");
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Mesh(tenant).CreateApiKeyAsync(new CreateApiKeyRequest { Kind = PrincipalKind.Tenant, Scope = "evil" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("tenant 'acme'", ex.Status.Detail);
        Assert.Equal("ACCESS_DENIED", ex.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public async Task Issued_keys_carry_their_kind_and_scope()
    {
        var provider = await _mesh.IssueKeyAsync(PrincipalKind.Provider, "aws");
        var info = await Mesh(provider).GetMeshInfoAsync(new());
        Assert.Equal(PrincipalKind.Provider, info.Caller.Kind);
        Assert.Equal("aws", info.Caller.Scope);
        Assert.StartsWith("key_", info.Caller.KeyId);

        var op = await Mesh().GetMeshInfoAsync(new());
        Assert.Equal(PrincipalKind.Operator, op.Caller.Kind);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_and_revoking_again_is_harmless()
    {
        var reply = await Mesh().CreateApiKeyAsync(new CreateApiKeyRequest { Kind = PrincipalKind.Tenant, Scope = "acme", Description = "ci" });
        await Mesh(reply.ApiKey).GetMeshInfoAsync(new());

        Assert.True((await Mesh().RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = reply.KeyId })).Revoked);
        Assert.False((await Mesh().RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = reply.KeyId })).Revoked);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Mesh(reply.ApiKey).GetMeshInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        var listed = (await Mesh().ListApiKeysAsync(new())).Keys.Single(k => k.KeyId == reply.KeyId);
        Assert.NotNull(listed.RevokedAt);
        Assert.Equal("ci", listed.Description);
    }

    [Fact]
    public async Task Listing_keys_never_shows_secrets_and_pages()
    {
        for (var i = 0; i < 5; i++) await _mesh.IssueKeyAsync(PrincipalKind.Tenant, $"t{i}");
        var first = await Mesh().ListApiKeysAsync(new ListApiKeysRequest { Page = new PageRequest { PageSize = 4 } });
        Assert.Equal(4, first.Keys.Count);
        Assert.NotEmpty(first.Page.NextPageToken);
        var second = await Mesh().ListApiKeysAsync(new ListApiKeysRequest { Page = new PageRequest { PageSize = 4, PageToken = first.Page.NextPageToken } });
        Assert.Equal(2, second.Keys.Count); // operator key + 5 issued = 6
        Assert.Empty(second.Page.NextPageToken);
        Assert.DoesNotContain(first.Keys.Concat(second.Keys), k => k.ToString().Contains("sky_"));
    }

    [Fact]
    public async Task Bad_key_requests_get_field_violations()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Mesh().CreateApiKeyAsync(new CreateApiKeyRequest { Kind = PrincipalKind.Operator, Scope = "Not_Valid" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var fields = ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Select(v => v.Field).ToList();
        Assert.Equal(["kind", "scope"], fields);
    }

    [Fact]
    public async Task A_bad_page_token_is_invalid_argument()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Mesh().ListApiKeysAsync(new ListApiKeysRequest { Page = new PageRequest { PageToken = "garbage!" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("page.page_token", ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field);
    }
}
