using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Sky.Queues;
using Sky.Queues.Redis;
using StackExchange.Redis;

namespace Sky.Hosting.Events;

/// <summary>
/// Events over Redis Streams, no sidecar needed (<c>--events redis://…</c>): a stream per topic
/// (<c>sky:events:TOPIC</c>, trimmed to about <see cref="RedisEventBusOptions.MaxLength"/> entries), a consumer group per
/// subscribing service, so every service gets every event once and the processes of one service share them. An event
/// is acknowledged after its handler succeeds; one left unacknowledged (its process died) is taken over by another
/// consumer of the group after <see cref="RedisEventBusOptions.VisibilityTimeout"/>. A handler that keeps failing is
/// retried until the event has had <see cref="RedisEventBusOptions.MaxAttempts"/> attempts (counting deliveries to
/// consumers that died), then dead-lettered to <c>sky:events:TOPIC:dead</c> with the reason; an entry that is not a
/// sky CloudEvent is dead-lettered at once. Order holds per consumer: a failing event is retried before the next one.
/// </summary>
public sealed class RedisStreamsEventBus(
    IConnectionMultiplexer redis, IProcessedEvents processed, TimeProvider time, ILogger<RedisStreamsEventBus> log,
    RedisEventBusOptions? options = null, string source = "sky-mesh") : IEventBus
{
    private readonly RedisEventBusOptions _options = options ?? new RedisEventBusOptions();
    private readonly IProcessedEvents _processed = processed;
    private readonly TimeProvider _time = time;
    private readonly ILogger _log = log;

    /// <summary>The stream of a topic.</summary>
    public static string StreamOf(string topic) => "sky:events:" + topic;

    public Task PublishAsync(string topic, string type, IMessage data, string? subject = null, CancellationToken ct = default) =>
        PublishAsync(topic, new SkyEvent(Guid.NewGuid().ToString("N"), source, type, _time.GetUtcNow(), subject, data), ct);

    /// <summary>
    /// Publishes an event whose id and time are already fixed (an outbox entry published again keeps its id). Returns
    /// once the event is in its stream. Events published while an earlier send is in flight go together in the next one
    /// (group commit: one round trip and one wake-up for the lot), so a busy publisher pays per batch, not per event,
    /// and a lone one waits for no timer. The event is encoded here, on the caller, so many callers encode in parallel.
    /// An entry is the CloudEvent alone: it carries its own id and type, and receivers read nothing else.
    /// </summary>
    public Task PublishAsync(string topic, SkyEvent evt, CancellationToken ct = default)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _outgoing.Writer.TryWrite(new Outgoing(topic, new OutgoingMessage(CloudEventCodec.Encode(evt), NoAttributes), sent));
        if (Interlocked.CompareExchange(ref _senderStarted, 1, 0) == 0) _ = Task.Run(SendAsync, CancellationToken.None);
        return ct.CanBeCanceled ? sent.Task.WaitAsync(ct) : sent.Task;
    }

    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();
    private const int MaxBatch = 512;
    private sealed record Outgoing(string Topic, OutgoingMessage Message, TaskCompletionSource Sent);
    private readonly System.Threading.Channels.Channel<Outgoing> _outgoing =
        System.Threading.Channels.Channel.CreateUnbounded<Outgoing>(new() { SingleReader = true });
    private int _senderStarted;

    // The one sender: takes whatever is queued (up to MaxBatch), sends it as plain XADDs pipelined per stream in order
    // (RedisStreamQueue.Append), and answers each publisher by its own XADD once the batch is back.
    private async Task SendAsync()
    {
        var batch = new List<Outgoing>(MaxBatch);
        var sends = new List<(List<Outgoing> Items, StreamAppend Append)>();
        while (await _outgoing.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _outgoing.Reader.TryRead(out var next)) batch.Add(next);
            var db = redis.GetDatabase();
            foreach (var items in ByStream(batch))
            {
                try
                {
                    sends.Add((items, RedisStreamQueue.Append(db, StreamOf(items[0].Topic), [.. items.Select(o => o.Message)], _options.MaxLength)));
                }
                catch (Exception e)
                {
                    foreach (var item in items) item.Sent.TrySetException(e);
                }
            }
            foreach (var (items, append) in sends)
            {
                // Whatever failed, each publisher learns it from its own XADD below; a failed wake-up alone costs
                // receivers their next poll, not the event.
                try { await append.Completion; }
                catch (Exception) { }
                if (append.Wake.Exception is { } wakeFailed)
                    _log.LogWarning(wakeFailed.InnerException, "events: the wake-up after {Count} events on {Topic} failed", items.Count, items[0].Topic);
                for (var i = 0; i < items.Count; i++)
                {
                    var id = append.Ids[i];
                    if (id.IsCompletedSuccessfully) items[i].Sent.TrySetResult();
                    else items[i].Sent.TrySetException(id.Exception?.InnerException ?? new TaskCanceledException(id));
                }
            }
            sends.Clear();
            batch.Clear();
        }
    }

    // A batch split by topic, each part in publishing order (almost always one part: services publish to their own topic).
    private static IEnumerable<List<Outgoing>> ByStream(List<Outgoing> batch)
    {
        if (batch.TrueForAll(o => o.Topic == batch[0].Topic)) return [batch];
        return batch.GroupBy(o => o.Topic, StringComparer.Ordinal).Select(g => g.ToList());
    }

    public IAsyncDisposable Subscribe(string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler)
    {
        var consumer = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var queue = new RedisStreamQueue(redis.GetDatabase(), StreamOf(topic), subscriber, consumer, new RedisStreamOptions
        {
            MaxLength = _options.MaxLength,
            // Every receive asks for this timeout, so entries come due by their idle time alone (no back-dating).
            MaxVisibility = _options.VisibilityTimeout,
            Queue = new QueueOptions { MaxDeliveries = _options.MaxAttempts, Time = _time },
        });
        return new Subscription(this, queue, topic, subscriber, handler);
    }

    private sealed class Subscription : IAsyncDisposable
    {
        private readonly RedisStreamsEventBus _bus;
        private readonly RedisStreamQueue _queue;
        private readonly string _topic;
        private readonly string _subscriber;
        private readonly Func<SkyEvent, CancellationToken, Task> _handler;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Subscription(RedisStreamsEventBus bus, RedisStreamQueue queue, string topic, string subscriber, Func<SkyEvent, CancellationToken, Task> handler)
        {
            (_bus, _queue, _topic, _subscriber, _handler) = (bus, queue, topic, subscriber, handler);
            _loop = Task.Run(RunAsync);
        }

        private RedisEventBusOptions Options => _bus._options;

        // The last batch's marks and XACK, sent and not yet awaited: they go out with the next read, in its round trip.
        private Task _settling = Task.CompletedTask;

        private async Task RunAsync()
        {
            var ct = _stop.Token;
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var batch = await _queue.ReceiveAsync(Options.BatchSize, Options.VisibilityTimeout, TimeSpan.FromSeconds(1), ct);
                    // The last batch's marks are in before this one asks which ids were handled (an id repeated across the two
                    // is skipped), and a failed settle surfaces here, like a failed read.
                    await SettledAsync();
                    await DeliverAsync(batch, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Redis away: keep the subscription and try again (unacknowledged events wait in the group).
                    _bus._log.LogWarning(e, "events: {Subscriber} cannot read {Topic}; retrying", _subscriber, _topic);
                    try { await Task.Delay(Options.RetryDelay, _bus._time, ct); } catch (OperationCanceledException) { }
                }
            }
            try { await SettledAsync(); }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Unacknowledged, those events are delivered again and, if marked, skipped.
                _bus._log.LogWarning(e, "events: {Subscriber} could not settle its last events of {Topic}", _subscriber, _topic);
            }
        }

        private Task SettledAsync()
        {
            var settling = _settling;
            _settling = Task.CompletedTask;
            return settling;
        }

        // A batch costs two round trips whatever its size: one read of which ids were handled already, then, after the
        // handlers ran in order, one write of the new ids and one XACK, which ride with the next batch's read. A crash
        // before those repeats the batch's handlers once (at least once); the ids written first keep a redelivery from
        // repeating them again.
        private async Task DeliverAsync(IReadOnlyList<IncomingMessage> batch, CancellationToken ct)
        {
            if (batch.Count == 0) return;
            var events = new List<(IncomingMessage Message, SkyEvent Event)>(batch.Count);
            foreach (var message in batch)
            {
                try
                {
                    events.Add((message, CloudEventCodec.Decode(message.Body)));
                }
                catch (FormatException e)
                {
                    _bus._log.LogError("events: {Subscriber} dead-letters entry {Id} of {Topic}: {Reason}", _subscriber, message.MessageId, _topic, e.Message);
                    await _queue.DeadLetterAsync(message, "undecodable: " + e.Message, CancellationToken.None);
                }
            }
            var seen = await _bus._processed.SeenAsync(_subscriber, [.. events.Select(e => e.Event.Id)], ct);
            var handled = new List<string>(events.Count);
            var done = new List<IncomingMessage>(events.Count);
            // Ids handled in this batch: a second entry with one of them (an event published twice in quick succession)
            // is not marked yet when the batch asks, so it is skipped here.
            var handledHere = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < events.Count; i++)
            {
                var (message, evt) = events[i];
                if (!seen[i] && !handledHere.Contains(evt.Id))
                {
                    if (!await HandleAsync(message, evt, ct))
                    {
                        // Dead-lettered: settle what came before it first, so a crash now repeats as little as possible.
                        await SettleAsync(handled, done);
                        continue;
                    }
                    handled.Add(evt.Id);
                    handledHere.Add(evt.Id);
                }
                done.Add(message);
            }
            _settling = SettleAsync(handled, done);
        }

        private async Task SettleAsync(List<string> handled, List<IncomingMessage> done)
        {
            // Both in one round trip (pipelined on the connection); either order is safe: an ack without its mark is never
            // redelivered, a mark without its ack is redelivered and skipped.
            var marked = _bus._processed.MarkAsync(_subscriber, handled.ToArray(), CancellationToken.None);
            var acked = _queue.AckAsync(done.ToArray());
            handled.Clear();
            done.Clear();
            await Task.WhenAll(marked, acked);
        }

        // Runs the handler until it succeeds (true) or the event has had its attempts and is dead-lettered (false).
        private async Task<bool> HandleAsync(IncomingMessage message, SkyEvent evt, CancellationToken ct)
        {
            // Deliveries to consumers that died count as attempts already made.
            for (var attempt = message.DeliveryCount; ; attempt++)
            {
                try
                {
                    await _handler(evt, ct);
                    return true;
                }
                catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
                {
                    if (attempt >= Options.MaxAttempts)
                    {
                        _bus._log.LogError(e, "events: {Subscriber} failed {Type} {Id} {Attempts} times; dead-lettered", _subscriber, evt.Type, evt.Id, attempt);
                        await _queue.DeadLetterAsync(message, $"handler failed {attempt} times: {e.GetType().Name}: {e.Message}", CancellationToken.None);
                        return false;
                    }
                    await Task.Delay(Options.Backoff(attempt), _bus._time, ct);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try { await _loop; } catch (OperationCanceledException) { }
            await _queue.DisposeAsync();
            _stop.Dispose();
        }
    }
}

/// <summary>Settings of <see cref="RedisStreamsEventBus"/>.</summary>
public sealed record RedisEventBusOptions
{
    /// <summary>About how many events a topic's stream keeps.</summary>
    public long MaxLength { get; init; } = 100_000;

    /// <summary>How long a delivered, unacknowledged event stays with its consumer before another takes it.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Handler attempts (deliveries included) before an event is dead-lettered.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Events read per round trip.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Wait before reading again after Redis failed.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait before attempt n + 1 of a failing handler: 10 ms, 40 ms, 160 ms... capped at 2 s.</summary>
    public Func<int, TimeSpan> Backoff { get; init; } = n => TimeSpan.FromMilliseconds(Math.Min(2000, 10 * Math.Pow(4, n - 1)));
}
