using Sky.Transfer.Execution;

namespace Sky.Transfer.Tests.Execution;

/// <summary>The buffer pool's hard cap, its order of service and its reuse.</summary>
public sealed class ChunkBufferPoolTests
{
    private const int KiB = 1024;

    [Fact]
    public async Task Concurrent_renters_never_hold_more_than_the_cap()
    {
        var pool = new ChunkBufferPool(1024 * KiB);
        var held = 0L;
        var most = 0L;
        var random = new Random(7);
        var sizes = Enumerable.Range(0, 400).Select(_ => (long)random.Next(1, 300 * KiB)).ToList();

        await Task.WhenAll(sizes.Select(size => Task.Run(async () =>
        {
            var buffer = await pool.RentAsync(size, default);
            Assert.True(buffer.Length >= size);
            var now = Interlocked.Add(ref held, buffer.Length);
            lock (sizes) most = Math.Max(most, now);
            await Task.Yield();
            Interlocked.Add(ref held, -buffer.Length);
            pool.Return(buffer);
        })));

        Assert.InRange(most, 1, pool.Capacity);
        Assert.InRange(pool.PeakAllocated, 1, pool.Capacity);
    }

    [Fact]
    public async Task A_waiting_chunk_is_served_before_smaller_rents_that_came_later()
    {
        var pool = new ChunkBufferPool(256 * KiB);
        var a = await pool.RentAsync(128 * KiB, default);
        var b = await pool.RentAsync(64 * KiB, default);
        var big = pool.RentAsync(200 * KiB, default);   // a 256 KiB buffer: needs a and b back
        var small = pool.RentAsync(10, default);        // would fit now, but waits its turn
        Assert.False(big.IsCompleted);
        Assert.False(small.IsCompleted);

        pool.Return(a);
        Assert.False(big.IsCompleted);
        pool.Return(b);
        var got = await big;
        Assert.Equal(256 * KiB, got.Length);
        Assert.False(small.IsCompleted);
        pool.Return(got);
        Assert.Equal(64 * KiB, (await small).Length);
    }

    [Fact]
    public async Task Buffers_are_reused_by_size_and_kept_ones_make_room_when_needed()
    {
        var pool = new ChunkBufferPool(256 * KiB);
        var first = await pool.RentAsync(100 * KiB, default);
        pool.Return(first);
        var again = await pool.RentAsync(120 * KiB, default);
        Assert.Same(first, again); // same 128 KiB class
        pool.Return(again);

        var other = await pool.RentAsync(256 * KiB, default); // drops the kept 128 KiB one
        Assert.Equal(256 * KiB, other.Length);
        Assert.Equal(256 * KiB, pool.PeakAllocated);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_up_its_turn()
    {
        var pool = new ChunkBufferPool(128 * KiB);
        var held = await pool.RentAsync(128 * KiB, default);
        using var cts = new CancellationTokenSource();
        var waiting = pool.RentAsync(64 * KiB, cts.Token);
        var next = pool.RentAsync(64 * KiB, default);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        pool.Return(held);
        Assert.Equal(64 * KiB, (await next).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = pool.RentAsync(129 * KiB, default); });
    }

    [Theory]
    [InlineData(0, 64 * KiB)]
    [InlineData(1, 64 * KiB)]
    [InlineData(65 * KiB, 128 * KiB)]
    [InlineData(1024 * KiB, 1024 * KiB)]
    [InlineData((1024 * KiB) + 1, 2048 * KiB)]
    [InlineData(8 * 1024 * KiB, 8 * 1024 * KiB)]
    [InlineData((10 * 1024 * KiB) + 5, 11 * 1024 * KiB)]
    public void Sizes_round_to_few_classes(long bytes, int expected) =>
        Assert.Equal(expected, new ChunkBufferPool(128L << 20).SizeFor(bytes));
}
