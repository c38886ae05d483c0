using Sky.Transfer.Execution;

namespace Sky.Transfer.Tests.Execution;

/// <summary>
/// A checkpoint store that fails as a dying process's would (every write after the first N, or a write holding a
/// given update), or answers slowly, as Redis over a network does; it counts what was written.
/// </summary>
internal sealed class FailingCheckpointStore(ICopyCheckpointStore inner) : ICopyCheckpointStore
{
    private int _writes;
    private int _updates;
    private int _finished;

    /// <summary>Writes after this many throw.</summary>
    public int? FailAfterWrites { get; init; }

    /// <summary>A write holding an update this matches throws.</summary>
    public Func<CheckpointUpdate, bool>? FailOn { get; init; }

    /// <summary>How long each write takes.</summary>
    public TimeSpan Latency { get; init; }

    public int Writes => Volatile.Read(ref _writes);
    public int Updates => Volatile.Read(ref _updates);

    /// <summary>Objects recorded as finished so far.</summary>
    public int FinishedStored => Volatile.Read(ref _finished);

    public Task<CopyCheckpoint?> LoadAsync(string transferId, CancellationToken ct) => inner.LoadAsync(transferId, ct);

    public Task CreateAsync(CheckpointHeader header, IReadOnlyList<ManifestEntry> manifest, CancellationToken ct) => inner.CreateAsync(header, manifest, ct);

    public async Task WriteAsync(string transferId, IReadOnlyList<CheckpointUpdate> updates, CancellationToken ct)
    {
        if (Latency > TimeSpan.Zero) await Task.Delay(Latency, ct);
        if (FailAfterWrites is { } limit && Writes >= limit) throw new InvalidOperationException("checkpoint store down (injected)");
        if (FailOn is { } match && updates.Any(match)) throw new InvalidOperationException("checkpoint write refused (injected)");
        await inner.WriteAsync(transferId, updates, ct);
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _updates, updates.Count);
        Interlocked.Add(ref _finished, updates.Count(u => u is CheckpointUpdate.ObjectFinished));
    }

    public Task DeleteAsync(string transferId, CancellationToken ct) => inner.DeleteAsync(transferId, ct);
}
