using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Sky.Hosting.Events;

/// <summary>
/// An event that announces a state change and must go out if, and only if, the change commits.
/// <paramref name="RevisionOf"/> is the index of the write (in its commit) whose store-assigned revision the event
/// carries, or -1: a Redis store numbers its writes inside the commit script, after the event was built.
/// </summary>
public sealed record PendingEvent(string Topic, SkyEvent Event, int RevisionOf = -1);

/// <summary>
/// The transactional outbox every service's stores share. A store that commits in Redis appends each pending event to
/// <c>sky:outbox:&lt;service&gt;</c> in the same Lua script as the change (<see cref="LuaAppend"/>), so the change and
/// its announcement commit together or not at all. The committing host then publishes the events at once and deletes
/// their entries (<see cref="DeliverAsync"/>); if it dies in between, <see cref="OutboxSweeper"/> on any host publishes
/// entries older than <see cref="Grace"/> with the same event ids, and subscribers, idempotent by id, handle them once.
/// In-memory stores pass no entry ids: state and events live and die with the one process, so publishing after the
/// commit is all there is to do.
/// </summary>
public sealed class EventOutbox(IEventBus bus, TimeProvider time, Options.MeshService service, ILogger<EventOutbox> log, IConnectionMultiplexer? redis = null)
{
    /// <summary>How old an entry must be before a sweeper takes it over from the host that committed it.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>The service's outbox stream.</summary>
    public static RedisKey Key(string service) => "sky:outbox:" + service;

    public RedisKey StreamKey => Key(service.Name);

    /// <summary>True when a store must write events into <see cref="StreamKey"/> with its commits.</summary>
    public bool IsDurable => redis is not null;

    /// <summary>
    /// A Lua function for a store's commit script: <c>sky_outbox(key, first, from, count)</c> appends the
    /// <c>count</c> events whose arguments start at <c>ARGV[from]</c> (topic, CloudEvent, write index; see
    /// <see cref="AppendArguments"/>) and returns their entry ids. <c>first</c> is the revision of write 0. It begins
    /// and ends with a line break, so it can be joined to other script text.
    /// </summary>
    public const string LuaAppend = """

        local function sky_outbox(key, first, from, count)
          local ids = {}
          for j = 0, count - 1 do
            local b = from + j * 3
            local w = tonumber(ARGV[b + 2])
            local r = 0
            if w >= 0 then r = first + w end
            ids[#ids + 1] = redis.call('XADD', key, '*', 't', ARGV[b], 'e', ARGV[b + 1], 'r', r)
          end
          return ids
        end

        """;

    /// <summary>An event with its id and time fixed now, so every later publication of it is the same event.</summary>
    public PendingEvent Prepare(string topic, string type, IMessage data, string? subject, int revisionOf = -1) =>
        new(topic, new SkyEvent(Guid.NewGuid().ToString("N"), service.AppId, type, time.GetUtcNow(), subject, data), revisionOf);

    /// <summary>Three script arguments per event, in the order <see cref="LuaAppend"/> reads them.</summary>
    public static void AppendArguments(List<RedisValue> args, IReadOnlyList<PendingEvent> events)
    {
        foreach (var e in events)
        {
            args.Add(e.Topic);
            args.Add(CloudEventCodec.Encode(e.Event));
            args.Add(e.RevisionOf);
        }
    }

    /// <summary>
    /// Publishes events whose change has committed, with revisions filled from <paramref name="firstRevision"/>, then
    /// deletes their outbox entries. A publish that fails leaves the entries for the sweeper and does not fail the
    /// caller: the change is committed and its events will follow.
    /// </summary>
    public async Task DeliverAsync(IReadOnlyList<PendingEvent> events, long firstRevision, IReadOnlyList<RedisValue> entryIds)
    {
        try
        {
            foreach (var e in events)
            {
                if (e.RevisionOf >= 0) EventRevision.Fill(e.Event.Data, firstRevision + e.RevisionOf);
                await bus.PublishAsync(e.Topic, e.Event, CancellationToken.None);
            }
            if (entryIds.Count > 0) await redis!.GetDatabase().StreamDeleteAsync(StreamKey, [.. entryIds]);
        }
        catch (Exception ex) when (entryIds.Count > 0)
        {
            log.LogWarning(ex, "{Service}: publishing {Count} committed events failed; the outbox sweeper will publish them", service, events.Count);
        }
    }

    // KEYS: outbox, lock. ARGV: grace ms, max, lock token, lock ms. Entries older than the grace, by the server's clock.
    private const string DueScript = """
        if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return {} end
        local t = redis.call('TIME')
        local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
        return redis.call('XRANGE', KEYS[1], '-', cutoff, 'COUNT', ARGV[2])
        """;

    /// <summary>
    /// Publishes up to <paramref name="max"/> entries older than <see cref="Grace"/> and deletes them; returns how many.
    /// One host sweeps at a time (a short lock), so a stuck entry is not published by every host at once.
    /// </summary>
    public async Task<int> SweepAsync(int max, CancellationToken ct)
    {
        if (redis is null) return 0;
        var db = redis.GetDatabase();
        var token = Guid.NewGuid().ToString("N");
        RedisKey lockKey = Key(service.Name).Append(":sweeping");
        var due = (RedisResult[])(await db.ScriptEvaluateAsync(DueScript, [StreamKey, lockKey],
            [(long)Grace.TotalMilliseconds, max, token, 10_000]))!;
        try
        {
            foreach (var entry in due)
            {
                var parts = (RedisResult[])entry!;
                var id = (RedisValue)parts[0];
                var fields = (RedisResult[])parts[1]!;
                string? topic = null;
                byte[]? body = null;
                long revision = 0;
                for (var i = 0; i + 1 < fields.Length; i += 2)
                    switch ((string?)fields[i])
                    {
                        case "t": topic = (string?)fields[i + 1]; break;
                        case "e": body = (byte[]?)fields[i + 1]; break;
                        case "r": revision = (long)fields[i + 1]; break;
                    }
                if (topic is not null && body is not null)
                {
                    var evt = CloudEventCodec.Decode(body);
                    if (revision > 0) EventRevision.Fill(evt.Data, revision);
                    await bus.PublishAsync(topic, evt, ct);
                }
                await db.StreamDeleteAsync(StreamKey, [id]);
            }
        }
        finally
        {
            await db.ScriptEvaluateAsync(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end", [lockKey], [token]);
        }
        return due.Length;
    }
}

/// <summary>
/// Sets the store-assigned revision on an event built before its commit: the message's own <c>revision</c> field, and
/// <c>revision</c> inside a message-typed field where it is still unset (the stored object the event carries; an
/// earlier version it also carries, such as a removed offer, already has its own revision and is left alone).
/// </summary>
public static class EventRevision
{
    public static void Fill(IMessage data, long revision)
    {
        var fields = data.Descriptor.Fields;
        if (data.Descriptor.FindFieldByName("revision") is { FieldType: FieldType.Int64 } top) top.Accessor.SetValue(data, revision);
        foreach (var field in fields.InDeclarationOrder())
        {
            if (field.FieldType != FieldType.Message || field.IsRepeated || field.IsMap) continue;
            if (field.Accessor.GetValue(data) is not IMessage inner) continue;
            if (inner.Descriptor.FindFieldByName("revision") is { FieldType: FieldType.Int64 } nested && (long)nested.Accessor.GetValue(inner) == 0)
                nested.Accessor.SetValue(inner, revision);
        }
    }
}

/// <summary>Runs <see cref="EventOutbox.SweepAsync"/> every second for one service whose store is Redis.</summary>
public sealed class OutboxSweeper(EventOutbox outbox, TimeProvider time, ILogger<OutboxSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!outbox.IsDurable) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    while (await outbox.SweepAsync(256, stoppingToken) == 256) { }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or FormatException)
                {
                    log.LogWarning(ex, "outbox sweep of {Key} failed; retrying", outbox.StreamKey);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }
}
