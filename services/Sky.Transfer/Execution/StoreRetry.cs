using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// Tries a store call again after a transient failure (<see cref="ObjectStoreException.IsTransient"/>: throttling, a
/// 5xx, a dropped connection), up to <see cref="CopyOptions.TransientRetries"/> times with exponential back-off and
/// full jitter (so parallel chunks that failed together do not retry together), waiting on the run's clock.
/// </summary>
internal sealed class StoreRetry(CopyOptions options, TimeProvider time)
{
    /// <summary>Runs <paramref name="call"/>; <paramref name="retrying"/> is told before each new try (a re-send to count).</summary>
    public Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct, Func<Task>? retrying = null) =>
        RunAsync(static (call, c) => call(c), call, ct, retrying);

    /// <summary>
    /// Runs <paramref name="call"/> with <paramref name="state"/> (a static lambda and its state: no closure per call).
    /// A first try that finished successfully is returned as it is, with no task of its own: a local store's calls
    /// finish before they return, and 10,000 small files cost less without a state machine each.
    /// </summary>
    public Task<T> RunAsync<TState, T>(Func<TState, CancellationToken, Task<T>> call, TState state, CancellationToken ct, Func<Task>? retrying = null)
    {
        Task<T> first;
        try { first = call(state, ct); }
        catch (Exception e) { first = Task.FromException<T>(e); }
        return first.IsCompletedSuccessfully ? first : RetryAsync(first, call, state, ct, retrying);
    }

    private async Task<T> RetryAsync<TState, T>(Task<T> first, Func<TState, CancellationToken, Task<T>> call, TState state, CancellationToken ct, Func<Task>? retrying)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await (attempt == 0 ? first : call(state, ct));
            }
            catch (ObjectStoreException e) when (e.IsTransient && attempt < options.TransientRetries && !ct.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), time, ct);
                if (retrying is not null) await retrying();
            }
        }
    }

    public Task RunAsync(Func<CancellationToken, Task> call, CancellationToken ct) =>
        RunAsync<bool>(async c => { await call(c); return true; }, ct);

    /// <summary>Somewhere in [0, min(max, base·2^attempt)].</summary>
    public TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(options.MaxRetryBackoff.Ticks, options.RetryBackoff.Ticks * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * ceiling));
    }
}
