using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Sky.Placement.V1;
using StackExchange.Redis;

namespace Sky.Placement.Engine;

/// <summary>Part of a job's log as read: the lines (of one task when asked), where to read on, and whether that was the end.</summary>
/// <param name="Next">Cursor after the last entry scanned, matching or not; pass it back as <c>after</c>.</param>
/// <param name="End">Fewer than <c>max</c> entries were left: nothing more has been written yet.</param>
public sealed record JobLogPage(IReadOnlyList<StreamJobLogsResponse> Lines, string Next, bool End);

/// <summary>
/// Jobs' log lines kept apart from the process that runs them, so a restarted placement process (or another one sharing
/// the store) serves them. Each job's log keeps about its newest <c>maxLines</c> lines; a finished job's log expires.
/// </summary>
public interface IJobLogStore
{
    /// <summary>Appends <paramref name="lines"/> to the job's log, in order, in one round trip.</summary>
    Task AppendAsync(string jobId, IReadOnlyList<StreamJobLogsResponse> lines, CancellationToken ct);

    /// <summary>
    /// Scans up to <paramref name="max"/> entries after the cursor <paramref name="after"/> (from the oldest kept when
    /// empty) and returns those of <paramref name="task"/> (every task's when empty).
    /// </summary>
    Task<JobLogPage> ReadAsync(string jobId, string task, string after, int max, CancellationToken ct);

    /// <summary>Drops the job's log <paramref name="lifetime"/> from now (called once the job has ended).</summary>
    Task ExpireAsync(string jobId, TimeSpan lifetime, CancellationToken ct);
}

/// <summary>
/// Logs in this process (no Redis): cursors are line sequence numbers. Trimmed in steps of a tenth of the bound, as
/// Redis trims with <c>MAXLEN ~</c>, so a chatty job does not copy its whole log on every append.
/// </summary>
public sealed class MemoryJobLogStore(TimeProvider time, int maxLines = MemoryJobLogStore.DefaultMaxLines) : IJobLogStore
{
    public const int DefaultMaxLines = 100_000;

    private sealed class Log
    {
        public readonly List<StreamJobLogsResponse> Lines = [];
        public long First;   // sequence number of Lines[0]
        public DateTimeOffset? ExpiresAt;
    }

    private readonly Dictionary<string, Log> _logs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task AppendAsync(string jobId, IReadOnlyList<StreamJobLogsResponse> lines, CancellationToken ct)
    {
        Append(jobId, lines);
        return Task.CompletedTask;
    }

    /// <summary><see cref="AppendAsync"/> for a caller that must not await (the memory job store, under its lock).</summary>
    internal void Append(string jobId, IReadOnlyList<StreamJobLogsResponse> lines)
    {
        lock (_gate)
        {
            if (Live(jobId) is not { } log) _logs[jobId] = log = new Log();
            foreach (var line in lines) log.Lines.Add(line.Clone());
            var over = log.Lines.Count - maxLines;
            if (over > 0 && over >= Math.Max(1, maxLines / 10))
            {
                log.Lines.RemoveRange(0, over);
                log.First += over;
            }
        }
    }

    public Task<JobLogPage> ReadAsync(string jobId, string task, string after, int max, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var from = after.Length == 0 ? 0 : long.Parse(after, NumberStyles.None, CultureInfo.InvariantCulture) + 1;
        lock (_gate)
        {
            if (Live(jobId) is not { } log) return Task.FromResult(new JobLogPage([], after, true));
            var start = (int)Math.Max(0, from - log.First);
            var count = Math.Max(0, Math.Min(max, log.Lines.Count - start));
            var lines = log.Lines.Skip(start).Take(count).Where(l => task.Length == 0 || l.Task == task).Select(l => l.Clone()).ToList();
            var next = count == 0 ? after : (log.First + start + count - 1).ToString(CultureInfo.InvariantCulture);
            return Task.FromResult(new JobLogPage(lines, next, count < max));
        }
    }

    public Task ExpireAsync(string jobId, TimeSpan lifetime, CancellationToken ct)
    {
        Expire(jobId, lifetime);
        return Task.CompletedTask;
    }

    internal void Expire(string jobId, TimeSpan lifetime)
    {
        lock (_gate)
        {
            if (Live(jobId) is { } log) log.ExpiresAt = time.GetUtcNow() + lifetime;
            // Finished jobs are few next to their lines: sweeping them all here bounds what expired logs hold.
            foreach (var id in _logs.Where(l => l.Value.ExpiresAt <= time.GetUtcNow()).Select(l => l.Key).ToList()) _logs.Remove(id);
        }
    }

    private Log? Live(string jobId)
    {
        if (!_logs.TryGetValue(jobId, out var log)) return null;
        if (log.ExpiresAt is not { } at || at > time.GetUtcNow()) return log;
        _logs.Remove(jobId);
        return null;
    }
}

/// <summary>
/// Logs in Redis: a stream per job (<c>sky:placement:logs:&lt;job&gt;</c>), one entry per line (field <c>l</c>, the
/// line as protobuf), trimmed with <c>MAXLEN ~</c>; cursors are entry ids. A batch is one script call, so it costs one
/// round trip and lands whole.
/// </summary>
public sealed class RedisJobLogStore(IConnectionMultiplexer redis, int maxLines = MemoryJobLogStore.DefaultMaxLines) : IJobLogStore
{
    public static RedisKey Key(string jobId) => "sky:placement:logs:" + jobId;

    // KEYS: stream. ARGV: max length, then one line per argument.
    private const string AppendScript = """
        for i = 2, #ARGV do
          redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'l', ARGV[i])
        end
        return #ARGV - 1
        """;

    public async Task AppendAsync(string jobId, IReadOnlyList<StreamJobLogsResponse> lines, CancellationToken ct)
    {
        if (lines.Count == 0) return;
        var args = new RedisValue[lines.Count + 1];
        args[0] = maxLines;
        for (var i = 0; i < lines.Count; i++) args[i + 1] = lines[i].ToByteArray();
        await redis.GetDatabase().ScriptEvaluateAsync(AppendScript, [Key(jobId)], args);
    }

    public async Task<JobLogPage> ReadAsync(string jobId, string task, string after, int max, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        // "(id" starts after the entry: XRANGE's exclusive bound.
        var entries = await redis.GetDatabase().StreamRangeAsync(Key(jobId), after.Length == 0 ? "-" : "(" + after, "+", max);
        var lines = new List<StreamJobLogsResponse>(entries.Length);
        foreach (var entry in entries)
        {
            var bytes = entry["l"];
            if (bytes.IsNull) continue;
            var line = StreamJobLogsResponse.Parser.ParseFrom((byte[])bytes!);
            if (task.Length == 0 || line.Task == task) lines.Add(line);
        }
        var next = entries.Length == 0 ? after : (string)entries[^1].Id!;
        return new JobLogPage(lines, next, entries.Length < max);
    }

    public Task ExpireAsync(string jobId, TimeSpan lifetime, CancellationToken ct) =>
        redis.GetDatabase().KeyExpireAsync(Key(jobId), lifetime);
}

/// <summary>
/// One job's lines on their way to its <see cref="IJobLogStore"/>. <see cref="Add"/> only queues (the runner calls it
/// under the job's lock, in order); a loop writes whatever has queued while the previous write was out, so a chatty
/// task costs a round trip per batch, not per line. A failed write is retried, never dropped (only a closed store ends
/// it). <see cref="FlushAsync"/> returns once every line added before it is stored.
/// </summary>
public sealed class JobLogWriter
{
    /// <summary>Lines per write at most.</summary>
    public const int MaxBatch = 512;

    private readonly IJobLogStore _store;
    private readonly string _jobId;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public JobLogWriter(IJobLogStore store, string jobId, TimeProvider time, ILogger log)
    {
        (_store, _jobId, _time, _log) = (store, jobId, time, log);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a line; false once the writer was completed.</summary>
    public bool Add(StreamJobLogsResponse line) => _queue.Writer.TryWrite(line);

    /// <summary>Completes when every line added before this call is in the store.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(done)) return _loop;   // completed: the loop ends after writing everything
        return done.Task;
    }

    /// <summary>Writes what is queued and stops: the job has ended.</summary>
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<StreamJobLogsResponse>(MaxBatch);
        var flushed = new List<TaskCompletionSource>();
        var closed = false;
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                if (item is StreamJobLogsResponse line) batch.Add(line);
                else flushed.Add((TaskCompletionSource)item);
            }
            if (batch.Count > 0 && !closed) closed = !await WriteAsync(batch);
            batch.Clear();
            foreach (var done in flushed) done.TrySetResult();
            flushed.Clear();
        }
    }

    /// <summary>Writes the batch, retrying with a capped back-off until it lands; false when the store is closed.</summary>
    private async Task<bool> WriteAsync(List<StreamJobLogsResponse> batch)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.AppendAsync(_jobId, batch, CancellationToken.None);
                return true;
            }
            catch (ObjectDisposedException)
            {
                // The host shut down under a running job: nothing can store its lines any more.
                _log.LogWarning("job {Job}: the log store closed; {Count} lines and any after them are not stored", _jobId, batch.Count);
                return false;
            }
            catch (Exception e)
            {
                if (attempt == 1 || attempt % 10 == 0)
                    _log.LogWarning(e, "job {Job}: storing {Count} log lines failed (attempt {Attempt}); retrying", _jobId, batch.Count, attempt);
                await Task.Delay(backoff, _time);
                backoff = TimeSpan.FromMilliseconds(Math.Min(5000, backoff.TotalMilliseconds * 2));
            }
        }
    }
}
