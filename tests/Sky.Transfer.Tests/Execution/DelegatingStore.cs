using Sky.Transfer.Storage;

namespace Sky.Transfer.Tests.Execution;

/// <summary>An <see cref="IObjectStore"/> that passes every call to another, for tests to override the calls they watch. Never copies server-side.</summary>
internal abstract class DelegatingStore(IObjectStore inner) : IObjectStore
{
    public ObjectUri Root => inner.Root;
    public StoreCapabilities Capabilities => inner.Capabilities;

    public virtual Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => inner.VerifyAccessAsync(access, ct);

    public virtual Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default) =>
        inner.ListAsync(prefix, pageToken, pageSize, ct);

    public virtual Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default) => inner.StatAsync(key, ct);

    public virtual Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default) =>
        inner.OpenReadAsync(key, offset, length, ifVersion, ct);

    public virtual Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default) =>
        inner.ReadAsync(key, offset, buffer, ifVersion, ct);

    public virtual Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default) =>
        inner.PutAsync(key, data, options, ct);

    public virtual Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default) =>
        inner.BeginUploadAsync(key, partSize, contentType, ct);

    public virtual Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default) => inner.UploadPartAsync(upload, partNumber, data, checksums, ct);

    public virtual Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default) =>
        inner.CompleteUploadAsync(upload, parts, ct);

    public virtual Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default) => inner.AbortUploadAsync(upload, ct);

    public bool CanCopyFrom(IObjectStore source) => false;

    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default) =>
        throw new NotSupportedException("a delegating test store never copies server-side");

    public virtual Task DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
