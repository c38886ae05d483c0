using Sky.Transfer.Execution;

namespace Sky.Transfer.Jobs;

/// <summary>Settings of the transfer service.</summary>
public sealed record TransferOptions
{
    /// <summary>How long a plan may be started after it was made (its prices may be stale after).</summary>
    public TimeSpan PlanLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How the copies are chunked and how much runs at once.</summary>
    public CopyOptions Copy { get; init; } = new();

    /// <summary>Most bytes per second each transfer writes to its destination (like rclone's --bwlimit); 0 means no limit.</summary>
    public long MaxBytesPerSecond { get; init; }

    /// <summary>
    /// How often a running transfer's progress is written to the store (where other processes and a restart read it) and
    /// its owner checks for a cancellation made on another process. Watchers of a transfer run here see every change sooner.
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>At most how often a running transfer publishes <c>transfer.progress</c> (state changes always do).</summary>
    public TimeSpan ProgressEventInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The window the copy rate (and so the ETA) is averaged over.</summary>
    public TimeSpan RateWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long this process's heartbeat lasts unrefreshed; a transfer whose process's heartbeat lapsed is adopted and resumed by another.</summary>
    public TimeSpan HeartbeatTtl { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the heartbeat is refreshed and unowned transfers are looked for; well under <see cref="HeartbeatTtl"/>.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a watcher of a transfer run by another process reads the store.</summary>
    public TimeSpan StorePollInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}
