using System.Collections.Concurrent;
using System.Text.Json;
using Sky.Common.V1;
using StackExchange.Redis;

namespace Sky.Hosting.Identity;

/// <summary>Where keys issued through <c>CreateApiKey</c> live. Keys from host configuration are not stored here.</summary>
public interface IApiKeyStore
{
    Task<ApiKeyRecord?> FindByHashAsync(string sha256, CancellationToken ct = default);
    Task AddAsync(ApiKeyRecord key, CancellationToken ct = default);
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct = default);
    /// <summary>Marks the key revoked; false when unknown or already revoked.</summary>
    Task<ApiKeyRecord?> RevokeAsync(string keyId, DateTimeOffset at, CancellationToken ct = default);
}

public sealed class InMemoryApiKeyStore : IApiKeyStore
{
    private readonly ConcurrentDictionary<string, ApiKeyRecord> _byHash = new();

    public Task<ApiKeyRecord?> FindByHashAsync(string sha256, CancellationToken ct = default) =>
        Task.FromResult(_byHash.GetValueOrDefault(sha256));

    public Task AddAsync(ApiKeyRecord key, CancellationToken ct = default)
    {
        if (!_byHash.TryAdd(key.Sha256, key)) throw new InvalidOperationException("duplicate key hash");
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<ApiKeyRecord>>(_byHash.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId).ToList());

    public Task<ApiKeyRecord?> RevokeAsync(string keyId, DateTimeOffset at, CancellationToken ct = default)
    {
        foreach (var (hash, key) in _byHash)
        {
            if (key.KeyId != keyId || key.RevokedAt is not null) continue;
            var revoked = key with { RevokedAt = at };
            if (_byHash.TryUpdate(hash, revoked, key)) return Task.FromResult<ApiKeyRecord?>(revoked);
        }
        return Task.FromResult<ApiKeyRecord?>(null);
    }
}

/// <summary>Issued keys in two Redis hashes: hash -> record (JSON) and key id -> hash.</summary>
public sealed class RedisApiKeyStore(IConnectionMultiplexer redis) : IApiKeyStore
{
    private static readonly RedisKey ByHash = "sky:mesh:apikeys";
    private static readonly RedisKey ById = "sky:mesh:apikey-ids";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Revoke reads the record, sets revokedAt once, and writes it back in one step.
    private const string RevokeScript = """
        local hash = redis.call('HGET', KEYS[2], ARGV[1])
        if not hash then return false end
        local json = redis.call('HGET', KEYS[1], hash)
        if not json then return false end
        local rec = cjson.decode(json)
        if rec.revokedAt and rec.revokedAt ~= cjson.null then return false end
        rec.revokedAt = ARGV[2]
        local out = cjson.encode(rec)
        redis.call('HSET', KEYS[1], hash, out)
        return out
        """;

    private IDatabase Db => redis.GetDatabase();

    public async Task<ApiKeyRecord?> FindByHashAsync(string sha256, CancellationToken ct = default)
    {
        var value = await Db.HashGetAsync(ByHash, sha256);
        return value.IsNullOrEmpty ? null : Decode(value!);
    }

    public async Task AddAsync(ApiKeyRecord key, CancellationToken ct = default)
    {
        var tx = Db.CreateTransaction();
        tx.AddCondition(Condition.HashNotExists(ByHash, key.Sha256));
        _ = tx.HashSetAsync(ByHash, key.Sha256, JsonSerializer.Serialize(key, Json));
        _ = tx.HashSetAsync(ById, key.KeyId, key.Sha256);
        if (!await tx.ExecuteAsync()) throw new InvalidOperationException("duplicate key hash");
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken ct = default)
    {
        var entries = await Db.HashGetAllAsync(ByHash);
        return entries.Select(e => Decode(e.Value!)).OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId).ToList();
    }

    public async Task<ApiKeyRecord?> RevokeAsync(string keyId, DateTimeOffset at, CancellationToken ct = default)
    {
        var result = await Db.ScriptEvaluateAsync(RevokeScript, [ByHash, ById], [keyId, at.ToString("O")]);
        return result.IsNull ? null : Decode((string)result!);
    }

    private static ApiKeyRecord Decode(string json) =>
        JsonSerializer.Deserialize<ApiKeyRecord>(json, Json) ?? throw new InvalidDataException("bad api key record in Redis");
}
