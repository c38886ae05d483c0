using Google.Protobuf;
using Sky.Accounting.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using StackExchange.Redis;

namespace Sky.Accounting.Peering;

/// <summary>
/// Peering agreements in Redis, shared by every host on the same store; nothing is cached in-process.
/// Keys (all under "sky:accounting:peering:"):
///   revision     INCR counter, bumped by every accepted write (the condition writes are checked against)
///   agreements   hash  id -> PeeringAgreement JSON, live agreements (current, future and ended)
///   removed      hash  id -> PeeringAgreement JSON, tombstones of agreements removed before they took effect
/// Each write is one Lua script that checks the id and the revision, writes, and appends the write's event to the
/// accounting outbox (sky:outbox:accounting), atomically: a change and its announcement commit together or not at all.
/// </summary>
public sealed class RedisPeeringStore(IConnectionMultiplexer redis) : IPeeringStore
{
    private const string Prefix = "sky:accounting:peering:";
    private static readonly RedisKey Revision = Prefix + "revision";
    private static readonly RedisKey Agreements = Prefix + "agreements";
    private static readonly RedisKey Removed = Prefix + "removed";
    private static readonly RedisKey Outbox = EventOutbox.Key(MeshService.Accounting.Name);

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    // KEYS: revision, agreements. Returns {revision, agreement JSON...}.
    private const string ReadScript = """
        local all = redis.call('HVALS', KEYS[2])
        table.insert(all, 1, redis.call('GET', KEYS[1]) or '0')
        return all
        """;

    // KEYS: agreements, removed. ARGV: id. Returns {JSON, removed '0'|'1'} or {}.
    private const string FindScript = """
        local live = redis.call('HGET', KEYS[1], ARGV[1])
        if live then return {live, '0'} end
        local gone = redis.call('HGET', KEYS[2], ARGV[1])
        if gone then return {gone, '1'} end
        return {}
        """;

    // KEYS: revision, agreements, removed, outbox. ARGV: id, JSON, expected revision, event (3, EventOutbox.AppendArguments).
    private const string CreateScript = EventOutbox.LuaAppend + """

        local live = redis.call('HGET', KEYS[2], ARGV[1])
        if live then return {'taken', live, '0'} end
        local gone = redis.call('HGET', KEYS[3], ARGV[1])
        if gone then return {'taken', gone, '1'} end
        if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[3] then return {'stale'} end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        redis.call('INCR', KEYS[1])
        local ids = sky_outbox(KEYS[4], 0, 4, 1)
        return {'done', unpack(ids)}
        """;

    // KEYS: revision, agreements, removed, outbox. ARGV: id, JSON, remove '0'|'1', expected revision, event (3).
    private const string EndScript = EventOutbox.LuaAppend + """

        if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[4] then return {'stale'} end
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {'stale'} end
        if ARGV[3] == '1' then
          redis.call('HDEL', KEYS[2], ARGV[1])
          redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        else
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        end
        redis.call('INCR', KEYS[1])
        local ids = sky_outbox(KEYS[4], 0, 5, 1)
        return {'done', unpack(ids)}
        """;

    private IDatabase Db => redis.GetDatabase();

    public async ValueTask<PeeringSnapshot> ReadAsync(CancellationToken ct = default)
    {
        var result = await RunAsync(ReadScript, [Revision, Agreements], []);
        var agreements = result.Skip(1).Select(r => Parse((string)r!)).ToList();
        return new PeeringSnapshot(agreements, long.Parse((string)result[0]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask<StoredAgreement?> FindAsync(string agreementId, CancellationToken ct = default)
    {
        var result = await RunAsync(FindScript, [Agreements, Removed], [agreementId]);
        return result.Length == 0 ? null : new StoredAgreement(Parse((string)result[0]!), (string)result[1]! == "1");
    }

    public async ValueTask<PeeringWrite> CreateAsync(PeeringAgreement agreement, long expectedRevision, PendingEvent announce, CancellationToken ct = default)
    {
        var args = new List<RedisValue> { agreement.AgreementId, Formatter.Format(agreement), expectedRevision };
        EventOutbox.AppendArguments(args, [announce]);
        var result = await RunAsync(CreateScript, [Revision, Agreements, Removed, Outbox], [.. args]);
        return (string)result[0]! switch
        {
            "done" => new PeeringWrite(PeeringWriteOutcome.Done, Outbox: OutboxIds(result)),
            "taken" => new PeeringWrite(PeeringWriteOutcome.IdTaken, new StoredAgreement(Parse((string)result[1]!), (string)result[2]! == "1")),
            "stale" => PeeringWrite.Stale,
            var other => throw new InvalidOperationException($"unexpected peering store answer '{other}'"),
        };
    }

    public async ValueTask<PeeringWrite> EndAsync(PeeringAgreement ended, bool remove, long expectedRevision, PendingEvent announce, CancellationToken ct = default)
    {
        var args = new List<RedisValue> { ended.AgreementId, Formatter.Format(ended), remove ? "1" : "0", expectedRevision };
        EventOutbox.AppendArguments(args, [announce]);
        var result = await RunAsync(EndScript, [Revision, Agreements, Removed, Outbox], [.. args]);
        return (string)result[0]! switch
        {
            "done" => new PeeringWrite(PeeringWriteOutcome.Done, Outbox: OutboxIds(result)),
            "stale" => PeeringWrite.Stale,
            var other => throw new InvalidOperationException($"unexpected peering store answer '{other}'"),
        };
    }

    private static PeeringAgreement Parse(string json) => Parser.Parse<PeeringAgreement>(json);

    private static RedisValue[] OutboxIds(RedisResult[] result) => [.. result.Skip(1).Select(r => (RedisValue)r)];

    /// <summary>Runs a script; an unreachable Redis is UNAVAILABLE to the caller (retryable), not an internal error.</summary>
    private async Task<RedisResult[]> RunAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return (RedisResult[])(await Db.ScriptEvaluateAsync(script, keys, args))!;
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw RpcErrors.Unavailable($"peering store unreachable: {ex.Message}");
        }
    }
}
