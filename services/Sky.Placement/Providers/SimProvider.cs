using Sky.Placement.V1;

namespace Sky.Placement.Providers;

/// <summary>
/// The "sim" provider: simulated clouds under every provider name (aws, gcp, azure, lambda, ...), for tests and
/// demos. Provisioning fails as <see cref="SimOptions.Faults"/> says (injected failures first, then quota, then
/// capacity) and otherwise succeeds after <see cref="SimOptions.ProvisionDelay"/>; spot nodes may be preempted
/// while they run. Deterministic: the seeded <see cref="Random"/> and the given <see cref="TimeProvider"/> are
/// the only sources of chance and time, so the same options and calls give the same outcomes.
/// </summary>
public sealed class SimProvider : IComputeProvider
{
    public const string ProviderName = "sim";

    /// <summary>A cluster holding capacity and quota until it is terminated (or preempted).</summary>
    private sealed class SimCluster(NodeRequest request, DateTimeOffset? preemptAt)
    {
        public NodeRequest Request { get; } = request;
        public DateTimeOffset? PreemptAt { get; } = preemptAt;
        public bool Preempted { get; set; }
    }

    private readonly SimOptions _options;
    private readonly TimeProvider _time;
    private readonly LocalRunner _runner;
    private readonly ClusterTable _clusters = new(ProviderName);
    private readonly Lock _gate = new();
    private readonly Random _random;
    private readonly int?[] _remaining;
    private readonly Dictionary<string, SimCluster> _up = new(StringComparer.Ordinal);
    private int _sequence;

    public SimProvider(SimOptions options, TimeProvider time)
    {
        Validate(options);
        _options = options;
        _time = time;
        _runner = new LocalRunner(time, options.Runner);
        _random = new Random(options.Seed);
        _remaining = [.. options.Faults.Failures.Select(rule => rule.Count)];
    }

    public string Name => ProviderName;
    public ProviderActivity Activity { get; } = new();

    public bool KnownZeroQuota(CloudLocation location, string? accelerators = null)
    {
        var needsGpus = NodeRequest.ParseAccelerators(accelerators).Count > 0;
        return _options.Faults.Quotas.Any(quota => quota.Scope.Covers(location) && (quota.Vcpus == 0 || (needsGpus && quota.Gpus == 0)));
    }

    /// <summary>When the spot nodes of <paramref name="nodes"/> will be (or were) preempted; null when never.</summary>
    public DateTimeOffset? ScheduledPreemption(ProvisionedNodes nodes)
    {
        lock (_gate) return _up.TryGetValue(nodes.ClusterId, out var cluster) ? cluster.PreemptAt : null;
    }

    public async Task<ProvisionedNodes> ProvisionAsync(NodeRequest request, CancellationToken ct)
    {
        request.Validate();
        ct.ThrowIfCancellationRequested();
        var started = _time.GetUtcNow();
        ProvisionException? failure;
        string? clusterId;
        // Decided (and capacity reserved) up front, so concurrent provisions see each other and outcomes do not depend on timing.
        lock (_gate) (failure, clusterId) = Decide(request, started + _options.ProvisionDelay);
        try
        {
            if (_options.ProvisionDelay > TimeSpan.Zero) await Task.Delay(_options.ProvisionDelay, _time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (clusterId is not null) lock (_gate) _up.Remove(clusterId);
            Activity.Add(new ProvisionRecord(request, ProvisionOutcome.Cancelled, null, null, "cancelled while provisioning", null, started, _time.GetUtcNow()));
            throw;
        }
        if (failure is not null)
        {
            Activity.Add(new ProvisionRecord(request, ProvisionOutcome.Failed, failure.Kind, failure.Blocked, failure.Message, null, started, _time.GetUtcNow()));
            throw failure;
        }
        var nodeInfos = _clusters.Add(clusterId!, request.NumNodes, _options.RunMode == SimRunMode.Execute ? _options.WorkRoot : null);
        var nodes = new ProvisionedNodes(ProviderName, clusterId!, request, request.Location, nodeInfos, _time.GetUtcNow());
        Activity.Add(new ProvisionRecord(request, ProvisionOutcome.Succeeded, null, null, null, clusterId, started, nodes.ReadyAt));
        return nodes;
    }

    public async Task<int> RunAsync(ProvisionedNodes nodes, TaskCommands commands, ILogSink sink, CancellationToken ct)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct, _clusters.Token(nodes));
        var preemptAt = ScheduledPreemption(nodes);
        if (preemptAt is { } due && due <= _time.GetUtcNow()) throw Preempt(nodes, due, sink);

        using var work = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        var preemption = preemptAt is { } at ? Task.Delay(at - _time.GetUtcNow(), _time, work.Token) : null;
        var running = _options.RunMode == SimRunMode.Execute
            ? _runner.RunAsync(nodes, commands, sink, work.Token)
            : SimulateAsync(nodes, sink, work.Token);
        if (preemption is null) return await running.ConfigureAwait(false);

        var first = await Task.WhenAny(running, preemption).ConfigureAwait(false);
        if (first == running || preemption.IsCanceled)
        {
            // Finished, or cancelled by the caller or by termination: the run's own result (or exception) stands.
            await work.CancelAsync().ConfigureAwait(false);
            return await running.ConfigureAwait(false);
        }
        await work.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (OperationCanceledException) { } // the processes were killed by the preemption
        throw Preempt(nodes, preemptAt!.Value, sink);
    }

    public Task TerminateAsync(ProvisionedNodes nodes, CancellationToken ct = default)
    {
        lock (_gate) _up.Remove(nodes.ClusterId);
        if (_clusters.Remove(nodes)) Activity.AddTerminated(nodes.ClusterId);
        return Task.CompletedTask;
    }

    private async Task<int> SimulateAsync(ProvisionedNodes nodes, ILogSink sink, CancellationToken ct)
    {
        var request = nodes.Request;
        sink.Write(new LogLine(0, LogStream.System,
            $"simulated run of {_options.SimulatedRunDuration} on {request.NumNodes} x {request.InstanceType} in {nodes.Location}", _time.GetUtcNow()));
        if (_options.SimulatedRunDuration > TimeSpan.Zero) await Task.Delay(_options.SimulatedRunDuration, _time, ct).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return _options.SimulatedExitCode;
    }

    private PreemptedException Preempt(ProvisionedNodes nodes, DateTimeOffset at, ILogSink sink)
    {
        bool first;
        lock (_gate)
        {
            // A preempted cluster no longer holds capacity or quota.
            first = _up.TryGetValue(nodes.ClusterId, out var cluster) && !cluster.Preempted;
            if (cluster is not null) cluster.Preempted = true;
        }
        if (first) Activity.Add(new PreemptionRecord(nodes.ClusterId, nodes.Request, at));
        var error = new PreemptedException(nodes.ClusterId, nodes.Location.RegionScope, at);
        sink.Write(new LogLine(0, LogStream.System, error.Message + " (simulated)", _time.GetUtcNow()));
        return error;
    }

    /// <summary>Under the lock: the failure this request meets, or a new cluster holding its capacity and quota.</summary>
    private (ProvisionException? Failure, string? ClusterId) Decide(NodeRequest request, DateTimeOffset readyAt)
    {
        var location = request.Location;
        var failures = _options.Faults.Failures;
        for (var i = 0; i < failures.Count; i++)
        {
            var rule = failures[i];
            if (_remaining[i] == 0 || !rule.Scope.Matches(location) || !TypeFits(rule.InstanceType, request.InstanceType)) continue;
            if (_remaining[i] is int left) _remaining[i] = left - 1;
            var blocked = rule.Block switch
            {
                SimBlockScope.Zone => location,
                SimBlockScope.Region => location.RegionScope,
                SimBlockScope.Provider => location.ProviderScope,
                _ => ProvisionException.DefaultScope(rule.Kind, location),
            };
            return (new ProvisionException(rule.Kind, blocked, $"{Describe(rule.Kind, request)} (injected fault {rule.Kind.ToString().ToLowerInvariant()}:{rule.Scope})"), null);
        }
        if (QuotaFailure(request) is { } quota) return (quota, null);
        if (CapacityFailure(request) is { } capacity) return (capacity, null);

        var clusterId = $"sim-{location.Provider}-{++_sequence}";
        _up.Add(clusterId, new SimCluster(request, request.UseSpot ? PreemptionTime(request, readyAt) : null));
        return (null, clusterId);
    }

    private ProvisionException? QuotaFailure(NodeRequest request)
    {
        foreach (var quota in _options.Faults.Quotas.Where(q => q.Scope.Covers(request.Location)))
        {
            var blocked = quota.Scope.Region is null ? request.Location.ProviderScope : request.Location.RegionScope;
            var inScope = Holding(quota.Scope, null).ToList();
            if (quota.Vcpus is double vcpuLimit && request.VcpusPerNode is double perNode)
            {
                var used = inScope.Sum(r => (r.VcpusPerNode ?? 0) * r.NumNodes);
                var needed = perNode * request.NumNodes;
                if (vcpuLimit == 0 || used + needed > vcpuLimit)
                    return new ProvisionException(ProvisionFailure.Quota, blocked,
                        $"quota exceeded: {needed} vCPUs requested in {quota.Scope}, {used} of {vcpuLimit} in use (simulated)");
            }
            else if (quota.Vcpus == 0)
            {
                return new ProvisionException(ProvisionFailure.Quota, blocked, $"quota exceeded: the vCPU quota of {quota.Scope} is 0 (simulated)");
            }
            var gpus = request.AcceleratorsPerNode * request.NumNodes;
            if (quota.Gpus is int gpuLimit && gpus > 0)
            {
                var used = inScope.Sum(r => r.AcceleratorsPerNode * r.NumNodes);
                if (used + gpus > gpuLimit)
                    return new ProvisionException(ProvisionFailure.Quota, blocked,
                        $"quota exceeded: {gpus} accelerators ({request.Accelerators} x {request.NumNodes}) requested in {quota.Scope}, {used} of {gpuLimit} in use (simulated)");
            }
        }
        return null;
    }

    private ProvisionException? CapacityFailure(NodeRequest request)
    {
        foreach (var capacity in _options.Faults.Capacity)
        {
            if (!capacity.Scope.Covers(request.Location) || !TypeFits(capacity.InstanceType, request.InstanceType)) continue;
            var used = Holding(capacity.Scope, capacity.InstanceType).Sum(r => r.NumNodes);
            if (used + request.NumNodes > capacity.Nodes)
                return new ProvisionException(ProvisionFailure.Capacity, ProvisionException.DefaultScope(ProvisionFailure.Capacity, request.Location),
                    $"{Describe(ProvisionFailure.Capacity, request)}: {used} of {capacity.Nodes} nodes in use in {capacity.Scope}");
        }
        return null;
    }

    /// <summary>Requests of the clusters holding resources in <paramref name="scope"/> (of <paramref name="instanceType"/>, when set).</summary>
    private IEnumerable<NodeRequest> Holding(CloudLocation scope, string? instanceType) =>
        _up.Values.Where(c => !c.Preempted && scope.Covers(c.Request.Location) && TypeFits(instanceType, c.Request.InstanceType)).Select(c => c.Request);

    /// <summary>The earliest preemption a matching rule schedules; a rule with p &lt; 1 draws from the seeded random numbers.</summary>
    private DateTimeOffset? PreemptionTime(NodeRequest request, DateTimeOffset readyAt)
    {
        DateTimeOffset? earliest = null;
        foreach (var rule in _options.Faults.Preemptions)
        {
            if (!rule.Scope.Matches(request.Location) || !TypeFits(rule.InstanceType, request.InstanceType)) continue;
            if (rule.Probability < 1 && _random.NextDouble() >= rule.Probability) continue;
            var at = readyAt + rule.After;
            if (earliest is null || at < earliest) earliest = at;
        }
        return earliest;
    }

    private static bool TypeFits(string? rule, string instanceType) =>
        rule is null || string.Equals(rule, instanceType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Messages in the words clouds use, so logs read like the real thing.</summary>
    private static string Describe(ProvisionFailure kind, NodeRequest request) => kind switch
    {
        ProvisionFailure.Capacity => $"insufficient capacity: {request.NumNodes} x {request.InstanceType}{(request.UseSpot ? " (spot)" : "")} unavailable in {request.Location}",
        ProvisionFailure.Quota => $"quota exceeded for {request.NumNodes} x {request.InstanceType} in {request.Location.RegionScope}",
        _ => $"provider error creating {request.NumNodes} x {request.InstanceType} in {request.Location}",
    };

    private static void Validate(SimOptions options)
    {
        if (options.ProvisionDelay < TimeSpan.Zero) throw new ArgumentException($"sim: provision delay must not be negative, got {options.ProvisionDelay}");
        if (options.SimulatedRunDuration < TimeSpan.Zero) throw new ArgumentException($"sim: simulated run duration must not be negative, got {options.SimulatedRunDuration}");
        foreach (var rule in options.Faults.Failures)
            if (rule.Count is < 1) throw new ArgumentException($"sim: failure rule {rule.Kind} in {rule.Scope} needs a count of at least 1 (or none for every provision), got {rule.Count}");
        foreach (var rule in options.Faults.Preemptions)
        {
            if (rule.Probability is <= 0 or > 1 or double.NaN) throw new ArgumentException($"sim: preemption in {rule.Scope} needs a probability in (0, 1], got {rule.Probability}");
            if (rule.After < TimeSpan.Zero) throw new ArgumentException($"sim: preemption in {rule.Scope} must not come before the nodes are up, got {rule.After}");
        }
        foreach (var capacity in options.Faults.Capacity)
            if (capacity.Nodes < 0) throw new ArgumentException($"sim: capacity in {capacity.Scope} must not be negative, got {capacity.Nodes}");
        foreach (var quota in options.Faults.Quotas)
            if (quota.Vcpus is < 0 or double.NaN || quota.Gpus is < 0) throw new ArgumentException($"sim: quota in {quota.Scope} must not be negative");
    }
}
