namespace Sky.Placement.Providers;

/// <summary>
/// One cloud (or this machine, or a simulated cloud) as the job runner sees it: bring nodes up, run a task's
/// commands on them, take them down. Failures carry what the failover must block
/// (<see cref="ProvisionException"/>, <see cref="PreemptedException"/>).
/// </summary>
public interface IComputeProvider
{
    /// <summary>The provider's name in job records ("local", "sim").</summary>
    string Name { get; }

    /// <summary>What this provider did so far.</summary>
    ProviderActivity Activity { get; }

    /// <summary>
    /// True when the region of <paramref name="location"/> is known to have zero quota (for vCPUs, or for
    /// accelerators when <paramref name="accelerators"/> asks for some), so the runner skips it without trying,
    /// as SkyPilot does.
    /// </summary>
    bool KnownZeroQuota(CloudLocation location, string? accelerators = null);

    /// <summary>Brings up <see cref="NodeRequest.NumNodes"/> nodes, or throws <see cref="ProvisionException"/>; cancellation releases whatever was reserved.</summary>
    Task<ProvisionedNodes> ProvisionAsync(NodeRequest request, CancellationToken ct);

    /// <summary>
    /// Runs setup then run on every node, streaming output to <paramref name="sink"/>; returns the highest exit code
    /// over the nodes (setup's when setup failed, run is then skipped). Throws <see cref="PreemptedException"/> when
    /// spot nodes are taken back, <see cref="OperationCanceledException"/> on cancellation or termination.
    /// </summary>
    Task<int> RunAsync(ProvisionedNodes nodes, TaskCommands commands, ILogSink sink, CancellationToken ct);

    /// <summary>Takes the nodes down, stopping whatever still runs on them. Idempotent.</summary>
    Task TerminateAsync(ProvisionedNodes nodes, CancellationToken ct = default);
}
