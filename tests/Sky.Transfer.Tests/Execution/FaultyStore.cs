using Sky.Transfer.Storage;

namespace Sky.Transfer.Tests.Execution;

/// <summary>
/// An <see cref="IObjectStore"/> decorator that injects faults (after Orleans' FaultInjectionStorageProvider): bytes
/// corrupted on the way to the store (so the store's checksum check refuses them) or on the way back from a read,
/// transient failures, a denied write, parts that block until cancelled (a process that stops mid-copy), and a hook
/// before each read. It counts what was sent. Wrapping a store also turns server-side copy off (the inner store does
/// not know the wrapper), so the copy streams through the copier.
/// </summary>
internal sealed class FaultyStore(IObjectStore inner) : IObjectStore
{
    private long _partsSent;
    private long _bytesSent;
    private int _partCalls;
    private int _transientLeft;

    public IObjectStore Inner { get; } = inner;

    /// <summary>Corrupt the bytes of this put or part upload (key, part number or 0 for a put, 1-based attempt for that part)?</summary>
    public Func<string, int, int, bool>? CorruptWrite { get; init; }

    /// <summary>Corrupt the bytes this read returns (key, offset)?</summary>
    public Func<string, long, bool>? CorruptRead { get; init; }

    /// <summary>Runs before a read (key, offset): e.g. replaces the object, as a writer racing the copy would.</summary>
    public Func<string, long, Task>? BeforeRead { get; init; }

    /// <summary>Part uploads after this many (counted from the first call) wait until cancelled, as in a process that stops.</summary>
    public int? BlockPartsAfter { get; init; }

    /// <summary>The first this many part uploads and puts fail with a transient error.</summary>
    public int TransientWriteFailures
    {
        get => Math.Max(0, Volatile.Read(ref _transientLeft));
        init => _transientLeft = value;
    }

    /// <summary>Refuse <see cref="StoreAccess.Write"/> in <see cref="VerifyAccessAsync"/>.</summary>
    public bool DenyWrite { get; init; }

    /// <summary>Report each listed object's CRC-32C (computed from its bytes), as GCS does.</summary>
    public bool ReportCrc32C { get; init; }

    public long PartsSent => Interlocked.Read(ref _partsSent);
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes of the part uploads that were blocked when the copy stopped.</summary>
    public long BlockedBytes;

    private readonly Dictionary<(string, int), int> _attempts = [];

    public ObjectUri Root => Inner.Root;
    public StoreCapabilities Capabilities => Inner.Capabilities;

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) =>
        DenyWrite && access.HasFlag(StoreAccess.Write)
            ? throw new PermissionDeniedException(Root, "write", "denied by the test")
            : Inner.VerifyAccessAsync(access, ct);

    public async Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        var page = await Inner.ListAsync(prefix, pageToken, pageSize, ct);
        if (!ReportCrc32C) return page;
        var objects = new List<ObjectInfo>();
        foreach (var obj in page.Objects)
        {
            var bytes = new byte[obj.Size];
            await Inner.ReadAsync(obj.Key, 0, bytes, ct: ct);
            objects.Add(obj with { Checksums = [Checksum.Compute(ChecksumAlgorithm.Crc32C, bytes)] });
        }
        return page with { Objects = objects };
    }

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default) => Inner.StatAsync(key, ct);

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default) =>
        Inner.OpenReadAsync(key, offset, length, ifVersion, ct);

    public async Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default)
    {
        if (BeforeRead is not null) await BeforeRead(key, offset);
        var read = await Inner.ReadAsync(key, offset, buffer, ifVersion, ct);
        if (read > 0 && CorruptRead?.Invoke(key, offset) == true) buffer.Span[read / 2] ^= 0xFF;
        return read;
    }

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        Sent(data.Length);
        FailTransiently();
        return Inner.PutAsync(key, Corrupted(key, 0, data), options, ct);
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default) =>
        Inner.BeginUploadAsync(key, partSize, contentType, ct);

    public async Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        Sent(data.Length);
        var call = Interlocked.Increment(ref _partCalls);
        if (BlockPartsAfter is { } after && call > after)
        {
            Interlocked.Add(ref BlockedBytes, data.Length);
            await Task.Delay(Timeout.Infinite, ct);
        }
        FailTransiently();
        return await Inner.UploadPartAsync(upload, partNumber, Corrupted(upload.Key, partNumber, data), checksums, ct);
    }

    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default) =>
        Inner.CompleteUploadAsync(upload, parts, ct);

    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default) => Inner.AbortUploadAsync(upload, ct);

    public bool CanCopyFrom(IObjectStore source) => false;

    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default) =>
        throw new NotSupportedException("the fault-injecting store never copies server-side");

    public Task DeleteAsync(string key, CancellationToken ct = default) => Inner.DeleteAsync(key, ct);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Sent(int bytes)
    {
        Interlocked.Increment(ref _partsSent);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    private void FailTransiently()
    {
        if (Interlocked.Decrement(ref _transientLeft) >= 0)
            throw new ObjectStoreException($"{Root}: injected transient failure", isTransient: true);
    }

    private ReadOnlyMemory<byte> Corrupted(string key, int partNumber, ReadOnlyMemory<byte> data)
    {
        int attempt;
        lock (_attempts) _attempts[(key, partNumber)] = attempt = _attempts.GetValueOrDefault((key, partNumber)) + 1;
        if (data.Length == 0 || CorruptWrite?.Invoke(key, partNumber, attempt) != true) return data;
        var copy = data.ToArray();
        copy[copy.Length / 2] ^= 0xFF;
        return copy;
    }
}
