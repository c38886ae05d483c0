using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Sky.Common.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Hosting.Store;
using Sky.Mesh.V1;

namespace Sky.Hosting.Mesh;

/// <summary>The host's own gRPC service: what it runs, who is calling, and API key administration.</summary>
public sealed class MeshApi(MeshOptions options, ApiKeyRegistry keys, PeerChannels peers) : Sky.Mesh.V1.Mesh.MeshBase
{
    public static string Version { get; } =
        typeof(MeshApi).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public override Task<GetMeshInfoResponse> GetMeshInfo(GetMeshInfoRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        var response = new GetMeshInfoResponse
        {
            Version = Version,
            Store = options.Store.Kind,
            Events = MeshOptionParsing.Redact(options.Events),
            Caller = new Sky.Mesh.V1.Principal { Kind = caller.Kind, Scope = caller.Scope, KeyId = caller.KeyId },
        };
        foreach (var service in MeshService.All)
        {
            response.Services.Add(new ServiceEndpoint
            {
                Kind = service.Kind,
                GrpcService = service.GrpcService,
                Local = options.Services.Contains(service),
                PeerAddress = peers.AddressOf(service)?.ToString() ?? "",
            });
        }
        return Task.FromResult(response);
    }

    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context)
    {
        var violations = new List<(string, string)>();
        if (request.Kind is not (PrincipalKind.Provider or PrincipalKind.Tenant))
            violations.Add(("kind", "must be PRINCIPAL_KIND_PROVIDER or PRINCIPAL_KIND_TENANT"));
        if (!ApiKeys.IsValidScope(request.Scope))
            violations.Add(("scope", "must be 1-63 lower-case letters, digits or '-', not starting or ending with '-'"));
        if (request.Description.Length > 200)
            violations.Add(("description", "at most 200 characters"));
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);

        var (key, secret) = await keys.IssueAsync(request.Kind, request.Scope, request.Description, context.CancellationToken);
        return new CreateApiKeyResponse { KeyId = key.KeyId, ApiKey = secret };
    }

    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context)
    {
        var all = await keys.ListAsync(context.CancellationToken);
        var (items, page) = Paging.Slice(all, request.Page);
        var response = new ListApiKeysResponse { Page = page };
        response.Keys.AddRange(items.Select(ToInfo));
        return response;
    }

    public override async Task<RevokeApiKeyResponse> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.KeyId)) throw RpcErrors.InvalidArgument("key_id", "required");
        if (keys.Configured.Any(k => k.KeyId == request.KeyId))
            throw RpcErrors.FailedPrecondition("CONFIGURED_KEY", request.KeyId, "keys from host configuration are removed from the configuration, not revoked");
        return new RevokeApiKeyResponse { Revoked = await keys.RevokeAsync(request.KeyId, context.CancellationToken) };
    }

    private static ApiKeyInfo ToInfo(ApiKeyRecord key) => new()
    {
        KeyId = key.KeyId,
        Kind = key.Kind,
        Scope = key.Scope,
        Description = key.Description,
        CreatedAt = Timestamp.FromDateTimeOffset(key.CreatedAt),
        RevokedAt = key.RevokedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
        Origin = key.Origin,
    };
}
