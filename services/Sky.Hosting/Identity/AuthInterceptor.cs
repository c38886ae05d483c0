using Grpc.Core;
using Grpc.Core.Interceptors;
using Sky.Hosting.Errors;

namespace Sky.Hosting.Identity;

/// <summary>
/// Turns the bearer key in the <c>authorization</c> metadata into a <see cref="Principal"/> and checks
/// the RPC's access rule before any handler runs. Missing or unknown key: UNAUTHENTICATED; a known
/// key whose kind the RPC does not admit: PERMISSION_DENIED. Scope (which provider, which tenant)
/// is the handler's to check, with <see cref="CallerExtensions"/>.
/// </summary>
public sealed class AuthInterceptor(ApiKeyRegistry keys, AccessPolicy policy) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    private async ValueTask AuthorizeAsync(ServerCallContext context)
    {
        if (AccessPolicy.IsOpen(context.Method)) return;
        var secret = BearerToken(context.RequestHeaders.GetValue("authorization"));
        if (secret is null)
            throw RpcErrors.Unauthenticated("missing API key: send 'authorization: Bearer <key>'");
        var principal = await keys.AuthenticateAsync(secret, context.CancellationToken)
            ?? throw RpcErrors.Unauthenticated("unknown or revoked API key");
        if (!policy.Admits(context.Method, principal.Kind))
        {
            var allowed = string.Join(", ", policy.AllowedFor(context.Method).Select(Principal.Describe));
            throw RpcErrors.PermissionDenied($"{context.Method} is open to {allowed}; the caller is {principal}");
        }
        context.UserState[CallerExtensions.PrincipalKey] = principal;
    }

    private static string? BearerToken(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        const string scheme = "Bearer ";
        var token = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..] : header;
        token = token.Trim();
        return token.Length == 0 ? null : token;
    }
}

/// <summary>The caller of the current RPC, and scope checks handlers use.</summary>
public static class CallerExtensions
{
    internal const string PrincipalKey = "sky.principal";

    public static Principal GetCaller(this ServerCallContext context) =>
        context.UserState.TryGetValue(PrincipalKey, out var value) && value is Principal p
            ? p
            : throw new InvalidOperationException("no principal: is AuthInterceptor registered?");

    /// <summary>Throws PERMISSION_DENIED unless the caller is the operator or <paramref name="provider"/>.</summary>
    public static Principal RequireProvider(this ServerCallContext context, string provider)
    {
        var caller = context.GetCaller();
        if (!caller.ActsForProvider(provider))
            throw RpcErrors.PermissionDenied($"{caller} may not act for provider '{provider}'");
        return caller;
    }

    /// <summary>Throws PERMISSION_DENIED unless the caller is the operator or <paramref name="tenant"/>.</summary>
    public static Principal RequireTenant(this ServerCallContext context, string tenant)
    {
        var caller = context.GetCaller();
        if (!caller.ActsForTenant(tenant))
            throw RpcErrors.PermissionDenied($"{caller} may not act for tenant '{tenant}'");
        return caller;
    }
}
