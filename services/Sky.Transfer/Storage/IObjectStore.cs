using System.Runtime.CompilerServices;

namespace Sky.Transfer.Storage;

/// <summary>
/// The transfer service's view of one bucket (S3, GCS), container (Azure) or folder (local): the few operations a bulk
/// copy needs, the same on every store. Keys are '/'-separated names relative to <see cref="Root"/>.
/// <para>Nothing here holds a whole object in memory: reads stream or fill the caller's buffer, and writes take one
/// part at a time. A multipart upload's state lives in the store and in the <see cref="MultipartUpload"/> and
/// <see cref="UploadedPart"/> records the caller keeps, so an upload continues after the caller restarts (the records
/// are plain data to checkpoint). Every failure is an <see cref="ObjectStoreException"/>.</para>
/// </summary>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>The bucket, as a URI with an empty key (no endpoint or secrets).</summary>
    ObjectUri Root { get; }

    /// <summary>What this store checks and reports, and its multipart limits.</summary>
    StoreCapabilities Capabilities { get; }

    /// <summary>
    /// Fails now, before any byte moves, if the bucket is missing (<see cref="BucketNotFoundException"/>) or the
    /// credentials may not list and read it or, with <see cref="StoreAccess.Write"/>, write to it
    /// (<see cref="PermissionDeniedException"/>). The write check creates and deletes a small object under
    /// <see cref="ObjectKeys.ReservedPrefix"/>.
    /// </summary>
    Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default);

    /// <summary>
    /// One page of the objects whose keys start with <paramref name="prefix"/>, in ascending key order. Pass the
    /// returned <see cref="ObjectPage.NextPageToken"/> to get the next page; null means the listing is complete. A page
    /// may hold fewer than <paramref name="pageSize"/> objects before the end. Keys under
    /// <see cref="ObjectKeys.ReservedPrefix"/> (in-progress uploads) are never listed.
    /// </summary>
    Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default);

    /// <summary>The object's size, ETag, version, last-modified time and the checksums the store keeps for it.</summary>
    Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// A stream of <paramref name="length"/> bytes (to the end when null) from <paramref name="offset"/>; a range past
    /// the end is cut short, and one starting at or after the end is empty. With <paramref name="ifVersion"/> (an
    /// <see cref="ObjectInfo.Version"/>) the read fails with <see cref="ObjectChangedException"/> if the object was
    /// replaced, so the chunks of one copy all come from the same object.
    /// </summary>
    Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default);

    /// <summary>
    /// Reads from <paramref name="offset"/> into <paramref name="buffer"/> until it is full or the object ends; returns
    /// the bytes read (0 at or after the end). <paramref name="ifVersion"/> as in <see cref="OpenReadAsync"/>.
    /// </summary>
    Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default);

    /// <summary>
    /// Writes a whole (small) object in one request, replacing any object at <paramref name="key"/>. A checksum in
    /// <see cref="PutOptions.Checksums"/> that does not match <paramref name="data"/> fails the put with
    /// <see cref="ChecksumMismatchException"/> and stores nothing.
    /// </summary>
    Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default);

    /// <summary>
    /// Starts a multipart upload to <paramref name="key"/>. Every part but the last is exactly
    /// <paramref name="partSize"/> bytes (within <see cref="StoreCapabilities.MinPartSize"/> and
    /// <see cref="StoreCapabilities.MaxPartSize"/>); part N holds bytes [(N-1)·partSize, N·partSize).
    /// </summary>
    Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default);

    /// <summary>
    /// Uploads part <paramref name="partNumber"/> (1-based; any order, in parallel; a part uploaded again replaces the
    /// earlier one). Each of <paramref name="checksums"/> is checked against <paramref name="data"/>: by the store when
    /// it is in <see cref="StoreCapabilities.VerifiedChecksums"/>, else by the adapter before sending. With none, the
    /// adapter computes one the store verifies, so the bytes are still checked on the wire.
    /// </summary>
    Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default);

    /// <summary>
    /// Joins parts 1..N (all of them, each as <see cref="UploadPartAsync"/> returned it) into the object, atomically:
    /// readers see the old object or the new one, never a mix.
    /// </summary>
    Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default);

    /// <summary>Discards an upload's parts as far as the store allows; the object is untouched. Aborting twice is not an error.</summary>
    Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default);

    /// <summary>True when <see cref="CopyFromAsync"/> can copy from <paramref name="source"/> inside the store, with no bytes through this process.</summary>
    bool CanCopyFrom(IObjectStore source);

    /// <summary>
    /// Copies <paramref name="sourceKey"/> of <paramref name="source"/> to <paramref name="key"/> server-side (only when
    /// <see cref="CanCopyFrom"/>). With <paramref name="ifVersion"/> the copy fails with <see cref="ObjectChangedException"/>
    /// unless the source is still that version, and the copy is of that version (the store's own precondition).
    /// </summary>
    Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default);

    /// <summary>Deletes the object; deleting one that does not exist is not an error (a missing bucket is).</summary>
    Task DeleteAsync(string key, CancellationToken ct = default);
}

/// <summary>What <see cref="IObjectStore.VerifyAccessAsync"/> checks.</summary>
[Flags]
public enum StoreAccess
{
    Read = 1,
    Write = 2,
}

/// <summary>
/// What a store does about checksums, and its multipart limits, so the executor can choose a checksum and a part size
/// before it starts.
/// </summary>
public sealed record StoreCapabilities
{
    /// <summary>Checksums the store itself checks on a part or a put (end to end, over the wire).</summary>
    public required IReadOnlySet<ChecksumAlgorithm> VerifiedChecksums { get; init; }

    /// <summary>Checksums stat and list may report for a whole object (whether one is there depends on how it was written).</summary>
    public required IReadOnlySet<ChecksumAlgorithm> ReportedChecksums { get; init; }

    /// <summary>Smallest part size but for the last part.</summary>
    public required long MinPartSize { get; init; }

    public required long MaxPartSize { get; init; }

    /// <summary>Most parts one upload may have.</summary>
    public required int MaxParts { get; init; }
}

/// <summary>An object as listed or stat'ed.</summary>
/// <param name="Key">The key relative to the store's root.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="ETag">The store's entity tag, unquoted (an MD5 for some S3 objects, an opaque value elsewhere).</param>
/// <param name="LastModified">When the object was last written, as the store reports it.</param>
public sealed record ObjectInfo(string Key, long Size, string ETag, DateTimeOffset LastModified)
{
    /// <summary>What a read can be pinned to (<c>ifVersion</c>): the ETag, or the generation on GCS.</summary>
    public string Version { get; init; } = ETag;

    /// <summary>Whole-object checksums the store reported (possibly none).</summary>
    public IReadOnlyList<Checksum> Checksums { get; init; } = [];

    public Checksum? ChecksumOf(ChecksumAlgorithm algorithm) => ChecksumVerification.Find(Checksums, algorithm);
}

/// <summary>One page of a listing; <see cref="NextPageToken"/> is null on the last page.</summary>
public sealed record ObjectPage(IReadOnlyList<ObjectInfo> Objects, string? NextPageToken);

/// <summary>Options of a single-shot put.</summary>
public sealed record PutOptions
{
    public string? ContentType { get; init; }

    /// <summary>Checksums the data must match (computed at the source, so the check is end to end).</summary>
    public IReadOnlyList<Checksum> Checksums { get; init; } = [];
}

/// <summary>
/// A multipart upload in progress: everything needed to continue it, from any process. Checkpoint it with the
/// <see cref="UploadedPart"/>s; after a restart, upload the missing parts and complete.
/// </summary>
/// <param name="Key">The object's key.</param>
/// <param name="UploadId">The store's upload id (S3) or one the adapter made (local, Azure, GCS).</param>
/// <param name="PartSize">Size of every part but the last.</param>
/// <param name="ContentType">The object's content type, if any.</param>
public sealed record MultipartUpload(string Key, string UploadId, long PartSize, string? ContentType = null);

/// <summary>A part the store accepted.</summary>
/// <param name="PartNumber">1-based.</param>
/// <param name="Size">Bytes in the part.</param>
/// <param name="ETag">The store's tag for the part, which completing the upload may need.</param>
public sealed record UploadedPart(int PartNumber, long Size, string ETag)
{
    /// <summary>Checksums of the part that were verified when it was uploaded.</summary>
    public IReadOnlyList<Checksum> Checksums { get; init; } = [];
}

/// <summary>Conveniences over <see cref="IObjectStore"/>, the same for every adapter.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Every object under <paramref name="prefix"/>, page after page.</summary>
    public static async IAsyncEnumerable<ObjectInfo> ListAllAsync(this IObjectStore store, string prefix = "", int pageSize = 1000,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? token = null;
        do
        {
            var page = await store.ListAsync(prefix, token, pageSize, ct);
            foreach (var obj in page.Objects) yield return obj;
            token = page.NextPageToken;
        }
        while (token is not null);
    }

    /// <summary>The URI of <paramref name="key"/> in <paramref name="store"/>.</summary>
    public static ObjectUri UriOf(this IObjectStore store, string key) => store.Root.WithKey(key);
}
