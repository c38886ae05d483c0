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
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct, Func<Task>? retrying = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(ct);
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
