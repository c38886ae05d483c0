namespace Sky.Transfer.Storage;

/// <summary>
/// A read-only stream over at most a given number of bytes of another, which also disposes what the SDK handed back
/// with it (an HTTP response, a download result), so a caller that disposes the stream releases the connection.
/// </summary>
internal sealed class OwnedReadStream(Stream inner, long? length, IDisposable? owner = null) : Stream
{
    private readonly long? _length = length;
    private long? _remaining = length;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length ?? throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var max = Limit(buffer.Length);
        return max == 0 ? 0 : Consumed(inner.Read(buffer[..max]));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var max = Limit(buffer.Length);
        if (max == 0) return 0;
        var n = await inner.ReadAsync(buffer[..max], cancellationToken);
        return Consumed(n);
    }

    private int Limit(int wanted) => _remaining is { } r ? (int)Math.Min(wanted, r) : wanted;

    private int Consumed(int n)
    {
        if (_remaining is not null) _remaining -= n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        owner?.Dispose();
        await base.DisposeAsync();
    }
}

internal static class ReadStreams
{
    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    public static async Task<int> FillAsync(Stream stream, Memory<byte> buffer, CancellationToken ct) =>
        await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);

    /// <summary>A stream over <paramref name="data"/> without copying it when it is backed by an array.</summary>
    public static Stream Over(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>The "bytes=a-b" form of a range (b inclusive; open-ended when <paramref name="length"/> is null).</summary>
    public static string RangeHeader(long offset, long? length) =>
        length is { } l ? $"bytes={offset}-{offset + l - 1}" : $"bytes={offset}-";
}
