namespace Sky.Transfer.Storage;

/// <summary>
/// Every adapter's failures, in one small hierarchy, so the executor can tell what went wrong without knowing the
/// SDK: a missing bucket or object, no permission, a bad URI, a checksum that did not match, an object that changed
/// under a pinned read, or anything else, with <see cref="IsTransient"/> saying whether a retry may help.
/// The SDK's exception is kept as <see cref="Exception.InnerException"/>.
/// </summary>
public class ObjectStoreException(string message, bool isTransient = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the same call may succeed later (throttling, a 5xx, a dropped connection).</summary>
    public bool IsTransient { get; } = isTransient;
}

/// <summary>Something named does not exist; the subclass says what.</summary>
public abstract class StoreNotFoundException(string message, Exception? inner) : ObjectStoreException(message, false, inner);

/// <summary>The bucket (S3, GCS), container (Azure) or root folder (local) does not exist.</summary>
public sealed class BucketNotFoundException(ObjectUri bucket, Exception? inner = null)
    : StoreNotFoundException($"{bucket.BucketUri()}: {BucketWord(bucket)} does not exist", inner)
{
    public ObjectUri Bucket { get; } = bucket.BucketUri();

    private static string BucketWord(ObjectUri uri) => uri.Kind switch
    {
        StoreKind.Local => "folder",
        StoreKind.Azure => "container",
        _ => "bucket",
    };
}

/// <summary>The bucket exists and the object does not.</summary>
public sealed class ObjectNotFoundException(ObjectUri obj, Exception? inner = null)
    : StoreNotFoundException($"{obj}: no such object", inner)
{
    public ObjectUri Object { get; } = obj;
}

/// <summary>
/// A multipart upload the store no longer knows (aborted, completed, expired, or its temporary parts removed):
/// the caller starts a new upload.
/// </summary>
public sealed class UploadNotFoundException(ObjectUri obj, string uploadId, Exception? inner = null)
    : StoreNotFoundException($"{obj}: upload {uploadId} does not exist (aborted, completed or expired)", inner)
{
    public string UploadId { get; } = uploadId;
}

/// <summary>The credentials were refused or lack the permission for the operation.</summary>
public sealed class PermissionDeniedException(ObjectUri where, string operation, string? detail = null, Exception? inner = null)
    : ObjectStoreException($"{where}: permission denied to {operation}" + (detail is null ? "" : $" ({detail})"), false, inner);

/// <summary>A URI or key that names no object: unknown scheme, missing bucket, malformed name. The message says which part.</summary>
public sealed class InvalidObjectUriException(string text, string problem)
    : ObjectStoreException($"'{text}': {problem}")
{
    public string Text { get; } = text;
}

/// <summary>
/// The bytes did not match the checksum the caller gave, or the store computed another: the write did not happen.
/// <see cref="Actual"/> is null when the store refused the bytes without saying what it computed.
/// </summary>
public sealed class ChecksumMismatchException(ObjectUri where, Checksum expected, Checksum? actual, Exception? inner = null)
    : ObjectStoreException($"{where}: checksum mismatch: expected {expected}, " + (actual is { } a ? $"got {a}" : "the store computed another"), false, inner)
{
    public Checksum Expected { get; } = expected;
    public Checksum? Actual { get; } = actual;
}

/// <summary>A read pinned to one version of an object found another: the object was overwritten since it was listed.</summary>
public sealed class ObjectChangedException(ObjectUri obj, string expectedVersion, Exception? inner = null)
    : ObjectStoreException($"{obj}: the object changed (expected version {expectedVersion})", false, inner)
{
    public string ExpectedVersion { get; } = expectedVersion;
}
