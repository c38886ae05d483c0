namespace Sky.Placement.Providers;

/// <summary>How a provisioning call ended.</summary>
public enum ProvisionOutcome
{
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>One provisioning call: what was asked, how it ended, and for a failure its kind, scope and message.</summary>
public sealed record ProvisionRecord(
    NodeRequest Request,
    ProvisionOutcome Outcome,
    ProvisionFailure? Failure,
    CloudLocation? Blocked,
    string? Message,
    string? ClusterId,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt);

/// <summary>Spot nodes taken back while running.</summary>
public sealed record PreemptionRecord(string ClusterId, NodeRequest Request, DateTimeOffset At);

/// <summary>
/// What a provider did, in order: every provisioning attempt, preemption and termination. Tests assert on it
/// and the job runner can cross-check its attempt log against it. Safe to read while the provider works.
/// </summary>
public sealed class ProviderActivity
{
    private readonly Lock _gate = new();
    private readonly List<ProvisionRecord> _provisions = [];
    private readonly List<PreemptionRecord> _preemptions = [];
    private readonly List<string> _terminated = [];

    public IReadOnlyList<ProvisionRecord> Provisions { get { lock (_gate) return [.. _provisions]; } }
    public IReadOnlyList<PreemptionRecord> Preemptions { get { lock (_gate) return [.. _preemptions]; } }
    /// <summary>Clusters terminated, each once however often termination was asked.</summary>
    public IReadOnlyList<string> Terminated { get { lock (_gate) return [.. _terminated]; } }

    public int Attempted { get { lock (_gate) return _provisions.Count; } }
    public int Succeeded { get { lock (_gate) return _provisions.Count(p => p.Outcome == ProvisionOutcome.Succeeded); } }
    public int Failed(ProvisionFailure kind) { lock (_gate) return _provisions.Count(p => p.Failure == kind); }

    internal void Add(ProvisionRecord record) { lock (_gate) _provisions.Add(record); }
    internal void Add(PreemptionRecord record) { lock (_gate) _preemptions.Add(record); }
    internal void AddTerminated(string clusterId) { lock (_gate) _terminated.Add(clusterId); }
}
