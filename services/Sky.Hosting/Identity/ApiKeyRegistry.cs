using System.Collections.Concurrent;
using Sky.Common.V1;

namespace Sky.Hosting.Identity;

/// <summary>
/// Every key the host accepts: the operator's (from configuration or generated), keys listed in
/// configuration (<c>Sky:ApiKeys</c>, by hash), and keys issued at run time (in <see cref="IApiKeyStore"/>).
/// Store lookups are cached for <see cref="CacheFor"/>, so a key revoked on another host sharing
/// the store stops working here within that time; on this host at once.
/// </summary>
public sealed class ApiKeyRegistry(IApiKeyStore store, TimeProvider time, IEnumerable<ApiKeyRecord> configured)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, ApiKeyRecord> _configured = configured.ToDictionary(k => k.Sha256);
    private readonly ConcurrentDictionary<string, (ApiKeyRecord Key, DateTimeOffset Until)> _cache = new();

    public IEnumerable<ApiKeyRecord> Configured => _configured.Values;

    /// <summary>The principal for a presented secret, or null when the key is unknown or revoked.</summary>
    public async ValueTask<Principal?> AuthenticateAsync(string secret, CancellationToken ct)
    {
        var hash = ApiKeys.Hash(secret);
        if (_configured.TryGetValue(hash, out var configuredKey)) return configuredKey.ToPrincipal();
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(hash, out var hit) && hit.Until > now) return hit.Key.ToPrincipal();
        var key = await store.FindByHashAsync(hash, ct);
        if (key is null || key.RevokedAt is not null)
        {
            _cache.TryRemove(hash, out _);
            return null;
        }
        _cache[hash] = (key, now + CacheFor);
        return key.ToPrincipal();
    }

    public async Task<(ApiKeyRecord Key, string Secret)> IssueAsync(PrincipalKind kind, string scope, string description, CancellationToken ct)
    {
        var secret = ApiKeys.NewSecret();
        var key = new ApiKeyRecord(ApiKeys.NewKeyId(), ApiKeys.Hash(secret), kind, scope, description, time.GetUtcNow(), null, "issued");
        await store.AddAsync(key, ct);
        return (key, secret);
    }

    public async Task<bool> RevokeAsync(string keyId, CancellationToken ct)
    {
        var revoked = await store.RevokeAsync(keyId, time.GetUtcNow(), ct);
        if (revoked is null) return false;
        _cache.TryRemove(revoked.Sha256, out _);
        return true;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct) =>
        [.. _configured.Values.OrderBy(k => k.KeyId), .. await store.ListAsync(ct)];
}
