namespace Sky.Transfer.Planning;

/// <summary>What one gateway VM can send and receive, in Gbit/s (10^9 bits), whatever the grid says about a pair.</summary>
public readonly record struct VmNetworkLimits(double EgressGbps, double IngressGbps);

/// <summary>
/// Per-VM network limits by provider. Clouds cap a VM's egress below its NIC (AWS at 5 Gbit/s leaving the region),
/// and the grid, measured one pair at a time, cannot show a VM sending to two regions at once past that cap.
/// </summary>
public sealed class GatewayLimits
{
    private readonly Dictionary<string, VmNetworkLimits> byProvider;

    /// <exception cref="ArgumentException">A provider is named twice or a limit is not a positive number.</exception>
    public GatewayLimits(IEnumerable<KeyValuePair<string, VmNetworkLimits>> limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        byProvider = new Dictionary<string, VmNetworkLimits>(StringComparer.OrdinalIgnoreCase);
        foreach (var (provider, limit) in limits)
        {
            if (string.IsNullOrWhiteSpace(provider)) throw new ArgumentException("gateway limits: a provider name is empty", nameof(limits));
            if (!(limit.EgressGbps > 0) || !(limit.IngressGbps > 0) || !double.IsFinite(limit.EgressGbps) || !double.IsFinite(limit.IngressGbps))
                throw new ArgumentException($"gateway limits for {provider}: egress and ingress must be finite and > 0 Gbit/s, found {limit}", nameof(limits));
            if (!byProvider.TryAdd(provider, limit)) throw new ArgumentException($"gateway limits: {provider} is listed twice", nameof(limits));
        }
    }

    /// <summary>Skyplane's limits (egress/ingress Gbit/s per VM): AWS 5/10, GCP 7/16, Azure 16/16.</summary>
    public static GatewayLimits Skyplane { get; } = new(new Dictionary<string, VmNetworkLimits>
    {
        ["aws"] = new(5, 10),
        ["gcp"] = new(7, 16),
        ["azure"] = new(16, 16),
    });

    /// <summary>The limits of a VM of <paramref name="provider"/>, or null when unknown (no gateway runs there).</summary>
    public VmNetworkLimits? For(string provider) => byProvider.TryGetValue(provider, out var limits) ? limits : null;
}
