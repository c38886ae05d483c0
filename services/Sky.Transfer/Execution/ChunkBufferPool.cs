namespace Sky.Transfer.Execution;

/// <summary>
/// The chunk buffers of one run, under a hard cap: the lengths of every array it has made and not dropped, lent or
/// kept for reuse, never add up to more than <see cref="Capacity"/>. A rent that would pass it waits (first come, first
/// served, so a chunk is not starved by small objects) until buffers come back; kept buffers of another size are dropped
/// to make room. Arrays are reused, not freed, so a long copy does not churn the large-object heap.
/// <para>Sizes are rounded up to a power of two up to 1 MiB (at least 64 KiB), then to whole MiB, so many small objects
/// share a few sizes and a chunk gets its size.</para>
/// </summary>
internal sealed class ChunkBufferPool(long capacity)
{
    private const int MinBuffer = 64 * 1024;
    private const int Mebibyte = 1 << 20;

    private sealed record Waiter(int Size, TaskCompletionSource<byte[]> Lent);

    private readonly Lock _gate = new();
    private readonly Dictionary<int, Stack<byte[]>> _free = [];
    private readonly LinkedList<Waiter> _waiters = [];
    private long _allocated;
    private long _lent;

    public long Capacity { get; } = capacity;

    /// <summary>The largest buffer one rent can get.</summary>
    public int MaxBuffer { get; } = (int)Math.Min(capacity, Array.MaxLength);

    /// <summary>Most bytes lent at once.</summary>
    public long PeakLent { get; private set; }

    /// <summary>Most bytes allocated at once (lent and kept).</summary>
    public long PeakAllocated { get; private set; }

    /// <summary>The length of the array a rent of <paramref name="bytes"/> gets.</summary>
    public int SizeFor(long bytes)
    {
        if (bytes > MaxBuffer) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"a buffer of at most {MaxBuffer} bytes");
        var size = bytes <= MinBuffer ? MinBuffer
            : bytes <= Mebibyte ? 1L << (64 - (int)long.LeadingZeroCount(bytes - 1))
            : (bytes + Mebibyte - 1) / Mebibyte * Mebibyte;
        return (int)Math.Min(size, MaxBuffer);
    }

    /// <summary>An array of at least <paramref name="bytes"/>; waits while the cap is reached.</summary>
    public Task<byte[]> RentAsync(long bytes, CancellationToken ct)
    {
        var size = SizeFor(bytes);
        if (size > Capacity) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"more than the pool's cap of {Capacity} bytes");
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_waiters.Count == 0 && TryTake(size) is { } buffer) return Task.FromResult(buffer);
            waiter = new Waiter(size, new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));
            node = _waiters.AddLast(waiter);
        }
        if (ct.CanBeCanceled)
        {
            var registration = ct.Register(() =>
            {
                lock (_gate)
                {
                    if (node.List is null) return; // already served
                    _waiters.Remove(node);
                }
                waiter.Lent.TrySetCanceled(ct);
            });
            waiter.Lent.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return waiter.Lent.Task;
    }

    public void Return(byte[] buffer)
    {
        var served = new List<(Waiter, byte[])>();
        lock (_gate)
        {
            _lent -= buffer.Length;
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<byte[]>();
            stack.Push(buffer);
            while (_waiters.First is { } first && TryTake(first.Value.Size) is { } next)
            {
                _waiters.RemoveFirst();
                served.Add((first.Value, next));
            }
        }
        foreach (var (waiter, next) in served)
            if (!waiter.Lent.TrySetResult(next)) Return(next); // cancelled meanwhile
    }

    /// <summary>A kept array of <paramref name="size"/>, or a new one if the cap allows (dropping kept ones of other sizes). Under the lock.</summary>
    private byte[]? TryTake(int size)
    {
        byte[]? buffer = null;
        if (_free.TryGetValue(size, out var same) && same.Count > 0) buffer = same.Pop();
        else
        {
            foreach (var (length, stack) in _free)
                while (_allocated + size > Capacity && stack.Count > 0)
                {
                    stack.Pop();
                    _allocated -= length;
                }
            if (_allocated + size > Capacity) return null;
            buffer = GC.AllocateUninitializedArray<byte>(size);
            _allocated += size;
            PeakAllocated = Math.Max(PeakAllocated, _allocated);
        }
        _lent += buffer.Length;
        PeakLent = Math.Max(PeakLent, _lent);
        return buffer;
    }
}
