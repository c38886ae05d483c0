using System.Threading.Channels;

namespace Sky.Transfer.Execution;

/// <summary>
/// Group commit for one run's checkpoint writes: every update a copy task hands in while batches are being written goes
/// in the next batch, one <see cref="ICopyCheckpointStore.WriteAsync"/> (one Redis round trip) for all of them, with a
/// few batches pipelined. A task's await returns once its batch is stored, so nothing is counted done, or sent, before
/// the checkpoint says so; 10,000 small files cost a few thousand round trips, not 20,000, and their latencies overlap.
/// </summary>
internal sealed class CheckpointWriter : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private const int MaxWrites = 4;

    // One writer's updates (one, or a group's), stored together in one batch.
    private readonly record struct Pending(IReadOnlyList<CheckpointUpdate> Updates, TaskCompletionSource Stored);

    private readonly ICopyCheckpointStore _store;
    private readonly string _transferId;
    // The loop runs on its own, not inline on a writer's thread (no synchronous continuations): writes that arrive while
    // it is scheduled join one batch, where running it inline made each idle-time write a batch of one.
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public CheckpointWriter(ICopyCheckpointStore store, string transferId)
    {
        _store = store;
        _transferId = transferId;
        _loop = Task.Run(LoopAsync);
    }

    private long _batches;

    /// <summary>Batches written so far (for logs and figures).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Stores <paramref name="update"/> with whatever else is waiting; returns when it is stored.</summary>
    public Task WriteAsync(CheckpointUpdate update, CancellationToken ct) => WriteAsync([update], ct);

    /// <summary>
    /// Stores <paramref name="updates"/> in the same batch, in order, with whatever else is waiting; returns when they are
    /// stored. One wait for a group's updates, not one per object.
    /// </summary>
    public Task WriteAsync(IReadOnlyList<CheckpointUpdate> updates, CancellationToken ct)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(updates, stored))) throw new ObjectDisposedException(nameof(CheckpointWriter));
        return stored.Task.WaitAsync(ct);
    }

    private async Task LoopAsync()
    {
        // Up to MaxWrites batches in flight: on one Redis connection they are applied in the order sent, and an update
        // that depends on another is only handed in once that one is stored, so it is never in an earlier batch.
        var writes = new Queue<Task>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token))
            {
                var batch = new List<Pending>();
                var updates = 0;
                while (updates < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                    updates += next.Updates.Count;
                }
                writes.Enqueue(StoreAsync(batch));
                while (writes.Count >= MaxWrites || (writes.Count > 0 && writes.Peek().IsCompleted)) await writes.Dequeue();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        while (writes.Count > 0) await writes.Dequeue();
        while (_queue.Reader.TryRead(out var left)) left.Stored.TrySetCanceled();
    }

    /// <summary>Writes one batch and tells its writers; never throws (they get the failure).</summary>
    private async Task StoreAsync(List<Pending> batch)
    {
        try
        {
            await _store.WriteAsync(_transferId, batch.Count == 1 ? batch[0].Updates : [.. batch.SelectMany(p => p.Updates)], _stop.Token);
            Interlocked.Increment(ref _batches);
            foreach (var pending in batch) pending.Stored.TrySetResult();
        }
        catch (Exception e)
        {
            foreach (var pending in batch) pending.Stored.TrySetException(e);
        }
    }

    /// <summary>Stops writing: updates not yet stored are dropped (their writers see a cancellation), as a crash would drop them.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
