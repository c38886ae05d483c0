using System.Threading.RateLimiting;

namespace Sky.Transfer.Storage;

/// <summary>
/// A store whose writes (single puts and parts) together take at most <c>bytesPerSecond</c>, like rclone's
/// <c>--bwlimit</c>: a transfer that must not fill a shared link. A token bucket (System.Threading.RateLimiting) refilled
/// every 100 ms holds one second's bytes, so a chunk larger than that waits for it in pieces. Reads, listings and
/// server-side copies (no bytes through this process) are not limited.
/// </summary>
public sealed class ThrottledObjectStore : IObjectStore
{
    private readonly IObjectStore _inner;
    private readonly TokenBucketRateLimiter _bucket;
    private readonly int _limit;

    public ThrottledObjectStore(IObjectStore inner, long bytesPerSecond)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 10);
        _inner = inner;
        _limit = (int)Math.Min(bytesPerSecond, int.MaxValue);
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _limit,
            TokensPerPeriod = Math.Max(1, _limit / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    /// <summary>The store this one limits.</summary>
    public IObjectStore Inner => _inner;

    public ObjectUri Root => _inner.Root;
    public StoreCapabilities Capabilities => _inner.Capabilities;

    private async Task WaitForAsync(long bytes, CancellationToken ct)
    {
        while (bytes > 0)
        {
            var take = (int)Math.Min(bytes, _limit);
            using var lease = await _bucket.AcquireAsync(take, ct);
            if (!lease.IsAcquired) throw new InvalidOperationException($"bandwidth limit: {take} bytes refused by a bucket of {_limit}");
            bytes -= take;
        }
    }

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => _inner.VerifyAccessAsync(access, ct);

    public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default) =>
        _inner.ListAsync(prefix, pageToken, pageSize, ct);

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default) => _inner.StatAsync(key, ct);

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default) =>
        _inner.OpenReadAsync(key, offset, length, ifVersion, ct);

    public Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default) =>
        _inner.ReadAsync(key, offset, buffer, ifVersion, ct);

    public async Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        await WaitForAsync(data.Length, ct);
        return await _inner.PutAsync(key, data, options, ct);
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default) =>
        _inner.BeginUploadAsync(key, partSize, contentType, ct);

    public async Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        await WaitForAsync(data.Length, ct);
        return await _inner.UploadPartAsync(upload, partNumber, data, checksums, ct);
    }

    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default) =>
        _inner.CompleteUploadAsync(upload, parts, ct);

    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default) => _inner.AbortUploadAsync(upload, ct);

    public bool CanCopyFrom(IObjectStore source) => _inner.CanCopyFrom(source);

    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default) =>
        _inner.CopyFromAsync(source, sourceKey, key, ifVersion, ct);

    public Task DeleteAsync(string key, CancellationToken ct = default) => _inner.DeleteAsync(key, ct);

    /// <summary>Disposes the bucket only: the inner store belongs to whoever opened it (<see cref="ObjectStores"/>).</summary>
    public ValueTask DisposeAsync()
    {
        _bucket.Dispose();
        return ValueTask.CompletedTask;
    }
}
