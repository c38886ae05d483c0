namespace Sky.Placement.Providers;

/// <summary>Where <see cref="LocalProvider"/> keeps node directories, and how it runs commands.</summary>
public sealed record LocalProviderOptions
{
    /// <summary>Parent of every cluster's node directories; default: sky-local in the temp folder.</summary>
    public string Root { get; init; } = Path.Combine(Path.GetTempPath(), "sky-local");
    public LocalRunnerOptions Runner { get; init; } = new();
}

/// <summary>
/// The "local" provider: this machine as a cloud with one region (local/local). Provisioning succeeds at once
/// with a scratch directory per node; commands run as real processes through <see cref="LocalRunner"/>.
/// </summary>
public sealed class LocalProvider : IComputeProvider
{
    public const string ProviderName = "local";

    private readonly TimeProvider _time;
    private readonly LocalProviderOptions _options;
    private readonly LocalRunner _runner;
    private readonly ClusterTable _clusters = new(ProviderName);
    private int _sequence;

    public LocalProvider(TimeProvider time, LocalProviderOptions? options = null)
    {
        _time = time;
        _options = options ?? new();
        _runner = new LocalRunner(time, _options.Runner);
    }

    public string Name => ProviderName;
    public ProviderActivity Activity { get; } = new();

    /// <summary>This machine has no quotas.</summary>
    public bool KnownZeroQuota(CloudLocation location, string? accelerators = null) => false;

    public Task<ProvisionedNodes> ProvisionAsync(NodeRequest request, CancellationToken ct)
    {
        request.Validate();
        if (request.Location.Provider != ProviderName)
            throw new ArgumentException($"the local provider runs only on '{CloudLocation.Local}', not on {request.Location}");
        ct.ThrowIfCancellationRequested();
        var started = _time.GetUtcNow();
        var clusterId = $"local-{Interlocked.Increment(ref _sequence)}";
        var nodes = new ProvisionedNodes(ProviderName, clusterId, request, CloudLocation.Local,
            _clusters.Add(clusterId, request.NumNodes, _options.Root), _time.GetUtcNow());
        Activity.Add(new ProvisionRecord(request, ProvisionOutcome.Succeeded, null, null, null, clusterId, started, nodes.ReadyAt));
        return Task.FromResult(nodes);
    }

    public async Task<int> RunAsync(ProvisionedNodes nodes, TaskCommands commands, ILogSink sink, CancellationToken ct)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct, _clusters.Token(nodes));
        return await _runner.RunAsync(nodes, commands, sink, run.Token).ConfigureAwait(false);
    }

    public Task TerminateAsync(ProvisionedNodes nodes, CancellationToken ct = default)
    {
        if (_clusters.Remove(nodes)) Activity.AddTerminated(nodes.ClusterId);
        return Task.CompletedTask;
    }
}
