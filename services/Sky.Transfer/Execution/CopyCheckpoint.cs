using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>What a copy fixed when it started: the transfer, where from and to (URIs with their prefixes), and its chunk size.</summary>
public sealed record CheckpointHeader(string TransferId, string Source, string Destination, long ChunkSize, DateTimeOffset CreatedAt);

/// <summary>
/// One object of the listing, as copied by every run: its keys, its size and the version reads are pinned to, and the
/// checksums the source reported for it (what the copied bytes are checked against).
/// </summary>
public sealed record ManifestEntry(string SourceKey, string DestinationKey, long Size, string Version)
{
    public IReadOnlyList<Checksum> Checksums { get; init; } = [];
}

/// <summary>A part the destination accepted, with the CRC-32C of its bytes (joined into the object's CRC-32C).</summary>
public sealed record CopiedPart(UploadedPart Part, uint Crc32C);

/// <summary>An object the copy is finished with: verified (by <see cref="Checks"/>) or failed (<see cref="Failure"/>).</summary>
public sealed record FinishedObject(int Index, IReadOnlyList<string> Checks, string? Failure = null)
{
    public bool Failed => Failure is not null;
}

/// <summary>A multipart upload under way: the parts recorded and the parts marked in flight (part number to bytes).</summary>
public sealed record OpenUpload(MultipartUpload Upload, IReadOnlyDictionary<int, CopiedPart> Parts, IReadOnlyDictionary<int, long> PartsInFlight);

/// <summary>
/// A copy's checkpoint as stored: the manifest (listed once, by index) and, per object, whether it is finished, its
/// open upload, or its single put (or server-side copy) in flight. Plain data, so any process can continue the copy.
/// </summary>
public sealed record CopyCheckpoint(CheckpointHeader Header, IReadOnlyList<ManifestEntry> Manifest)
{
    public IReadOnlyDictionary<int, FinishedObject> Finished { get; init; } = new Dictionary<int, FinishedObject>();
    public IReadOnlyDictionary<int, OpenUpload> Uploads { get; init; } = new Dictionary<int, OpenUpload>();

    /// <summary>Single puts and server-side copies marked in flight: object index to bytes.</summary>
    public IReadOnlyDictionary<int, long> ObjectsInFlight { get; init; } = new Dictionary<int, long>();

    public int Resumes { get; init; }
    public long BytesResent { get; init; }

    /// <summary>Every object is finished.</summary>
    public bool Complete => Finished.Count == Manifest.Count;

    /// <summary>Bytes marked in flight: what a run that stopped had sent, or was sending, without recording it.</summary>
    public long BytesInFlight => ObjectsInFlight.Values.Sum() + Uploads.Values.Sum(u => u.PartsInFlight.Values.Sum());
}

/// <summary>
/// One change to a checkpoint. A batch of them is written atomically (<see cref="ICopyCheckpointStore.WriteAsync"/>):
/// the copier marks a part or a put in flight before sending it and records it once the destination accepted it, so a
/// checkpoint always says which bytes might have been sent unrecorded.
/// </summary>
public abstract record CheckpointUpdate(int Index)
{
    /// <summary>A multipart upload was begun for object <paramref name="Index"/>.</summary>
    public sealed record UploadStarted(int Index, MultipartUpload Upload) : CheckpointUpdate(Index);

    /// <summary>Part <paramref name="PartNumber"/> is about to be sent.</summary>
    public sealed record PartInFlight(int Index, int PartNumber, long Bytes) : CheckpointUpdate(Index);

    /// <summary>The destination accepted a part (replaces its in-flight mark).</summary>
    public sealed record PartCopied(int Index, CopiedPart Part) : CheckpointUpdate(Index);

    /// <summary>A single put or server-side copy of object <paramref name="Index"/> is about to start.</summary>
    public sealed record ObjectInFlight(int Index, long Bytes) : CheckpointUpdate(Index);

    /// <summary>Drops an in-flight mark (part 0: the object's own) once a resume has counted it.</summary>
    public sealed record InFlightCleared(int Index, int PartNumber) : CheckpointUpdate(Index);

    /// <summary>The object is finished; its upload, parts and marks go.</summary>
    public sealed record ObjectFinished(FinishedObject Result) : CheckpointUpdate(Result.Index);

    /// <summary>Bytes sent again (a retried chunk).</summary>
    public sealed record Resent(long Bytes) : CheckpointUpdate(-1);

    /// <summary>A run resumes the copy: one more resume, and the bytes in flight when the last run stopped count as re-sent.</summary>
    public sealed record Resumed(long BytesInFlight) : CheckpointUpdate(-1);
}

/// <summary>
/// Where copies keep their checkpoints. Writes are batched by the copier, so an implementation should make one batch
/// one round trip; an object counts as done only once the write that says so has returned.
/// </summary>
public interface ICopyCheckpointStore
{
    /// <summary>The checkpoint of <paramref name="transferId"/>, or null when there is none (never started, or forgotten).</summary>
    Task<CopyCheckpoint?> LoadAsync(string transferId, CancellationToken ct);

    /// <summary>Stores a new checkpoint with its manifest, replacing whatever a copy that never finished listing left.</summary>
    Task CreateAsync(CheckpointHeader header, IReadOnlyList<ManifestEntry> manifest, CancellationToken ct);

    /// <summary>
    /// Applies <paramref name="updates"/> in order, all or none. Throws <see cref="CheckpointMissingException"/> when the
    /// checkpoint is gone (deleted by an abort while a run was still writing).
    /// </summary>
    Task WriteAsync(string transferId, IReadOnlyList<CheckpointUpdate> updates, CancellationToken ct);

    /// <summary>Deletes the checkpoint; deleting one that is not there is not an error.</summary>
    Task DeleteAsync(string transferId, CancellationToken ct);
}

/// <summary>A write to a checkpoint that no longer exists: the transfer was aborted or forgotten while a run was writing.</summary>
public sealed class CheckpointMissingException(string transferId)
    : InvalidOperationException($"transfer {transferId}: its checkpoint is gone (aborted or forgotten while a copy was running)")
{
    public string TransferId { get; } = transferId;
}
