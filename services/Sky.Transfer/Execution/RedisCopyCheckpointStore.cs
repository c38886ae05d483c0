using System.Globalization;
using StackExchange.Redis;

namespace Sky.Transfer.Execution;

/// <summary>
/// Checkpoints in Redis, under <c>sky:transfer:checkpoint:&lt;id&gt;</c>: that hash holds the header and the resume and
/// re-sent counters; <c>…:manifest</c> the listing (a list, one JSON entry per object, by index); <c>…:finished</c>,
/// <c>…:uploads</c> and <c>…:inflight</c> hashes by object index; <c>…:parts:&lt;index&gt;</c> an open upload's parts by
/// number (a JSON part, or <c>~bytes</c> while it is in flight).
/// <para>A batch of updates is one Lua script call that first checks the header is still there (so a run cannot write
/// back a checkpoint an abort deleted): one round trip, all or nothing. The header is written after the
/// manifest, so a checkpoint whose listing was cut short is no checkpoint.</para>
/// </summary>
public sealed class RedisCopyCheckpointStore(IConnectionMultiplexer redis) : ICopyCheckpointStore
{
    public const string KeyPrefix = "sky:transfer:checkpoint:";
    private const string HeaderField = "header";
    private const string ResumesField = "resumes";
    private const string ResentField = "resent";
    private const char InFlightMark = '~';
    private const int ManifestBatch = 5000;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>The checkpoint's main key; the others add a suffix to it.</summary>
    public static RedisKey Key(string transferId) => KeyPrefix + transferId;
    private static RedisKey Manifest(string id) => KeyPrefix + id + ":manifest";
    private static RedisKey Finished(string id) => KeyPrefix + id + ":finished";
    private static RedisKey Uploads(string id) => KeyPrefix + id + ":uploads";
    private static RedisKey InFlight(string id) => KeyPrefix + id + ":inflight";
    private static RedisKey Parts(string id, int index) => KeyPrefix + id + ":parts:" + index.ToString(CultureInfo.InvariantCulture);

    public async Task<CopyCheckpoint?> LoadAsync(string transferId, CancellationToken ct)
    {
        var db = Db;
        var head = (await db.HashGetAllAsync(Key(transferId))).ToDictionary(e => (string)e.Name!, e => e.Value);
        if (!head.TryGetValue(HeaderField, out var header)) return null;
        var length = await db.ListLengthAsync(Manifest(transferId));
        var pages = new List<Task<RedisValue[]>>();
        for (long start = 0; start < length; start += ManifestBatch)
            pages.Add(db.ListRangeAsync(Manifest(transferId), start, Math.Min(length, start + ManifestBatch) - 1));
        var finished = db.HashGetAllAsync(Finished(transferId));
        var uploads = db.HashGetAllAsync(Uploads(transferId));
        var inFlight = db.HashGetAllAsync(InFlight(transferId));
        var manifest = new List<ManifestEntry>((int)length);
        foreach (var page in pages) manifest.AddRange((await page).Select(v => CheckpointJson.ReadEntry(v!)));

        var open = new Dictionary<int, OpenUpload>();
        var uploadEntries = await uploads;
        var partsOf = uploadEntries.Select(e => db.HashGetAllAsync(Parts(transferId, Index(e.Name)))).ToList();
        for (var i = 0; i < uploadEntries.Length; i++)
        {
            var parts = new Dictionary<int, CopiedPart>();
            var marks = new Dictionary<int, long>();
            foreach (var part in await partsOf[i])
            {
                var number = Index(part.Name);
                var value = (string)part.Value!;
                if (value[0] == InFlightMark) marks[number] = long.Parse(value.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
                else parts[number] = CheckpointJson.ReadPart(value);
            }
            open[Index(uploadEntries[i].Name)] = new OpenUpload(CheckpointJson.ReadUpload(uploadEntries[i].Value!), parts, marks);
        }
        return new CopyCheckpoint(CheckpointJson.ReadHeader(header!), manifest)
        {
            Finished = (await finished).ToDictionary(e => Index(e.Name), e => CheckpointJson.ReadFinished(Index(e.Name), e.Value!)),
            Uploads = open,
            ObjectsInFlight = (await inFlight).ToDictionary(e => Index(e.Name), e => (long)e.Value),
            Resumes = head.TryGetValue(ResumesField, out var resumes) ? (int)resumes : 0,
            BytesResent = head.TryGetValue(ResentField, out var resent) ? (long)resent : 0,
        };
    }

    public async Task CreateAsync(CheckpointHeader header, IReadOnlyList<ManifestEntry> manifest, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(header);
        var id = header.TransferId;
        await DeleteAsync(id, ct);
        var db = Db;
        // Pipelined in order on the one connection; the header last makes the checkpoint exist.
        var pushes = new List<Task>();
        for (var start = 0; start < manifest.Count; start += ManifestBatch)
        {
            var batch = new RedisValue[Math.Min(ManifestBatch, manifest.Count - start)];
            for (var i = 0; i < batch.Length; i++) batch[i] = CheckpointJson.Write(manifest[start + i]);
            pushes.Add(db.ListRightPushAsync(Manifest(id), batch));
        }
        await Task.WhenAll(pushes);
        await db.HashSetAsync(Key(id), [new(HeaderField, CheckpointJson.Write(header)), new(ResumesField, 0), new(ResentField, 0)]);
    }

    // KEYS: the checkpoint's keys a batch touches, the main hash first. ARGV: operations, each an opcode, a key index
    // (1-based) and its arguments: h field value (HSET), d field (HDEL), x (DEL), i field amount (HINCRBY).
    private const string WriteScript = """
        if redis.call('HEXISTS', KEYS[1], 'header') == 0 then return 0 end
        local i = 1
        while i <= #ARGV do
          local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
          if op == 'h' then redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3]); i = i + 4
          elseif op == 'd' then redis.call('HDEL', key, ARGV[i + 2]); i = i + 3
          elseif op == 'x' then redis.call('DEL', key); i = i + 2
          elseif op == 'i' then redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3]); i = i + 4
          else return redis.error_reply('checkpoint: unknown operation ' .. op) end
        end
        return 1
        """;

    /// <summary>One script call: one round trip, applied whole, and only while the checkpoint exists.</summary>
    public async Task WriteAsync(string transferId, IReadOnlyList<CheckpointUpdate> updates, CancellationToken ct)
    {
        if (updates.Count == 0) return;
        var batch = new ScriptBatch(transferId);
        foreach (var update in updates) batch.Add(update);
        var applied = (long)await Db.ScriptEvaluateAsync(WriteScript, [.. batch.Keys], [.. batch.Arguments]);
        if (applied == 0) throw new CheckpointMissingException(transferId);
    }

    public async Task DeleteAsync(string transferId, CancellationToken ct)
    {
        var db = Db;
        var open = await db.HashKeysAsync(Uploads(transferId));
        RedisKey[] keys = [Key(transferId), Manifest(transferId), Finished(transferId), Uploads(transferId), InFlight(transferId),
            .. open.Select(index => Parts(transferId, Index(index)))];
        await db.KeyDeleteAsync(keys);
    }

    /// <summary>A batch of updates as the write script's keys and operations.</summary>
    private sealed class ScriptBatch
    {
        private readonly string _id;
        private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);

        public ScriptBatch(string id)
        {
            _id = id;
            Slot(Key(id));
        }

        public List<RedisKey> Keys { get; } = [];
        public List<RedisValue> Arguments { get; } = [];

        public void Add(CheckpointUpdate update)
        {
            var index = update.Index;
            switch (update)
            {
                case CheckpointUpdate.UploadStarted u: Set(Uploads(_id), index, CheckpointJson.Write(u.Upload)); break;
                case CheckpointUpdate.PartInFlight p: Set(Parts(_id, index), p.PartNumber, InFlightMark + p.Bytes.ToString(CultureInfo.InvariantCulture)); break;
                case CheckpointUpdate.PartCopied p: Set(Parts(_id, index), p.Part.Part.PartNumber, CheckpointJson.Write(p.Part)); break;
                case CheckpointUpdate.ObjectInFlight o: Set(InFlight(_id), index, o.Bytes); break;
                case CheckpointUpdate.InFlightCleared { PartNumber: 0 }: Delete(InFlight(_id), index); break;
                case CheckpointUpdate.InFlightCleared c: Delete(Parts(_id, index), c.PartNumber); break;
                case CheckpointUpdate.ObjectFinished f:
                    Set(Finished(_id), index, CheckpointJson.Write(f.Result));
                    Delete(Uploads(_id), index);
                    Arguments.AddRange(["x", Slot(Parts(_id, index))]);
                    Delete(InFlight(_id), index);
                    break;
                case CheckpointUpdate.Resent r: Increment(ResentField, r.Bytes); break;
                case CheckpointUpdate.Resumed r:
                    Increment(ResumesField, 1);
                    Increment(ResentField, r.BytesInFlight);
                    break;
                default: throw new ArgumentException($"unknown checkpoint update {update.GetType().Name}", nameof(update));
            }
        }

        private void Set(RedisKey key, RedisValue field, RedisValue value) => Arguments.AddRange(["h", Slot(key), field, value]);
        private void Delete(RedisKey key, RedisValue field) => Arguments.AddRange(["d", Slot(key), field]);
        private void Increment(string field, long amount) => Arguments.AddRange(["i", 1, field, amount]);

        private int Slot(RedisKey key)
        {
            var name = (string)key!;
            if (!_slots.TryGetValue(name, out var slot))
            {
                Keys.Add(key);
                _slots[name] = slot = Keys.Count;
            }
            return slot;
        }
    }

    private static int Index(RedisValue value) => (int)value;
}
