namespace Sky.Transfer.Storage;

/// <summary>Rules on keys and multipart uploads that every adapter applies the same way, before calling its store.</summary>
public static class ObjectKeys
{
    /// <summary>
    /// Where adapters keep in-progress state as objects (local temporary files, GCS parts awaiting compose, access
    /// probes). Keys under it are never listed and cannot be written by callers.
    /// </summary>
    public const string ReservedPrefix = ".sky-uploads/";

    /// <summary>Checks a key that names an object (not a prefix) and returns its URI.</summary>
    public static ObjectUri CheckObjectKey(ObjectUri root, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0) throw new InvalidObjectUriException(root.ToString(), "an object key is required (this names the whole bucket)");
        if (key.EndsWith('/')) throw new InvalidObjectUriException(root.WithKey(key).ToString(), "an object key cannot end with '/'");
        var uri = root.WithKey(key);
        if (IsReserved(key)) throw new InvalidObjectUriException(uri.ToString(), $"keys under {ReservedPrefix} are reserved for uploads in progress");
        return uri;
    }

    /// <summary>Checks a listing prefix (may be empty).</summary>
    public static ObjectUri CheckPrefix(ObjectUri root, string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return root.WithKey(prefix);
    }

    public static bool IsReserved(string key) => key.StartsWith(ReservedPrefix, StringComparison.Ordinal);

    /// <summary>The key of a write-access probe (an object created then deleted by <see cref="IObjectStore.VerifyAccessAsync"/>).</summary>
    public static string NewProbeKey() => $"{ReservedPrefix}access-probe-{Guid.NewGuid():N}";

    /// <summary>A fresh upload id for adapters whose store has none: 32 hex digits.</summary>
    public static string NewUploadId() => Guid.NewGuid().ToString("N");

    /// <summary>Checks a part size at <see cref="IObjectStore.BeginUploadAsync"/>.</summary>
    public static void CheckPartSize(StoreCapabilities capabilities, long partSize)
    {
        if (partSize < capabilities.MinPartSize || partSize > capabilities.MaxPartSize)
            throw new ArgumentOutOfRangeException(nameof(partSize), partSize,
                $"part size must be between {capabilities.MinPartSize} and {capabilities.MaxPartSize} bytes for this store");
    }

    /// <summary>Checks one part before it is sent: its number is in range and it is no bigger than the part size.</summary>
    public static void CheckPart(StoreCapabilities capabilities, MultipartUpload upload, int partNumber, int length)
    {
        ArgumentNullException.ThrowIfNull(upload);
        if (partNumber < 1 || partNumber > capabilities.MaxParts)
            throw new ArgumentOutOfRangeException(nameof(partNumber), partNumber, $"part numbers run from 1 to {capabilities.MaxParts}");
        if (length == 0) throw new ArgumentException("a part cannot be empty (write an empty object with PutAsync)", nameof(partNumber));
        if (length > upload.PartSize)
            throw new ArgumentException($"part {partNumber} is {length} bytes, more than the upload's part size {upload.PartSize}", nameof(partNumber));
    }

    /// <summary>
    /// Checks the part list given to <see cref="IObjectStore.CompleteUploadAsync"/>: parts 1..N, each once, every one
    /// but the last exactly the part size. Returns them in order and the object's size.
    /// </summary>
    public static (IReadOnlyList<UploadedPart> Parts, long Size) CheckParts(MultipartUpload upload, IReadOnlyList<UploadedPart> parts)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("an upload needs at least one part (write an empty object with PutAsync)", nameof(parts));
        var ordered = parts.OrderBy(p => p.PartNumber).ToList();
        long size = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            var part = ordered[i];
            if (part.PartNumber != i + 1)
                throw new ArgumentException(part.PartNumber == i ? $"part {part.PartNumber} is listed twice" : $"part {i + 1} is missing", nameof(parts));
            var last = i == ordered.Count - 1;
            if (!last && part.Size != upload.PartSize)
                throw new ArgumentException($"part {part.PartNumber} is {part.Size} bytes; every part but the last must be {upload.PartSize}", nameof(parts));
            if (part.Size <= 0 || part.Size > upload.PartSize)
                throw new ArgumentException($"part {part.PartNumber} is {part.Size} bytes, outside 1..{upload.PartSize}", nameof(parts));
            size += part.Size;
        }
        return (ordered, size);
    }

    /// <summary>The checksum a store verifies to send with a part or put: the caller's if it gave one, else one computed from the data.</summary>
    public static Checksum ChecksumToSend(IReadOnlyList<Checksum>? given, ChecksumAlgorithm algorithm, ReadOnlySpan<byte> data) =>
        ChecksumVerification.Find(given, algorithm) ?? Checksum.Compute(algorithm, data);
}
