using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// One run of a copy, from a checkpoint (new or resumed) to the end or a cancellation. A dispatcher walks the manifest
/// in order and starts each unfinished object: a server-side copy, a single put (objects up to one chunk), or a
/// multipart upload whose chunks it hands out one by one; slots (<see cref="CopyOptions.MaxObjectsInFlight"/>,
/// <see cref="CopyOptions.MaxChunksInFlight"/>) and the buffer pool's cap are what it waits on. An object that fails
/// is recorded and the copy goes on; anything else (the checkpoint store failing, a bug) stops the run and is thrown.
/// Server-side copies of objects up to a chunk go in groups (<see cref="ServerSideGroup"/>): a group takes a slot per
/// object and runs its copies together, but marks them in flight and finished in one checkpoint write each and costs
/// one task, so 10,000 small files pay per group what they paid per file (on a local disk that was most of the time).
/// </summary>
internal sealed partial class CopyRun : IDisposable
{
    private readonly CopyRequest _request;
    private readonly CopyOptions _options;
    private readonly CopyCheckpoint _checkpoint;
    private readonly CheckpointWriter _writer;
    private readonly StoreRetry _retry;
    private readonly ILogger _log;
    private readonly Action<CopyProgress> _onProgress;
    private readonly ChunkBufferPool _buffers;
    private readonly SemaphoreSlim _objectSlots;
    private readonly SemaphoreSlim _chunkSlots;
    private readonly ChecksumAlgorithm _chunkAlgorithm;
    private readonly bool _serverSide;
    private readonly ConcurrentDictionary<int, FinishedObject> _finished = new();
    private readonly Lock _progressGate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly long _bytesTotal;
    private long _bytesDone;
    private long _objectsDone;
    private long _objectsFailed;
    private long _bytesResent;
    private readonly List<Task> _running = [];
    private Exception? _fatal;

    public CopyRun(CopyRequest request, CopyOptions options, CopyCheckpoint checkpoint, CheckpointWriter writer, StoreRetry retry,
        ILogger log, Action<CopyProgress> onProgress)
    {
        _request = request;
        _options = options;
        _checkpoint = checkpoint;
        _writer = writer;
        _retry = retry;
        _log = log;
        _onProgress = onProgress;
        _buffers = new ChunkBufferPool(options.MaxBufferBytes);
        _objectSlots = new SemaphoreSlim(options.MaxObjectsInFlight);
        _chunkSlots = new SemaphoreSlim(options.MaxChunksInFlight);
        _chunkAlgorithm = ChunkAlgorithm(request.Destination.Capabilities);
        _serverSide = options.ServerSideCopy && request.Destination.CanCopyFrom(request.Source);
        _bytesTotal = checkpoint.Manifest.Sum(e => e.Size);
        foreach (var finished in checkpoint.Finished.Values)
        {
            if (finished.Failed) _objectsFailed++;
            else
            {
                _objectsDone++;
                _bytesDone += checkpoint.Manifest[finished.Index].Size;
            }
        }
        _bytesDone += checkpoint.Uploads.Values.Sum(u => u.Parts.Values.Sum(p => p.Part.Size));
        _bytesResent = checkpoint.BytesResent;
    }

    private IReadOnlyList<ManifestEntry> Manifest => _checkpoint.Manifest;
    private IObjectStore Source => _request.Source;
    private IObjectStore Destination => _request.Destination;
    private CancellationToken Stopping => _stop.Token;

    /// <summary>The most chunk-buffer bytes allocated at once (lent and kept): the figure the memory cap bounds.</summary>
    public long PeakBufferBytes => _buffers.PeakAllocated;

    /// <summary>Copies every unfinished object; throws what stopped the run (a cancellation, the checkpoint store failing).</summary>
    public async Task<CopyOutcome> ExecuteAsync(CancellationToken ct)
    {
        using var link = ct.Register(_stop.Cancel);
        Report();
        try
        {
            var group = new List<int>(ServerSideGroup);
            for (var i = 0; i < Manifest.Count; i++)
            {
                if (_checkpoint.Finished.ContainsKey(i)) continue;
                // An upload an earlier run opened is finished as one, whatever this run would choose.
                if (!_serverSide || _checkpoint.Uploads.ContainsKey(i))
                {
                    await StartAsync(i);
                    continue;
                }
                // A big object is a group of its own: its copy takes long, and the others need not wait for it.
                if (Manifest[i].Size > _checkpoint.Header.ChunkSize)
                {
                    await StartServerSideAsync([i]);
                    continue;
                }
                group.Add(i);
                if (group.Count < ServerSideGroup) continue;
                await StartServerSideAsync([.. group]);
                group.Clear();
            }
            if (group.Count > 0) await StartServerSideAsync([.. group]);
        }
        catch (OperationCanceledException) when (Stopping.IsCancellationRequested) { }
        catch (Exception e) { Fatal(e); }
        // Every task started ends (they watch the same token), so nothing writes to the checkpoint after this returns.
        await Task.WhenAll(Running());
        if (_fatal is not null) ExceptionDispatchInfo.Throw(_fatal);
        ct.ThrowIfCancellationRequested();
        return Outcome();
    }

    /// <summary>The outcome of a checkpoint with nothing left to copy.</summary>
    public static CopyOutcome OutcomeOf(CopyCheckpoint checkpoint) =>
        Outcome(checkpoint.Manifest, checkpoint.Finished.Values, new CopyProgress(
            checkpoint.Finished.Values.Where(f => !f.Failed).Sum(f => checkpoint.Manifest[f.Index].Size), checkpoint.Manifest.Sum(e => e.Size),
            checkpoint.Finished.Values.Count(f => !f.Failed), checkpoint.Manifest.Count, checkpoint.Finished.Values.Count(f => f.Failed),
            checkpoint.BytesResent, Listed: true), checkpoint.Resumes);

    /// <summary>Starts object <paramref name="index"/> once it has its slot and buffer.</summary>
    private async Task StartAsync(int index)
    {
        var entry = Manifest[index];
        var open = _checkpoint.Uploads.GetValueOrDefault(index);
        var partSize = open?.Upload.PartSize ?? PartSizeFor(entry.Size);
        if (open is null && entry.Size <= partSize)
        {
            if (TooBigForBuffers(index, entry.Size)) return;
            await _objectSlots.WaitAsync(Stopping);
            byte[] buffer;
            try { buffer = await _buffers.RentAsync(entry.Size, Stopping); }
            catch
            {
                _objectSlots.Release();
                throw;
            }
            _ = Spawn(() => PutAsync(index, entry, buffer), () =>
            {
                _buffers.Return(buffer);
                _objectSlots.Release();
            });
            return;
        }
        await StartMultipartAsync(index, entry, open, partSize);
    }

    /// <summary>An object up to one chunk: read, checked against the source's checksums, sent in one put with its checksum.</summary>
    private async Task PutAsync(int index, ManifestEntry entry, byte[] buffer)
    {
        var data = buffer.AsMemory(0, (int)entry.Size);
        try
        {
            var checks = new List<string> { ObjectChecks.Chunks(_chunkAlgorithm) };
            var send = await ReadCheckedAsync(entry, data, checks);
            await _writer.WriteAsync(new CheckpointUpdate.ObjectInFlight(index, entry.Size), Stopping);
            var info = await SendAsync(c => Destination.PutAsync(entry.DestinationKey, data, new PutOptions { Checksums = [send] }, c), entry.Size);
            if (info.Size != entry.Size)
                throw await MismatchAsync(entry, $"the destination holds {info.Size} bytes, {entry.Size} were sent");
            checks.Add(ObjectChecks.Size);
            await FinishAsync(index, checks, entry.Size);
        }
        catch (Exception e) when (IsObjectFailure(e))
        {
            await FailAsync(index, Reason(e), 0);
        }
    }

    /// <summary>
    /// Reads the whole object into <paramref name="data"/> (pinned to the listed version) and checks it against every
    /// checksum the source reported (read again on a mismatch, up to <see cref="CopyOptions.ChunkRetries"/> times);
    /// returns the checksum to send it with.
    /// </summary>
    private async Task<Checksum> ReadCheckedAsync(ManifestEntry entry, Memory<byte> data, List<string> checks)
    {
        for (var attempt = 0; ; attempt++)
        {
            var read = await _retry.RunAsync(c => Source.ReadAsync(entry.SourceKey, 0, data, entry.Version, c), Stopping);
            if (read != data.Length) throw new ObjectCopyException($"the source returned {read} bytes, {data.Length} were listed: it changed since it was listed");
            var send = Checksum.Compute(_chunkAlgorithm, data.Span);
            string? wrong = null;
            foreach (var want in entry.Checksums)
            {
                var got = want.Algorithm == send.Algorithm ? send : Checksum.Compute(want.Algorithm, data.Span);
                if (got != want) wrong = $"the bytes read ({got}) do not match the source's {want}";
            }
            if (wrong is null)
            {
                checks.AddRange(entry.Checksums.Select(c => ObjectChecks.Source(c.Algorithm)).Distinct());
                return send;
            }
            if (attempt >= _options.ChunkRetries) throw new ObjectCopyException($"{wrong} (read {attempt + 1} times)");
        }
    }

    /// <summary>Objects copied inside the store per group: a quarter of the object slots (so a few groups run at once), at most 16.</summary>
    private int ServerSideGroup => Math.Clamp(_options.MaxObjectsInFlight / 4, 1, 16);

    /// <summary>Starts a group of server-side copies once it has a slot per object.</summary>
    private async Task StartServerSideAsync(int[] group)
    {
        var taken = 0;
        try
        {
            for (; taken < group.Length; taken++) await _objectSlots.WaitAsync(Stopping);
        }
        catch
        {
            if (taken > 0) _objectSlots.Release(taken);
            throw;
        }
        _ = Spawn(() => CopyServerSideAsync(group), () => _objectSlots.Release(group.Length));
    }

    /// <summary>
    /// A group copied inside the store: marked in flight in one checkpoint write, copied together, recorded in one write.
    /// A copy that finished before its call returned (a local store's) is taken as it is, with no await.
    /// </summary>
    private async Task CopyServerSideAsync(int[] group)
    {
        var inFlight = new CheckpointUpdate[group.Length];
        for (var k = 0; k < group.Length; k++) inFlight[k] = new CheckpointUpdate.ObjectInFlight(group[k], Manifest[group[k]].Size);
        await _writer.WriteAsync(inFlight, Stopping);
        var copies = new Task<ObjectInfo>[group.Length];
        for (var k = 0; k < group.Length; k++)
        {
            var entry = Manifest[group[k]];
            copies[k] = _retry.RunAsync(static (s, c) => s.Run.Destination.CopyFromAsync(s.Run.Source, s.Entry.SourceKey, s.Entry.DestinationKey, s.Entry.Version, c),
                (Run: this, Entry: entry), Stopping);
        }
        var results = new (FinishedObject Result, long Bytes)[group.Length];
        try
        {
            for (var k = 0; k < group.Length; k++)
            {
                var copy = copies[k];
                results[k] = copy.IsCompletedSuccessfully && Verified(group[k], copy.Result) is { } verified
                    ? verified
                    : await CheckServerSideAsync(group[k], copy);
            }
        }
        catch
        {
            // Something that stops the run: the group's other copies end before the run does.
            try { await Task.WhenAll(copies); }
            catch (Exception) { } // what stops the run is the exception rethrown below; theirs add nothing
            throw;
        }
        await RecordAsync(results);
    }

    private static readonly string[] ServerSideChecks = [ObjectChecks.ServerSide, ObjectChecks.Size];

    /// <summary>A copy that holds the listed size and no checksum that differs from the source's: its result, with the checks made; else null.</summary>
    private (FinishedObject Result, long Bytes)? Verified(int index, ObjectInfo info)
    {
        var entry = Manifest[index];
        if (info.Size != entry.Size) return null;
        if (entry.Checksums.Count == 0) return (new FinishedObject(index, ServerSideChecks), entry.Size);
        List<string>? checks = null;
        foreach (var listed in entry.Checksums)
        {
            if (info.ChecksumOf(listed.Algorithm) is not { } copied) continue;
            if (copied != listed) return null;
            (checks ??= [.. ServerSideChecks]).Add(ObjectChecks.Destination(listed.Algorithm));
        }
        return (new FinishedObject(index, checks ?? (IReadOnlyList<string>)ServerSideChecks), entry.Size);
    }

    /// <summary>Copied inside the store, pinned to the listed version (the store's precondition), checked by size and by the checksums both report.</summary>
    private async Task<(FinishedObject Result, long Bytes)> CheckServerSideAsync(int index, Task<ObjectInfo> copy)
    {
        var entry = Manifest[index];
        try
        {
            var info = await copy;
            var checks = new List<string> { ObjectChecks.ServerSide };
            if (info.Size != entry.Size) throw await MismatchAsync(entry, $"the copy holds {info.Size} bytes, {entry.Size} were listed");
            checks.Add(ObjectChecks.Size);
            foreach (var listed in entry.Checksums)
            {
                if (info.ChecksumOf(listed.Algorithm) is not { } copied) continue;
                if (copied != listed) throw await MismatchAsync(entry, $"the copy's {copied} differs from the source's {listed}");
                checks.Add(ObjectChecks.Destination(listed.Algorithm));
            }
            return (new FinishedObject(index, checks), entry.Size);
        }
        catch (Exception e) when (IsObjectFailure(e))
        {
            return (Failed(index, Reason(e)), 0);
        }
    }

    /// <summary>
    /// Sends with the retries a send gets: transient failures (<see cref="StoreRetry"/>) and checksum mismatches (up to
    /// <see cref="CopyOptions.ChunkRetries"/>), each one counted as re-sent bytes.
    /// </summary>
    private async Task<T> SendAsync<T>(Func<CancellationToken, Task<T>> send, long bytes)
    {
        for (var mismatches = 0; ; mismatches++)
        {
            try
            {
                return await _retry.RunAsync(send, Stopping, () => ResentAsync(bytes));
            }
            catch (ChecksumMismatchException e) when (mismatches < _options.ChunkRetries && !Stopping.IsCancellationRequested)
            {
                Log.ChunkMismatch(_log, _request.TransferId, e.Message, mismatches + 1, _options.ChunkRetries);
                await ResentAsync(bytes);
            }
            catch (ChecksumMismatchException e) when (mismatches > 0)
            {
                throw new ObjectCopyException($"{e.Message} (sent {mismatches + 1} times)", e);
            }
        }
    }

    private async Task ResentAsync(long bytes)
    {
        Interlocked.Add(ref _bytesResent, bytes);
        await _writer.WriteAsync(new CheckpointUpdate.Resent(bytes), Stopping);
        Report();
    }

    /// <summary>Records the object as copied and verified, then counts it (and <paramref name="bytes"/> not yet counted).</summary>
    private Task FinishAsync(int index, IReadOnlyList<string> checks, long bytes) => RecordAsync([(new FinishedObject(index, checks), bytes)]);

    /// <summary>Records the object as failed and takes back the <paramref name="counted"/> bytes progress had counted for it.</summary>
    private Task FailAsync(int index, string reason, long counted) => RecordAsync([(Failed(index, reason), -counted)]);

    /// <summary>An object's failure, logged.</summary>
    private FinishedObject Failed(int index, string reason)
    {
        Log.ObjectFailed(_log, _request.TransferId, Manifest[index].SourceKey, reason);
        return new FinishedObject(index, [], reason);
    }

    /// <summary>Records finished objects (in one checkpoint write), then counts each with its bytes (negative: bytes counted before, taken back).</summary>
    private async Task RecordAsync(IReadOnlyList<(FinishedObject Result, long Bytes)> results)
    {
        var updates = new CheckpointUpdate[results.Count];
        for (var k = 0; k < updates.Length; k++) updates[k] = new CheckpointUpdate.ObjectFinished(results[k].Result);
        await _writer.WriteAsync(updates, Stopping);
        foreach (var (result, bytes) in results)
        {
            _finished[result.Index] = result;
            Interlocked.Add(ref _bytesDone, bytes);
            Interlocked.Increment(ref result.Failed ? ref _objectsFailed : ref _objectsDone);
        }
        Report();
    }

    /// <summary>A verification failure after the write: the destination's copy is deleted (nothing wrong is left behind), and the reason returned.</summary>
    private async Task<ObjectCopyException> MismatchAsync(ManifestEntry entry, string problem)
    {
        try
        {
            await _retry.RunAsync(c => Destination.DeleteAsync(entry.DestinationKey, c), Stopping);
            return new ObjectCopyException($"{problem}; the copy at {Destination.UriOf(entry.DestinationKey)} was deleted");
        }
        catch (ObjectStoreException e)
        {
            return new ObjectCopyException($"{problem}; deleting the copy at {Destination.UriOf(entry.DestinationKey)} failed too: {e.Message}");
        }
    }

    /// <summary>
    /// Runs an object's or a chunk's work on the pool, and keeps its task until it ends; <paramref name="release"/> gives
    /// back its slot and buffer whatever happens.
    /// </summary>
    private Task Spawn(Func<Task> work, Action release)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work();
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested) { }
            catch (Exception e) { Fatal(e); }
            finally { release(); }
        });
        lock (_running)
        {
            if (_running.Count >= 4096) _running.RemoveAll(t => t.IsCompleted);
            _running.Add(task);
        }
        return task;
    }

    private List<Task> Running()
    {
        lock (_running) return [.. _running];
    }

    /// <summary>Something that is no object's fault: stop every task, and throw it from <see cref="ExecuteAsync"/>.</summary>
    private void Fatal(Exception e)
    {
        if (Interlocked.CompareExchange(ref _fatal, e, null) is null) _stop.Cancel();
    }

    /// <summary>What fails one object and lets the copy go on: a store's error about it, a check it failed, a request the store refused.</summary>
    private bool IsObjectFailure(Exception e) =>
        !Stopping.IsCancellationRequested && e is ObjectStoreException or ObjectCopyException or ArgumentException;

    private static string Reason(Exception e) => e switch
    {
        ObjectChangedException => $"the source changed since it was listed: {e.Message}",
        _ => e.Message,
    };

    /// <summary>Fails the object (in the background) when one buffer of <paramref name="bytes"/> would pass the cap.</summary>
    private bool TooBigForBuffers(int index, long bytes)
    {
        if (bytes <= _buffers.MaxBuffer) return false;
        _ = Spawn(() => FailAsync(index, $"needs a {bytes}-byte buffer, more than MaxBufferBytes ({_options.MaxBufferBytes}) allows", 0), () => { });
        return true;
    }

    /// <summary>The chunk size, grown to the destination's smallest part and to fit its most parts (in whole MiB).</summary>
    private long PartSizeFor(long size)
    {
        var capabilities = Destination.Capabilities;
        var part = Math.Max(_checkpoint.Header.ChunkSize, capabilities.MinPartSize);
        var needed = (size + capabilities.MaxParts - 1) / capabilities.MaxParts;
        return needed <= part ? part : (needed + CopyOptions.Mebibyte - 1) / CopyOptions.Mebibyte * CopyOptions.Mebibyte;
    }

    /// <summary>The checksum every chunk carries: one the destination checks itself, CRC-32C first; else CRC-32C, which the adapter checks.</summary>
    internal static ChecksumAlgorithm ChunkAlgorithm(StoreCapabilities destination) =>
        new[] { ChecksumAlgorithm.Crc32C, ChecksumAlgorithm.Md5, ChecksumAlgorithm.Sha256 }
            .FirstOrDefault(destination.VerifiedChecksums.Contains, ChecksumAlgorithm.Crc32C);

    private void Report()
    {
        lock (_progressGate) _onProgress(Progress());
    }

    private CopyProgress Progress() => new(Interlocked.Read(ref _bytesDone), _bytesTotal, Interlocked.Read(ref _objectsDone), Manifest.Count,
        Interlocked.Read(ref _objectsFailed), Interlocked.Read(ref _bytesResent), Listed: true);

    private CopyOutcome Outcome()
    {
        var all = new Dictionary<int, FinishedObject>(_checkpoint.Finished);
        foreach (var (index, result) in _finished) all[index] = result;
        return Outcome(Manifest, all.Values, Progress(), _checkpoint.Resumes);
    }

    private static CopyOutcome Outcome(IReadOnlyList<ManifestEntry> manifest, IEnumerable<FinishedObject> finished, CopyProgress final, int resumes)
    {
        var results = finished.OrderBy(f => f.Index).ToList();
        var checks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            if (result.Failed) continue;
            foreach (var check in result.Checks) checks[check] = checks.GetValueOrDefault(check) + 1;
        }
        return new CopyOutcome(final, [.. results.Where(f => f.Failed).Select(f => new ObjectFailure(manifest[f.Index].SourceKey, f.Failure!))], resumes)
        {
            Checks = checks,
        };
    }

    public void Dispose()
    {
        _stop.Dispose();
        _objectSlots.Dispose();
        _chunkSlots.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "transfer {TransferId}: {SourceKey} failed: {Reason}")]
        public static partial void ObjectFailed(ILogger logger, string transferId, string sourceKey, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "transfer {TransferId}: {Problem}; sending the chunk again ({Attempt} of {Retries})")]
        public static partial void ChunkMismatch(ILogger logger, string transferId, string problem, int attempt, int retries);

        [LoggerMessage(Level = LogLevel.Warning, Message = "transfer {TransferId}: aborting the upload of {Key} failed: {Problem}")]
        public static partial void AbortFailed(ILogger logger, string transferId, string key, string problem);
    }
}

/// <summary>An object that failed a check of the copier's own (a length, a whole-object checksum); the message says which.</summary>
internal sealed class ObjectCopyException(string message, Exception? inner = null) : Exception(message, inner);
