using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// An MD5 or SHA-256 of a whole object whose chunks arrive out of order: each chunk waits (holding its buffer) until the
/// chunks before it are in, so the digest is over the bytes in order, with no second read. Unlike a CRC-32C these
/// cannot be joined from per-chunk values, and they are what S3 and Azure report for a whole object.
/// A chunk earlier in the object always holds its buffer before a later one asks for one, so waiting cannot deadlock.
/// </summary>
internal sealed class OrderedDigest(ChecksumAlgorithm algorithm) : IDisposable
{
    private readonly RunningChecksum _sum = new(algorithm);
    private readonly Lock _gate = new();
    private readonly Dictionary<int, TaskCompletionSource> _turns = [];
    private int _next = 1;
    private bool _abandoned;

    public ChecksumAlgorithm Algorithm { get; } = algorithm;

    /// <summary>Appends part <paramref name="partNumber"/> once parts 1..N-1 are in; returns when it is.</summary>
    public async Task AppendAsync(int partNumber, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        Task turn;
        lock (_gate)
        {
            if (_abandoned) return;
            if (_next == partNumber) turn = Task.CompletedTask;
            else
            {
                var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _turns[partNumber] = wait;
                turn = wait.Task;
            }
        }
        await turn.WaitAsync(ct);
        lock (_gate)
        {
            if (_abandoned) return;
            _sum.Append(data.Span);
            _next = partNumber + 1;
            if (_turns.Remove(_next, out var following)) following.TrySetResult();
        }
    }

    /// <summary>The digest, once every part is in.</summary>
    public Checksum Result()
    {
        lock (_gate) return _abandoned ? throw new InvalidOperationException("the digest was abandoned") : _sum.Current();
    }

    /// <summary>The object failed: waiting parts stop waiting and nothing more is hashed.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            foreach (var turn in _turns.Values) turn.TrySetResult();
            _turns.Clear();
        }
    }

    public void Dispose() => _sum.Dispose();
}
