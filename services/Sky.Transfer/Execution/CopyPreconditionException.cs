namespace Sky.Transfer.Execution;

/// <summary>Why a copy could not start. The API maps these to gRPC codes (see each member).</summary>
public enum CopyPrecondition
{
    /// <summary>A prefix or key that names nothing valid, or a mapped destination key the store refuses (INVALID_ARGUMENT).</summary>
    InvalidRequest,
    /// <summary>The source bucket, container or folder does not exist (FAILED_PRECONDITION).</summary>
    SourceNotFound,
    /// <summary>The destination bucket, container or folder does not exist (FAILED_PRECONDITION).</summary>
    DestinationNotFound,
    /// <summary>The credentials may not read the source or write the destination (PERMISSION_DENIED or FAILED_PRECONDITION).</summary>
    PermissionDenied,
    /// <summary>No object under the source prefix (FAILED_PRECONDITION).</summary>
    NothingToCopy,
    /// <summary>The transfer id's checkpoint is for another source or destination (INVALID_ARGUMENT).</summary>
    CheckpointMismatch,
}

/// <summary>
/// A copy that cannot start, found before any byte moved: a missing bucket, no permission, nothing to copy, a bad
/// prefix. The message says what and where; the store's exception, if any, is the inner one.
/// </summary>
public sealed class CopyPreconditionException(CopyPrecondition problem, string message, Exception? inner = null) : Exception(message, inner)
{
    public CopyPrecondition Problem { get; } = problem;
}
