using Microsoft.Extensions.Logging;
using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// Copies every object under a source prefix to a destination prefix: listed once (the manifest, kept in the
/// checkpoint), chunked, every chunk and object verified, resumable. One instance serves every transfer; the state of a
/// copy lives in its checkpoint (<see cref="ICopyCheckpointStore"/>), so a copy stopped by a cancellation, or by a dead
/// process, continues in any process from where the checkpoint says, re-sending only the chunks that were in flight.
/// <para>Memory: chunk buffers are capped by <see cref="CopyOptions.MaxBufferBytes"/> whatever the objects' sizes; the
/// manifest is held whole while a copy runs (a few hundred bytes per object).</para>
/// <para>Run one <see cref="RunAsync"/> per transfer at a time: two runs of the same transfer would both write its
/// checkpoint.</para>
/// </summary>
public sealed partial class ObjectCopier(ICopyCheckpointStore checkpoints, TimeProvider time, ILogger<ObjectCopier> log)
{
    /// <summary>
    /// Runs the copy, or resumes it when the checkpoint store has <see cref="CopyRequest.TransferId"/>, until every
    /// object is copied and verified or failed (failures are in the outcome; the rest of the copy goes on without them).
    /// <paramref name="onProgress"/> is called after each chunk and object, one call at a time, from the copy's threads:
    /// keep it cheap. Cancelling <paramref name="ct"/> stops promptly and leaves the checkpoint as it is, for a later run.
    /// </summary>
    /// <exception cref="CopyPreconditionException">Before any byte moved: a missing bucket, no permission, nothing to
    /// copy, a bad prefix, or a checkpoint of this id for another copy.</exception>
    /// <exception cref="ArgumentException">An option out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    /// <exception cref="ObjectStoreException">A store stayed unavailable through the retries while checking access or listing.</exception>
    /// <remarks>Anything the checkpoint store throws (its server down, <see cref="CheckpointMissingException"/>) stops the run and is thrown as is.</remarks>
    public async Task<CopyOutcome> RunAsync(CopyRequest request, CopyOptions options, Action<CopyProgress> onProgress, CancellationToken ct)
    {
        Preconditions.CheckRequest(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onProgress);
        options.Validate();
        var retry = new StoreRetry(options, time);
        var checkpoint = await checkpoints.LoadAsync(request.TransferId, ct);
        if (checkpoint is not null) CheckSameCopy(checkpoint.Header, request);
        if (checkpoint is { Complete: true })
        {
            var done = CopyRun.OutcomeOf(checkpoint);
            onProgress(done.Final);
            return done;
        }
        await Preconditions.VerifyAccessAsync(request, retry, ct);
        if (checkpoint is null)
        {
            var manifest = await SourceListing.ListAsync(request, retry, (objects, bytes) => onProgress(new CopyProgress(0, bytes, 0, objects, 0, 0, Listed: false)), ct);
            var header = new CheckpointHeader(request.TransferId, SourceText(request), DestinationText(request), options.ChunkSize, time.GetUtcNow());
            await checkpoints.CreateAsync(header, manifest, ct);
            Log.Listed(log, request.TransferId, manifest.Count, manifest.Sum(e => e.Size), header.Source);
            checkpoint = new CopyCheckpoint(header, manifest);
        }
        else checkpoint = await ResumeAsync(checkpoint, ct);

        await using var writer = new CheckpointWriter(checkpoints, request.TransferId);
        using var run = new CopyRun(request, options, checkpoint, writer, retry, log, onProgress);
        var outcome = await run.ExecuteAsync(ct);
        Log.Finished(log, request.TransferId, outcome.Final.ObjectsDone, outcome.Final.ObjectsFailed, outcome.Final.BytesDone, outcome.Final.BytesResent, writer.Batches);
        return outcome;
    }

    /// <summary>
    /// For CancelTransfer: aborts the multipart uploads the checkpoint has open at the destination, then deletes the
    /// checkpoint. Objects already copied stay. Call it once no run of the transfer is going (cancel it first).
    /// </summary>
    /// <exception cref="ObjectStoreException">Some uploads could not be aborted (the checkpoint is deleted all the same; the store's lifecycle rules must clean them up).</exception>
    public async Task AbortAsync(CopyRequest request, CancellationToken ct)
    {
        Preconditions.CheckRequest(request);
        var checkpoint = await checkpoints.LoadAsync(request.TransferId, ct);
        if (checkpoint is null) return;
        CheckSameCopy(checkpoint.Header, request);
        var retry = new StoreRetry(new CopyOptions(), time);
        var failed = new List<string>();
        foreach (var open in checkpoint.Uploads.Values)
        {
            try { await retry.RunAsync(c => request.Destination.AbortUploadAsync(open.Upload, c), ct); }
            catch (ObjectStoreException e)
            {
                Log.AbortFailed(log, request.TransferId, open.Upload.Key, e.Message);
                failed.Add($"{open.Upload.Key}: {e.Message}");
            }
        }
        await checkpoints.DeleteAsync(request.TransferId, ct);
        if (failed.Count > 0)
            throw new ObjectStoreException($"transfer {request.TransferId}: {failed.Count} of {checkpoint.Uploads.Count} uploads could not be aborted; first: {failed[0]}");
    }

    /// <summary>Deletes the checkpoint of a finished transfer (its manifest and records); nothing at the stores changes.</summary>
    public Task ForgetAsync(string transferId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(transferId);
        return checkpoints.DeleteAsync(transferId, ct);
    }

    /// <summary>
    /// Starts a resume: one more resume, and what the last run had in flight counted as re-sent, its marks cleared (so
    /// a second crash does not count them twice), all in one write.
    /// </summary>
    private async Task<CopyCheckpoint> ResumeAsync(CopyCheckpoint checkpoint, CancellationToken ct)
    {
        var inFlight = checkpoint.BytesInFlight;
        var updates = new List<CheckpointUpdate> { new CheckpointUpdate.Resumed(inFlight) };
        updates.AddRange(checkpoint.ObjectsInFlight.Keys.Select(i => new CheckpointUpdate.InFlightCleared(i, 0)));
        updates.AddRange(checkpoint.Uploads.SelectMany(u => u.Value.PartsInFlight.Keys.Select(n => new CheckpointUpdate.InFlightCleared(u.Key, n))));
        await checkpoints.WriteAsync(checkpoint.Header.TransferId, updates, ct);
        Log.Resumed(log, checkpoint.Header.TransferId, checkpoint.Finished.Count, checkpoint.Manifest.Count, inFlight, checkpoint.Resumes + 1);
        return checkpoint with
        {
            Resumes = checkpoint.Resumes + 1,
            BytesResent = checkpoint.BytesResent + inFlight,
            ObjectsInFlight = new Dictionary<int, long>(),
            Uploads = checkpoint.Uploads.ToDictionary(u => u.Key, u => u.Value with { PartsInFlight = new Dictionary<int, long>() }),
        };
    }

    private static void CheckSameCopy(CheckpointHeader header, CopyRequest request)
    {
        if (header.Source != SourceText(request) || header.Destination != DestinationText(request))
            throw new CopyPreconditionException(CopyPrecondition.CheckpointMismatch,
                $"transfer {request.TransferId}: its checkpoint copies {header.Source} to {header.Destination}, not {SourceText(request)} to {DestinationText(request)}");
    }

    private static string SourceText(CopyRequest request) => request.Source.UriOf(request.SourcePrefix).ToString();

    private static string DestinationText(CopyRequest request) => request.Destination.UriOf(request.DestinationPrefix).ToString();

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "transfer {TransferId}: listed {Objects} objects, {Bytes} bytes under {Source}")]
        public static partial void Listed(ILogger logger, string transferId, int objects, long bytes, string source);

        [LoggerMessage(Level = LogLevel.Information,
            Message = "transfer {TransferId}: resuming ({Finished} of {Objects} objects finished, {InFlight} bytes were in flight; resume {Resumes})")]
        public static partial void Resumed(ILogger logger, string transferId, int finished, int objects, long inFlight, int resumes);

        [LoggerMessage(Level = LogLevel.Information,
            Message = "transfer {TransferId}: {Done} objects copied, {Failed} failed, {Bytes} bytes, {Resent} re-sent, {Batches} checkpoint writes")]
        public static partial void Finished(ILogger logger, string transferId, long done, long failed, long bytes, long resent, long batches);

        [LoggerMessage(Level = LogLevel.Warning, Message = "transfer {TransferId}: aborting the upload of {Key} failed: {Problem}")]
        public static partial void AbortFailed(ILogger logger, string transferId, string key, string problem);
    }
}
