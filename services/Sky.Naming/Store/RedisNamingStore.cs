using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Naming.Domain;
using Sky.Naming.V1;
using StackExchange.Redis;

namespace Sky.Naming.Store;

/// <summary>
/// Zones and records in Redis, shared by every host on the same store and nothing cached in-process.
/// Keys (all under "sky:naming:"):
///   revision               INCR counter: every record write's revision, naming-wide
///   zones                  hash  zone name -> Zone JSON (parent is derived when read)
///   zone-tree              zset  reversed zone names ("sky.aws.us-east-1"): a subtree is one lex range
///   record:{name}          hash  rev, created (UTC ticks), data (Record JSON without output-only fields)
///   record-names           zset  record names, for listing in name order
///   record-tree            zset  reversed record names, for "under" filters and zone-emptiness checks
///   instances:{service}    set   instance names under "&lt;service&gt;.&lt;region&gt;.&lt;provider&gt;.sky", for Lookup
/// Each write is one Lua script: it re-checks the deciding zone, the revision and existence, updates every index and
/// appends the write's event to the naming outbox (sky:outbox:naming), atomically.
/// </summary>
public sealed class RedisNamingStore(IConnectionMultiplexer redis) : INamingStore
{
    private const string Prefix = "sky:naming:";
    private static readonly RedisKey Revision = Prefix + "revision";
    private static readonly RedisKey Zones = Prefix + "zones";
    private static readonly RedisKey ZoneTree = Prefix + "zone-tree";
    private static readonly RedisKey RecordNames = Prefix + "record-names";
    private static readonly RedisKey RecordTree = Prefix + "record-tree";
    private static readonly RedisKey Outbox = EventOutbox.Key(Sky.Hosting.Options.MeshService.Naming.Name);
    private static RedisKey RecordKey(string name) => Prefix + "record:" + name;
    private static RedisKey InstancesKey(string service) => Prefix + "instances:" + service;

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    // The deepest existing zone among ARGV[first..] (candidates, deepest first): its name and owner, or '' and ''.
    private const string EnclosingZone = """
        local function enclosing_zone(zones, first)
          for i = first, #ARGV do
            local json = redis.call('HGET', zones, ARGV[i])
            if json then return ARGV[i], cjson.decode(json).owner end
          end
          return '', ''
        end
        """;

    // KEYS: record, zones, revision, record-names, record-tree, instances, outbox
    // ARGV: name, tree key, data, created ticks, is-instance, expected zone, expected owner, event (4: see Announce), candidate zones...
    private const string CreateRecordScript = EnclosingZone + EventOutbox.LuaAppend + """

        local zone, owner = enclosing_zone(KEYS[2], 12)
        if zone ~= ARGV[6] or owner ~= ARGV[7] then return {'zone-changed'} end
        local current = redis.call('HGET', KEYS[1], 'rev')
        if current then return {'exists', tonumber(current)} end
        local rev = redis.call('INCR', KEYS[3])
        redis.call('HSET', KEYS[1], 'rev', rev, 'created', ARGV[4], 'data', ARGV[3])
        redis.call('ZADD', KEYS[4], 0, ARGV[1])
        redis.call('ZADD', KEYS[5], 0, ARGV[2])
        if ARGV[5] == '1' then redis.call('SADD', KEYS[6], ARGV[1]) end
        local ids = sky_outbox(KEYS[7], rev, 9, tonumber(ARGV[8]))
        return {'done', rev, 0, ARGV[4], unpack(ids)}
        """;

    // KEYS: record, zones, revision, outbox
    // ARGV: expected revision, data, expected zone, expected owner, event (4), candidate zones...
    private const string UpdateRecordScript = EnclosingZone + EventOutbox.LuaAppend + """

        local zone, owner = enclosing_zone(KEYS[2], 9)
        if zone ~= ARGV[3] or owner ~= ARGV[4] then return {'zone-changed'} end
        local current = redis.call('HGET', KEYS[1], 'rev')
        if not current then return {'not-found'} end
        if current ~= ARGV[1] then return {'stale', tonumber(current)} end
        local rev = redis.call('INCR', KEYS[3])
        redis.call('HSET', KEYS[1], 'rev', rev, 'data', ARGV[2])
        local ids = sky_outbox(KEYS[4], rev, 6, tonumber(ARGV[5]))
        return {'done', rev, tonumber(current), redis.call('HGET', KEYS[1], 'created'), unpack(ids)}
        """;

    // KEYS: record, zones, revision, record-names, record-tree, instances, outbox
    // ARGV: name, tree key, expected revision, expected zone, expected owner, event (4), candidate zones...
    private const string DeleteRecordScript = EnclosingZone + EventOutbox.LuaAppend + """

        local zone, owner = enclosing_zone(KEYS[2], 10)
        if zone ~= ARGV[4] or owner ~= ARGV[5] then return {'zone-changed'} end
        local current = redis.call('HGET', KEYS[1], 'rev')
        if not current then return {'not-found'} end
        if current ~= ARGV[3] then return {'stale', tonumber(current)} end
        local rev = redis.call('INCR', KEYS[3])
        local created = redis.call('HGET', KEYS[1], 'created')
        local data = redis.call('HGET', KEYS[1], 'data')
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[4], ARGV[1])
        redis.call('ZREM', KEYS[5], ARGV[2])
        redis.call('SREM', KEYS[6], ARGV[1])
        local ids = sky_outbox(KEYS[7], rev, 7, tonumber(ARGV[6]))
        return {'done', rev, tonumber(current), created, data, unpack(ids)}
        """;

    // KEYS: zones, zone-tree, outbox
    // ARGV: name, tree key, zone JSON, expected parent, expected parent owner, event (4), candidate parents...
    private const string CreateZoneScript = EnclosingZone + EventOutbox.LuaAppend + """

        local parent, owner = enclosing_zone(KEYS[1], 10)
        if parent ~= ARGV[4] or owner ~= ARGV[5] then return {'zone-changed'} end
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'exists'} end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        redis.call('ZADD', KEYS[2], 0, ARGV[2])
        local ids = sky_outbox(KEYS[3], 0, 7, tonumber(ARGV[6]))
        return {'done', unpack(ids)}
        """;

    // KEYS: zones, zone-tree, record-tree, outbox
    // ARGV: name, tree key, expected owner, expected parent, expected parent owner, event (4), candidate parents...
    // With no sub-zone below it, every record at or below the zone's name belongs to the zone.
    private const string DeleteZoneScript = EnclosingZone + EventOutbox.LuaAppend + """

        local json = redis.call('HGET', KEYS[1], ARGV[1])
        if not json then return {'not-found'} end
        if cjson.decode(json).owner ~= ARGV[3] then return {'zone-changed'} end
        local parent, owner = enclosing_zone(KEYS[1], 10)
        if parent ~= ARGV[4] or owner ~= ARGV[5] then return {'zone-changed'} end
        local below = redis.call('ZRANGEBYLEX', KEYS[2], '[' .. ARGV[2] .. '.', '(' .. ARGV[2] .. '/', 'LIMIT', 0, 1)
        if #below > 0 then return {'not-empty', 'sub-zone', below[1]} end
        if redis.call('ZSCORE', KEYS[3], ARGV[2]) then return {'not-empty', 'record', ARGV[2]} end
        local records = redis.call('ZRANGEBYLEX', KEYS[3], '[' .. ARGV[2] .. '.', '(' .. ARGV[2] .. '/', 'LIMIT', 0, 1)
        if #records > 0 then return {'not-empty', 'record', records[1]} end
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        local ids = sky_outbox(KEYS[4], 0, 7, tonumber(ARGV[6]))
        return {'done', json, unpack(ids)}
        """;

    private IDatabase Db => redis.GetDatabase();

    public async ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default)
    {
        var db = Db;
        var candidates = NameTree.Enclosing(name.Canonical, includeSelf: true);
        var record = db.HashGetAllAsync(RecordKey(name.Canonical));
        var zones = ZonesAsync(db, candidates);
        await Guard(Task.WhenAll(record, zones));
        return Decode(name.Canonical, await record) is { } found ? (await zones).Attach(found) : null;
    }

    public async ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default)
    {
        var service = NameTree.ServiceOf(lookupName);
        var names = (await Guard(Db.SetMembersAsync(InstancesKey(service)))).Select(v => v.ToString()).ToList();
        return await GetRecordsAsync(names, ct);
    }

    public async ValueTask<Zone?> FindZoneAsync(string name, bool includeSelf, CancellationToken ct = default)
    {
        // The parent of whichever candidate wins is among the later candidates, so one read answers both.
        var index = await Guard(ZonesAsync(Db, NameTree.Enclosing(name, includeSelf: true)));
        var zone = index.Enclosing(name, includeSelf);
        return zone is null ? null : index.WithParent(zone.Name);
    }

    public async ValueTask<IReadOnlyList<Zone>> ListZonesAsync(CancellationToken ct = default)
    {
        var entries = await Guard(Db.HashGetAllAsync(Zones));
        return new ZoneIndex(entries.Select(e => ParseZone(e.Value!))).AllWithParents().ToList();
    }

    public async ValueTask<ZoneWrite> CreateZoneAsync(Zone zone, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default)
    {
        var stored = zone.Clone();
        stored.Parent = "";
        RedisValue[] args = [stored.Name, NameTree.TreeKey(stored.Name), Formatter.Format(stored),
            expectedParent?.Name ?? "", expectedParent?.Owner ?? "", .. Announce(announce), .. Candidates(stored.Name, includeSelf: false)];
        var result = await RunAsync(CreateZoneScript, [Zones, ZoneTree, Outbox], args);
        return Status(result) switch
        {
            "done" => new ZoneWrite(StoreOutcome.Done, stored, Outbox: OutboxIds(result, 1)),
            "exists" => new ZoneWrite(StoreOutcome.AlreadyExists),
            var other => new ZoneWrite(Outcome(other)),
        };
    }

    public async ValueTask<ZoneWrite> DeleteZoneAsync(Zone expected, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default)
    {
        RedisValue[] args = [expected.Name, NameTree.TreeKey(expected.Name), expected.Owner,
            expectedParent?.Name ?? "", expectedParent?.Owner ?? "", .. Announce(announce), .. Candidates(expected.Name, includeSelf: false)];
        var result = await RunAsync(DeleteZoneScript, [Zones, ZoneTree, RecordTree, Outbox], args);
        return Status(result) switch
        {
            "done" => new ZoneWrite(StoreOutcome.Done, ParseZone((string)result[1]!), Outbox: OutboxIds(result, 2)),
            "not-empty" => new ZoneWrite(StoreOutcome.ZoneNotEmpty,
                Blocker: $"the {(string)result[1]!} '{NameTree.FromTreeKey((string)result[2]!)}'"),
            var other => new ZoneWrite(Outcome(other)),
        };
    }

    public async ValueTask<RecordWrite> CreateRecordAsync(SkyName name, Record record, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
    {
        var isInstance = name.Kind == SkyNameKind.Instance;
        var data = Data(record, now);
        var created = now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        RedisKey[] keys = [RecordKey(name.Canonical), Zones, Revision, RecordNames, RecordTree,
            InstancesKey(isInstance ? NameTree.ServiceOf(name) : ""), Outbox];
        RedisValue[] args = [name.Canonical, NameTree.TreeKey(name.Canonical), data, created, isInstance ? "1" : "0",
            expectedZone.Name, expectedZone.Owner, .. Announce(announce), .. Candidates(name.Canonical, includeSelf: true)];
        var result = await RunAsync(CreateRecordScript, keys, args);
        return Status(result) switch
        {
            "done" => new RecordWrite(StoreOutcome.Done, Stored(name.Canonical, data, (long)result[1], created, expectedZone), (long)result[1],
                Outbox: OutboxIds(result, 4)),
            "exists" => new RecordWrite(StoreOutcome.AlreadyExists, PreviousRevision: (long)result[1]),
            var other => new RecordWrite(Outcome(other)),
        };
    }

    public async ValueTask<RecordWrite> UpdateRecordAsync(SkyName name, Record record, long expectedRevision, DateTimeOffset now, Zone expectedZone,
        PendingEvent? announce = null, CancellationToken ct = default)
    {
        var data = Data(record, now);
        RedisValue[] args = [expectedRevision, data, expectedZone.Name, expectedZone.Owner, .. Announce(announce), .. Candidates(name.Canonical, includeSelf: true)];
        var result = await RunAsync(UpdateRecordScript, [RecordKey(name.Canonical), Zones, Revision, Outbox], args);
        return Status(result) switch
        {
            "done" => new RecordWrite(StoreOutcome.Done, Stored(name.Canonical, data, (long)result[1], (string)result[3]!, expectedZone),
                (long)result[1], (long)result[2], OutboxIds(result, 4)),
            "stale" => new RecordWrite(StoreOutcome.StaleRevision, PreviousRevision: (long)result[1]),
            var other => new RecordWrite(Outcome(other)),
        };
    }

    public async ValueTask<RecordWrite> DeleteRecordAsync(SkyName name, long expectedRevision, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
    {
        RedisKey[] keys = [RecordKey(name.Canonical), Zones, Revision, RecordNames, RecordTree,
            InstancesKey(name.Kind == SkyNameKind.Instance ? NameTree.ServiceOf(name) : ""), Outbox];
        RedisValue[] args = [name.Canonical, NameTree.TreeKey(name.Canonical), expectedRevision,
            expectedZone.Name, expectedZone.Owner, .. Announce(announce), .. Candidates(name.Canonical, includeSelf: true)];
        var result = await RunAsync(DeleteRecordScript, keys, args);
        return Status(result) switch
        {
            "done" => new RecordWrite(StoreOutcome.Done,
                Stored(name.Canonical, (string)result[4]!, (long)result[2], (string)result[3]!, expectedZone), (long)result[1], (long)result[2],
                OutboxIds(result, 5)),
            "stale" => new RecordWrite(StoreOutcome.StaleRevision, PreviousRevision: (long)result[1]),
            var other => new RecordWrite(Outcome(other)),
        };
    }

    public async ValueTask<IReadOnlyList<string>> ListRecordNamesAsync(string? under, CancellationToken ct = default)
    {
        var db = Db;
        if (under is null)
            return (await Guard(db.SortedSetRangeByValueAsync(RecordNames))).Select(v => v.ToString()).ToList();

        // The subtree is the record at the name itself plus one lex range of reversed names.
        var key = NameTree.TreeKey(under);
        var exact = db.SortedSetScoreAsync(RecordTree, key);
        var below = db.SortedSetRangeByValueAsync(RecordTree, key + ".", key + "/", Exclude.Stop);
        await Guard(Task.WhenAll(exact, below));
        var names = (await below).Select(v => NameTree.FromTreeKey(v.ToString())).ToList();
        if ((await exact) is not null) names.Add(under);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public async ValueTask<IReadOnlyList<Record>> GetRecordsAsync(IReadOnlyList<string> names, CancellationToken ct = default)
    {
        if (names.Count == 0) return [];
        var db = Db;
        var reads = names.Select(n => db.HashGetAllAsync(RecordKey(n))).ToList();
        var zones = ZonesAsync(db, names.SelectMany(n => NameTree.Enclosing(n, includeSelf: true)).Distinct(StringComparer.Ordinal).ToList());
        await Guard(Task.WhenAll([.. reads, zones]));
        var index = await zones;
        var records = new List<Record>(names.Count);
        for (var i = 0; i < names.Count; i++)
            if (Decode(names[i], await reads[i]) is { } record)
                records.Add(index.Attach(record));
        return records;
    }

    /// <summary>The zones among <paramref name="names"/> that exist, as an index.</summary>
    private static async Task<ZoneIndex> ZonesAsync(IDatabase db, IReadOnlyList<string> names)
    {
        var values = await db.HashGetAsync(Zones, [.. names.Select(n => (RedisValue)n)]);
        return new ZoneIndex(values.Where(v => !v.IsNull).Select(v => ParseZone(v!)));
    }

    /// <summary>A write's event as four script arguments: how many (0 or 1), then EventOutbox.AppendArguments' three.</summary>
    private static RedisValue[] Announce(PendingEvent? announce)
    {
        if (announce is null) return [0, "", "", -1];
        var args = new List<RedisValue>(4) { 1 };
        EventOutbox.AppendArguments(args, [announce]);
        return [.. args];
    }

    private static RedisValue[] OutboxIds(RedisResult[] result, int from) => [.. result.Skip(from).Select(r => (RedisValue)r)];

    private static RedisValue[] Candidates(string name, bool includeSelf) =>
        [.. NameTree.Enclosing(name, includeSelf).Select(n => (RedisValue)n)];

    private static string Data(Record record, DateTimeOffset now)
    {
        var data = record.Clone();
        data.Revision = 0;
        data.CreatedAt = null;
        data.Zone = "";
        data.Owner = "";
        data.UpdatedAt = Timestamp.FromDateTimeOffset(now);
        return Formatter.Format(data);
    }

    private static Record Stored(string name, string data, long revision, string createdTicks, Zone zone)
    {
        var record = Parser.Parse<Record>(data);
        record.Name = name;
        record.Revision = revision;
        record.CreatedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(long.Parse(createdTicks, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero));
        record.Zone = zone.Name;
        record.Owner = zone.Owner;
        return record;
    }

    private static Record? Decode(string name, HashEntry[] fields)
    {
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString(), StringComparer.Ordinal);
        return Stored(name, map["data"], long.Parse(map["rev"], System.Globalization.CultureInfo.InvariantCulture), map["created"], new Zone());
    }

    private static Zone ParseZone(string json) => Parser.Parse<Zone>(json);

    private static string Status(RedisResult[] result) => (string)result[0]!;

    private static StoreOutcome Outcome(string status) => status switch
    {
        "zone-changed" => StoreOutcome.ZoneChanged,
        "not-found" => StoreOutcome.NotFound,
        _ => throw new InvalidOperationException($"unexpected naming store answer '{status}'"),
    };

    private async Task<RedisResult[]> RunAsync(string script, RedisKey[] keys, RedisValue[] args) =>
        (RedisResult[])(await Guard(Db.ScriptEvaluateAsync(script, keys, args)))!;

    /// <summary>An unreachable Redis is UNAVAILABLE to the caller (retryable), not an internal error.</summary>
    private static async Task<T> Guard<T>(Task<T> operation)
    {
        try
        {
            return await operation;
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw RpcErrors.Unavailable($"naming store unreachable: {ex.Message}");
        }
    }

    private static async Task Guard(Task operation)
    {
        try
        {
            await operation;
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw RpcErrors.Unavailable($"naming store unreachable: {ex.Message}");
        }
    }
}
