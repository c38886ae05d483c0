using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Sky.Transfer.Jobs;

/// <summary>
/// Keeps this process's heartbeat alive and adopts transfers whose process stopped: every
/// <see cref="TransferOptions.HeartbeatInterval"/> (and once at start) it beats, then looks at the unfinished transfers
/// not running here; one whose owner's heartbeat lapsed is adopted (compare-and-set, so one process wins) and resumed
/// from its checkpoint. After a kill -9 and a restart, the new process resumes the old one's transfers once the old
/// heartbeat lapses (at most <see cref="TransferOptions.HeartbeatTtl"/>).
/// </summary>
public sealed class TransferRecovery(ITransferStore store, TransferRunner runner, TimeProvider time, TransferOptions options, ILogger<TransferRecovery> log)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval >= options.HeartbeatTtl)
            throw new InvalidOperationException(
                $"TransferOptions.HeartbeatInterval ({options.HeartbeatInterval}) must be positive and shorter than HeartbeatTtl ({options.HeartbeatTtl})");
        // Beat before serving, so a transfer started here is never taken for an orphan. A store that cannot be reached
        // does not stop the host: health says NOT_SERVING until it can, and the loop below keeps beating.
        try
        {
            await store.BeatAsync(options.HeartbeatTtl, cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning("transfer heartbeat failed at start ({Error}); retrying every {Interval}", e.Message, options.HeartbeatInterval);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            do
            {
                try
                {
                    await store.BeatAsync(options.HeartbeatTtl, stoppingToken);
                    await AdoptAsync(stoppingToken);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    log.LogWarning(e, "transfer heartbeat failed; transfers run here may be adopted by another process once it lapses");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task AdoptAsync(CancellationToken ct)
    {
        foreach (var id in await store.UnfinishedAsync(ct))
        {
            if (runner.IsLive(id) || !await store.AdoptAsync(id, ct)) continue;
            if (await store.GetAsync(id, ct) is not { } job) continue;
            log.LogInformation("transfer {Id}: its process stopped; adopted here", id);
            await runner.ResumeAsync(job, ct);
        }
    }
}
