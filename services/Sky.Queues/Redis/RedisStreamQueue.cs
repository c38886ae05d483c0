using StackExchange.Redis;

namespace Sky.Queues.Redis;

/// <summary>
/// Redis Streams as a queue. One stream holds the messages; each consumer group gets every message once (so a group
/// per subscribing service gives pub/sub fan-out, and several processes in one group share its work); this receiver
/// is one consumer of its group. Delivered-but-unacknowledged entries stay in the group's pending list, so a receiver
/// that died before acknowledging loses nothing: Receive takes them back (XAUTOCLAIM, which counts the delivery) once
/// their visibility timeout has passed. Each message keeps the timeout it was received with, whatever later receivers
/// ask: Receive back-dates the entries it hands out (XCLAIM IDLE) so that they reach one fixed idle time,
/// <see cref="RedisStreamOptions.MaxVisibility"/>, exactly when their own timeout ends, and XAUTOCLAIM takes back what
/// is idle that long. Receives that ask for exactly that timeout (the event bus's) skip the back-dating.
/// The stream is trimmed to about <see cref="RedisStreamOptions.MaxLength"/> entries.
/// SE.Redis cannot block on XREADGROUP (one multiplexed connection), so an idle Receive raises a flag key
/// (<c>STREAM:waiting</c>) and waits on a channel named after the database and stream; Send, right after its XADDs on
/// the same connection, PUBLISHes a wake-up only when the flag is up (and lowers it), so a busy stream costs no PUBLISH
/// per message. Receive also looks again every <see cref="RedisStreamOptions.Poll"/> (entries coming due, a lost wake-up).
/// Not for concurrent Receive calls on one instance: use one instance per receiving loop.
/// </summary>
public sealed class RedisStreamQueue : IMessageQueue
{
    public const string BodyField = "body";
    public const string AttributePrefix = "a:";
    /// <summary>Attribute of a dead-lettered copy: the stream, group and entry id it came from.</summary>
    public const string SourceAttribute = "sky-dead-letter-source";

    // The wake-up that follows a send's XADDs on the same connection. A receiver that raised its flag before this runs is
    // woken; one that raises it after will find the entries when it looks again (it looks after raising the flag), so
    // only the order XADDs-then-this matters, and no script has to do the XADDs themselves: a Lua loop over XADD cost
    // Redis about 12 us an entry against 3-4 us for XADDs sent as plain commands (INFO commandstats, 256 a batch).
    // KEYS[1] the waiting flag, ARGV[1] the channel, ARGV[2] how many entries came (receivers only count wake-ups).
    private const string WakeScript = "if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end";

    private readonly IDatabase _db;
    private readonly string _stream;
    private readonly string _group;
    private readonly string _consumer;
    private readonly RedisStreamOptions _options;
    private readonly RedisChannel _channel;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly IConnectionMultiplexer? _owned;
    private ChannelMessageQueue? _wakeups;
    private bool _groupReady;
    // When Receive last looked for entries to take back: not on every call, a pending entry waits its timeout anyway.
    private long _lastReclaim;
    private bool _released;

    /// <param name="db">The database holding the stream.</param>
    /// <param name="stream">The stream key.</param>
    /// <param name="group">The consumer group this receiver belongs to (created at the first Receive).</param>
    /// <param name="consumer">This receiver's name in the group (unique per process and loop).</param>
    public RedisStreamQueue(IDatabase db, string stream, string group, string consumer, RedisStreamOptions? options = null)
        : this(db, stream, group, consumer, options, null) { }

    private RedisStreamQueue(IDatabase db, string stream, string group, string consumer, RedisStreamOptions? options, IConnectionMultiplexer? owned)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(group);
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        _db = db;
        _stream = stream;
        _group = group;
        _consumer = consumer;
        _options = options ?? new RedisStreamOptions();
        QueueRules.Check(_options.Queue);
        _owned = owned;
        _channel = WakeChannel(db, stream);
    }

    /// <summary>A queue on a connection of its own (StackExchange.Redis <paramref name="configuration"/>), closed on dispose. <see cref="QueueUri"/> opens one from a redis:// URI.</summary>
    public static async Task<RedisStreamQueue> ConnectAsync(string configuration, string stream, string group, string consumer, RedisStreamOptions? options = null)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        return new RedisStreamQueue(redis.GetDatabase(), stream, group, consumer, options, redis);
    }

    public string Address => $"redis://db{_db.Database}?stream={_stream}&group={_group}";

    /// <summary>The stream dead-lettered messages go to: the stream's name + ":dead".</summary>
    public string DeadLetterStream => _stream + ":dead";

    public Task<string> SendAsync(OutgoingMessage message, CancellationToken ct = default) => AddAsync(_db, _stream, message, _options.MaxLength);

    /// <summary>Appends a message to <paramref name="stream"/> and wakes its receivers: sending needs no group or consumer.</summary>
    public static async Task<string> AddAsync(IDatabase db, string stream, OutgoingMessage message, long maxLength) =>
        (await AddManyAsync(db, stream, [message], maxLength))[0];

    /// <summary>Appends <paramref name="messages"/> in order in one round trip; returns their entry ids in the same order.</summary>
    public static async Task<string[]> AddManyAsync(IDatabase db, string stream, IReadOnlyList<OutgoingMessage> messages, long maxLength)
    {
        var append = Append(db, stream, messages, maxLength);
        await append.Completion;
        return [.. append.Ids.Select(id => (string)id.Result!)];
    }

    /// <summary>
    /// Sends <paramref name="messages"/> to <paramref name="stream"/> as one pipelined batch (an XADD each, approximately
    /// trimmed to <paramref name="maxLength"/>, then the wake-up) without waiting for Redis: each message's id task
    /// settles on its own, so a sender of many can answer each caller by its own outcome.
    /// </summary>
    public static StreamAppend Append(IDatabase db, RedisKey stream, IReadOnlyList<OutgoingMessage> messages, long maxLength)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return new StreamAppend([], Task.CompletedTask);
        foreach (var message in messages) ArgumentNullException.ThrowIfNull(message);
        // A batch goes out in one write with nothing of another caller's in between: one round trip for the lot.
        var batch = db.CreateBatch();
        var ids = new Task<RedisValue>[messages.Count];
        for (var i = 0; i < messages.Count; i++)
            ids[i] = batch.StreamAddAsync(stream, Pairs(messages[i].Body, messages[i].Attributes), maxLength: maxLength, useApproximateMaxLength: true);
        var wake = batch.ScriptEvaluateAsync(WakeScript, [WaitingKey(stream)], [WakeChannel(db, stream).ToString(), messages.Count]);
        batch.Execute();
        return new StreamAppend(ids, wake);
    }

    private static RedisKey WaitingKey(RedisKey stream) => stream.Append(":waiting");

    // Pub/sub channels are server-wide, so the database number is part of the name.
    private static RedisChannel WakeChannel(IDatabase db, RedisKey stream) => RedisChannel.Literal($"sky:queue:{db.Database}:{stream}");

    public async Task<IReadOnlyList<IncomingMessage>> ReceiveAsync(int max, TimeSpan visibilityTimeout, TimeSpan wait, CancellationToken ct = default)
    {
        QueueRules.CheckReceive(max, visibilityTimeout, wait);
        if (visibilityTimeout > _options.MaxVisibility)
            throw new ArgumentOutOfRangeException(nameof(visibilityTimeout), visibilityTimeout, $"this queue hides a message for at most {_options.MaxVisibility}");
        await EnsureGroupAsync();
        var time = _options.Queue.Time;
        var deadline = time.GetTimestamp() + (long)(wait.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            var messages = await TakeAsync(max, visibilityTimeout);
            if (messages.Count > 0) return messages;
            var left = TimeSpan.FromSeconds((deadline - time.GetTimestamp()) / (double)time.TimestampFrequency);
            if (left <= TimeSpan.Zero) return [];
            // Raise the flag, look once more (a Send between the last look and the flag did not publish), then wait for
            // a wake-up or the poll: a reclaim can come due with no message sent.
            // The flag and the second look go out together: commands on one connection run in the order sent.
            var nap = left < _options.Poll ? left : _options.Poll;
            var raised = _db.StringSetAsync(WaitingKey(_stream), 1, nap + TimeSpan.FromSeconds(1));
            messages = await TakeAsync(max, visibilityTimeout);
            await raised;
            if (messages.Count > 0) return messages;
            try { await _wake.WaitAsync(nap, ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        }
    }

    public Task AckAsync(IncomingMessage message, CancellationToken ct = default) =>
        _db.StreamAcknowledgeAsync(_stream, _group, message.Receipt);

    /// <summary>Acknowledges several received messages in one XACK.</summary>
    public Task AckAsync(IReadOnlyList<IncomingMessage> messages) =>
        messages.Count == 0 ? Task.CompletedTask : _db.StreamAcknowledgeAsync(_stream, _group, [.. messages.Select(m => (RedisValue)m.Receipt)]);

    public async Task ReleaseAsync(IncomingMessage message, CancellationToken ct = default)
    {
        // Back-date its last delivery so the next Receive's XAUTOCLAIM takes it; JUSTID leaves the delivery count alone.
        await _db.ExecuteAsync("XCLAIM", _stream, _group, _consumer, 0, message.Receipt, "IDLE", (long)TimeSpan.FromDays(3650).TotalMilliseconds, "JUSTID");
        _released = true;
        await _db.PublishAsync(_channel, message.Receipt);
    }

    public async Task DeadLetterAsync(IncomingMessage message, string reason, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        QueueRules.CheckReason(reason);
        var attributes = QueueRules.WithReason(message.Attributes, reason);
        attributes[SourceAttribute] = $"{_stream}/{_group}/{message.Receipt}";
        // The copy and the acknowledgement commit together: never both lost, never both kept.
        var tx = _db.CreateTransaction();
        _ = tx.StreamAddAsync(DeadLetterStream, Pairs(message.Body, attributes), maxLength: _options.MaxLength, useApproximateMaxLength: true);
        _ = tx.StreamAcknowledgeAsync(_stream, _group, message.Receipt);
        if (!await tx.ExecuteAsync()) throw new InvalidOperationException($"dead-lettering {message.Receipt} on {_stream} did not commit");
    }

    /// <summary>The dead-lettered messages, oldest first (for operators and tests).</summary>
    public async Task<IReadOnlyList<IncomingMessage>> ReadDeadLettersAsync(int count = 100)
    {
        var entries = await _db.StreamRangeAsync(DeadLetterStream, "-", "+", count);
        return [.. entries.Select(e => ToMessage(e, 1))];
    }

    private async Task<List<IncomingMessage>> TakeAsync(int max, TimeSpan visibilityTimeout)
    {
        var result = new List<IncomingMessage>(max);
        // Entries another consumer (or this one) received and left unacknowledged past the timeout come first. Looking
        // for them costs a round trip, so at most once per poll interval (and at once after a Release).
        var time = _options.Queue.Time;
        var reclaim = _released || time.GetElapsedTime(_lastReclaim) >= _options.Poll;
        var claimed = reclaim
            ? await _db.StreamAutoClaimAsync(_stream, _group, _consumer, (long)_options.MaxVisibility.TotalMilliseconds, "0-0", max)
            : default;
        if (reclaim) (_lastReclaim, _released) = (time.GetTimestamp(), false);
        if (claimed.ClaimedEntries is { Length: > 0 })
        {
            var counts = await Task.WhenAll(claimed.ClaimedEntries.Select(e =>
                _db.StreamPendingMessagesAsync(_stream, _group, 1, _consumer, e.Id, e.Id)));
            for (var i = 0; i < claimed.ClaimedEntries.Length; i++)
            {
                var entry = claimed.ClaimedEntries[i];
                if (entry.IsNull) continue;
                var deliveries = counts[i].Length > 0 ? counts[i][0].DeliveryCount : 1;
                var message = ToMessage(entry, deliveries);
                if (QueueRules.IsPoison(deliveries, _options.Queue)) await DeadLetterAsync(message, QueueRules.PoisonReason(deliveries, _options.Queue));
                else result.Add(message);
            }
        }
        if (result.Count < max)
        {
            var fresh = await _db.StreamReadGroupAsync(_stream, _group, _consumer, ">", max - result.Count);
            result.AddRange(fresh.Select(e => ToMessage(e, 1)));
        }
        var idle = (long)(_options.MaxVisibility - visibilityTimeout).TotalMilliseconds;
        if (result.Count > 0 && idle > 0)
        {
            // Come due (idle MaxVisibility) when this receive's timeout ends; JUSTID leaves the delivery count alone.
            await _db.ExecuteAsync("XCLAIM", [_stream, _group, _consumer, 0, .. result.Select(m => (object)m.Receipt), "IDLE", idle, "JUSTID"]);
        }
        return result;
    }

    private async Task EnsureGroupAsync()
    {
        if (_groupReady) return;
        if (_wakeups is null)
        {
            _wakeups = await _db.Multiplexer.GetSubscriber().SubscribeAsync(_channel);
            _wakeups.OnMessage(_ => { if (_wake.CurrentCount == 0) try { _wake.Release(); } catch (SemaphoreFullException) { } });
        }
        try
        {
            // A new group starts at the oldest retained entry: messages sent before the first receiver started are kept for it.
            await _db.StreamCreateConsumerGroupAsync(_stream, _group, _options.NewGroupsStartAt, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal)) { }
        _groupReady = true;
    }

    private static NameValueEntry[] Pairs(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> attributes)
    {
        var pairs = new NameValueEntry[1 + attributes.Count];
        pairs[0] = new NameValueEntry(BodyField, body);
        var i = 1;
        foreach (var (key, value) in attributes) pairs[i++] = new NameValueEntry(AttributePrefix + key, value);
        return pairs;
    }

    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();

    private static IncomingMessage ToMessage(StreamEntry entry, int deliveries)
    {
        ReadOnlyMemory<byte> body = default;
        Dictionary<string, string>? attributes = null;
        foreach (var value in entry.Values)
        {
            var name = (string)value.Name!;
            if (name == BodyField) body = (byte[])value.Value!;
            else if (name.StartsWith(AttributePrefix, StringComparison.Ordinal))
                (attributes ??= new Dictionary<string, string>(StringComparer.Ordinal))[name[AttributePrefix.Length..]] = (string)value.Value!;
        }
        return new IncomingMessage(entry.Id!, body, attributes ?? NoAttributes, deliveries, entry.Id!);
    }

    public async ValueTask DisposeAsync()
    {
        // The connection may be gone already (closed by its owner, or Redis away): nothing is left to unsubscribe then.
        if (_wakeups is not null)
            try { await _wakeups.UnsubscribeAsync(); }
            catch (Exception e) when (e is ObjectDisposedException or RedisException) { }
        _wake.Dispose();
        if (_owned is not null) await _owned.DisposeAsync();
    }
}

/// <summary>A batch of XADDs sent by <see cref="RedisStreamQueue.Append"/>: each entry's id, in order, and the whole batch's end.</summary>
public sealed record StreamAppend(Task<RedisValue>[] Ids, Task Wake)
{
    /// <summary>Settles when every XADD and the wake-up have: faulted if any failed.</summary>
    public Task Completion => Ids.Length == 0 ? Wake : Task.WhenAll([.. Ids, Wake]);
}

/// <summary>Settings of <see cref="RedisStreamQueue"/>.</summary>
public sealed record RedisStreamOptions
{
    public QueueOptions Queue { get; init; } = new();

    /// <summary>About how many entries a stream (and its dead-letter stream) keeps; older ones are trimmed.</summary>
    public long MaxLength { get; init; } = 100_000;

    /// <summary>How often an idle Receive looks for entries to reclaim when no wake-up came.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The longest visibility timeout a Receive may ask (12 h, as SQS), and the idle time at which a received entry
    /// comes due again. Every receiver of a group must use the same value.
    /// </summary>
    public TimeSpan MaxVisibility { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Where a group created by the first Receive starts: "0" (everything retained) or "$" (only later messages).</summary>
    public string NewGroupsStartAt { get; init; } = "0";
}
