using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sky.Directory.Engine;

/// <summary>
/// Starts the directory engine with the host (so the view is loaded before the first call is served)
/// and removes offers whose leases lapsed, every <see cref="DirectoryOptions.SweepInterval"/>. When the
/// store is unreachable at start the host still comes up (health says NOT_SERVING, calls get
/// UNAVAILABLE) and the load is retried every second. Every host may sweep: the log removes an offer
/// only if its lease is still due, so two sweepers never expire an offer twice.
/// </summary>
public sealed class LeaseSweeper(DirectoryEngine engine, ILogger<LeaseSweeper> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryStartEngineAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    private async Task<bool> TryStartEngineAsync(CancellationToken ct)
    {
        try
        {
            await engine.StartAsync(ct);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("directory: cannot load from the store yet ({Error}); retrying every second", ex.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!engine.IsReady)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), engine.Time, stoppingToken);
                    await TryStartEngineAsync(stoppingToken);
                    continue;
                }
                await Task.Delay(engine.Options.SweepInterval, engine.Time, stoppingToken);
                while (await engine.ExpireDueLeasesAsync(stoppingToken) >= 1000) { }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "lease sweep failed; retrying");
            }
        }
    }
}
