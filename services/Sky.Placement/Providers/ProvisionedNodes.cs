namespace Sky.Placement.Providers;

/// <summary>Nodes a provider brought up for one request; hand them back to the same provider to run and terminate.</summary>
/// <param name="Provider">Name of the provider that owns them ("local", "sim").</param>
/// <param name="ClusterId">Unique per provisioning: a retry of the same task gets a new one.</param>
/// <param name="Location">Where they actually are (a provider may pick the zone).</param>
/// <param name="ReadyAt">When the last node came up (the provider's clock).</param>
public sealed record ProvisionedNodes(
    string Provider,
    string ClusterId,
    NodeRequest Request,
    CloudLocation Location,
    IReadOnlyList<NodeInfo> Nodes,
    DateTimeOffset ReadyAt);

/// <summary>One node: its rank (0 = head), the address other nodes reach it at, and its scratch directory when it has one on this machine.</summary>
public sealed record NodeInfo(int Rank, string Ip, string? Directory);
