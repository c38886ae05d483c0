namespace Sky.Placement.Providers;

/// <summary>Why nodes could not be provisioned; decides what the failover blocks (as SkyPilot's blocked resources).</summary>
public enum ProvisionFailure
{
    /// <summary>No capacity for the instance type: blocks the zone, or the region when the request named no zone.</summary>
    Capacity,
    /// <summary>The tenant's quota at the provider is exhausted or zero: blocks the region.</summary>
    Quota,
    /// <summary>Any other provider error (API error, credentials, timeout): blocks what the provider says, the region by default.</summary>
    Provider,
}

/// <summary>Provisioning failed; <see cref="Blocked"/> is the scope the job must not retry in.</summary>
public sealed class ProvisionException(ProvisionFailure kind, CloudLocation blocked, string message) : Exception(message)
{
    public ProvisionFailure Kind { get; } = kind;
    public CloudLocation Blocked { get; } = blocked;

    /// <summary>The scope a failure of <paramref name="kind"/> blocks for a request at <paramref name="location"/> by default.</summary>
    public static CloudLocation DefaultScope(ProvisionFailure kind, CloudLocation location) =>
        kind == ProvisionFailure.Capacity ? location : location.RegionScope;
}

/// <summary>Spot nodes were taken back while the task ran; the region is blocked and the task recovers elsewhere.</summary>
public sealed class PreemptedException(string clusterId, CloudLocation blocked, DateTimeOffset at)
    : Exception($"spot nodes of {clusterId} in {blocked} were preempted at {at:O}")
{
    public string ClusterId { get; } = clusterId;
    public CloudLocation Blocked { get; } = blocked;
    public DateTimeOffset At { get; } = at;
}
