using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// What to copy. <paramref name="SourcePrefix"/> follows transfer.proto's rule: empty, ending in '/', or matching several
/// keys, it copies every object under it, each keeping its key relative to the prefix's folder (the text up to its last
/// '/', so <c>logs/2026-</c> copies <c>logs/2026-01.txt</c> as <c>2026-01.txt</c>) below
/// <paramref name="DestinationPrefix"/> taken as a folder; exactly one object's key copies that object to
/// <paramref name="DestinationPrefix"/> itself, or under its file name when that ends in '/' (or is empty).
/// </summary>
/// <param name="TransferId">Names the checkpoint: a run with the id of an unfinished copy resumes it.</param>
public sealed record CopyRequest(string TransferId, IObjectStore Source, string SourcePrefix, IObjectStore Destination, string DestinationPrefix);

/// <summary>How hard the copier pushes, and how much memory it may take.</summary>
public sealed record CopyOptions
{
    public const long Mebibyte = 1L << 20;

    /// <summary>
    /// Bytes per chunk (the part size of a multipart upload; objects up to one chunk go in a single put). Grown per
    /// object to the destination's <see cref="StoreCapabilities.MinPartSize"/> and to fit its
    /// <see cref="StoreCapabilities.MaxParts"/>. A resumed copy keeps the chunk size it started with. 16 MiB: half the
    /// requests (each one priced by the clouds) of 8 MiB parts, and an object up to it goes in one request with one
    /// checksum that serves both ends (the source's MD5 is the one the destination checks: one pass over its bytes, where
    /// two parts take a pass for the parts and another for the whole); memory stays what MaxBufferBytes allows.
    /// </summary>
    public long ChunkSize { get; init; } = 16 * Mebibyte;

    /// <summary>Chunks of multipart objects being read or sent at once.</summary>
    public int MaxChunksInFlight { get; init; } = 16;

    /// <summary>
    /// Hard cap on the bytes of chunk buffers, in use and kept for reuse; no other buffer grows with object size, so
    /// this (plus a small, fixed overhead) bounds the copier's memory whatever it copies.
    /// </summary>
    public long MaxBufferBytes { get; init; } = 128 * Mebibyte;

    /// <summary>Single-put objects (and server-side copies) in flight at once: what keeps many small files moving.</summary>
    public int MaxObjectsInFlight { get; init; } = 32;

    /// <summary>Times a chunk is sent again after the destination found it did not match its checksum, before its object fails.</summary>
    public int ChunkRetries { get; init; } = 3;

    /// <summary>Times a store call that failed transiently (<see cref="ObjectStoreException.IsTransient"/>) is tried again.</summary>
    public int TransientRetries { get; init; } = 5;

    /// <summary>First back-off after a transient failure; doubled each time (with jitter) up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// For a multipart object whose source (or destination) reports an MD5 or SHA-256 but no CRC-32C, hash the object's
    /// bytes in order to check it whole against that: one more pass over every byte (about 1.8 s of CPU per GiB for MD5
    /// here), on top of the per-chunk checksums. Off, such objects are checked chunk by chunk and by size only.
    /// </summary>
    public bool WholeObjectDigest { get; init; } = true;

    /// <summary>Copy inside the store when the destination can (<see cref="IObjectStore.CanCopyFrom"/>): no bytes through this process.</summary>
    public bool ServerSideCopy { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (ChunkSize < 1) throw new ArgumentException($"ChunkSize must be at least 1 byte, not {ChunkSize}", nameof(ChunkSize));
        if (ChunkSize > Array.MaxLength) throw new ArgumentException($"ChunkSize must be at most {Array.MaxLength} bytes, not {ChunkSize}", nameof(ChunkSize));
        if (MaxBufferBytes < ChunkSize)
            throw new ArgumentException($"MaxBufferBytes ({MaxBufferBytes}) must hold at least one chunk ({ChunkSize})", nameof(MaxBufferBytes));
        if (MaxChunksInFlight < 1) throw new ArgumentException($"MaxChunksInFlight must be at least 1, not {MaxChunksInFlight}", nameof(MaxChunksInFlight));
        if (MaxObjectsInFlight < 1) throw new ArgumentException($"MaxObjectsInFlight must be at least 1, not {MaxObjectsInFlight}", nameof(MaxObjectsInFlight));
        if (ChunkRetries < 0) throw new ArgumentException($"ChunkRetries cannot be negative ({ChunkRetries})", nameof(ChunkRetries));
        if (TransientRetries < 0) throw new ArgumentException($"TransientRetries cannot be negative ({TransientRetries})", nameof(TransientRetries));
        if (RetryBackoff < TimeSpan.Zero || MaxRetryBackoff < RetryBackoff)
            throw new ArgumentException($"RetryBackoff ({RetryBackoff}) must be between 0 and MaxRetryBackoff ({MaxRetryBackoff})", nameof(RetryBackoff));
    }
}

/// <summary>Where a copy stands.</summary>
/// <param name="BytesDone">Bytes copied and verified: single-put objects when verified, multipart objects chunk by chunk
/// as the destination accepts each verified chunk (an object that then fails takes its bytes back out).</param>
/// <param name="BytesTotal">Bytes of every listed object (grows while listing).</param>
/// <param name="ObjectsDone">Objects copied and verified.</param>
/// <param name="ObjectsTotal">Objects listed (grows while listing).</param>
/// <param name="ObjectsFailed">Objects given up on (see <see cref="CopyOutcome.Failures"/>).</param>
/// <param name="BytesResent">Bytes sent more than once: chunks in flight when a run stopped, chunks sent again after a
/// checksum mismatch or a transient failure.</param>
/// <param name="Listed">The listing is complete: the totals are final.</param>
public sealed record CopyProgress(long BytesDone, long BytesTotal, long ObjectsDone, long ObjectsTotal,
    long ObjectsFailed, long BytesResent, bool Listed);

/// <summary>How a run ended: every object copied and verified, or failed.</summary>
/// <param name="Final">The figures at the end (cumulative over every run of the transfer).</param>
/// <param name="Failures">Objects that failed, in listing order.</param>
/// <param name="Resumes">Runs that continued this transfer from its checkpoint (0 when one run did it all).</param>
public sealed record CopyOutcome(CopyProgress Final, IReadOnlyList<ObjectFailure> Failures, int Resumes)
{
    /// <summary>
    /// How many objects each check verified, by its label (<see cref="ObjectChecks"/>): e.g. <c>chunks:md5</c> 64,
    /// <c>source:md5</c> 64, <c>size</c> 64.
    /// </summary>
    public IReadOnlyDictionary<string, long> Checks { get; init; } = new Dictionary<string, long>();

    public bool Succeeded => Failures.Count == 0;
}

/// <summary>An object the copy gave up on, and why (the message names the object, the check or the store's error).</summary>
public sealed record ObjectFailure(string SourceKey, string Reason);

/// <summary>The labels of the checks an object passed, recorded in the checkpoint and summed in <see cref="CopyOutcome.Checks"/>.</summary>
public static class ObjectChecks
{
    /// <summary>The destination holds as many bytes as were listed.</summary>
    public const string Size = "size";

    /// <summary>The bytes were copied inside the store (nothing passed through this process to check).</summary>
    public const string ServerSide = "server-side-copy";

    /// <summary>A completed upload the checkpoint did not record was read back and matched its chunks' CRC-32C.</summary>
    public const string ReadBack = "read-back:crc32c";

    /// <summary>Every chunk (or the single put) carried this checksum of the bytes read, and the destination matched it.</summary>
    public static string Chunks(ChecksumAlgorithm algorithm) => "chunks:" + Checksum.Name(algorithm);

    /// <summary>The whole object's checksum, from the bytes read, equals the one the source reported.</summary>
    public static string Source(ChecksumAlgorithm algorithm) => "source:" + Checksum.Name(algorithm);

    /// <summary>The whole object's checksum equals the one the destination reported after the write.</summary>
    public static string Destination(ChecksumAlgorithm algorithm) => "destination:" + Checksum.Name(algorithm);
}
