namespace Sky.Pricing;

/// <summary>How usage becomes money, beyond the prices themselves: the broker's margin and compute billing granularity.</summary>
public sealed record RatingPolicy
{
    /// <summary>The broker's margin as a fraction of what the provider is paid (0.05 = 5 %), in [0, 1].</summary>
    public decimal MarginRate { get; init; } = 0.05m;

    /// <summary>
    /// Compute is billed per second with this minimum per node and span of use, as AWS, GCP and Azure bill Linux VMs
    /// (per second, 60 s minimum).
    /// </summary>
    public TimeSpan ComputeMinimum { get; init; } = TimeSpan.FromMinutes(1);

    /// <exception cref="ArgumentOutOfRangeException">A field is out of range.</exception>
    public RatingPolicy Validated()
    {
        if (MarginRate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(MarginRate), MarginRate, "the margin rate must be in [0, 1]");
        if (ComputeMinimum < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ComputeMinimum), ComputeMinimum, "the compute minimum must not be negative");
        return this;
    }
}

/// <summary>
/// One rated charge, every part rounded to the nano (Money's precision) so the ledger's entries are exact integers and
/// balance by construction: the tenant pays <see cref="Amount"/> = list - peering discount + margin; the provider is owed
/// <see cref="ListAmount"/> less the discount its agreement waives; the broker keeps the margin.
/// </summary>
public readonly record struct RatedCharge(decimal ListAmount, decimal PeeringDiscount, string? AgreementId, decimal Margin)
{
    public decimal Amount => ListAmount - PeeringDiscount + Margin;

    /// <summary>What the provider is owed: the list amount less the peering discount.</summary>
    public decimal ProviderAmount => ListAmount - PeeringDiscount;
}

/// <summary>
/// Rating: the same prices and rules quotes use, applied to usage. Compute: the per-node hourly price at the time of use
/// times the node-seconds billed (per second, the policy's minimum per node); egress: the region pair's tiers from 0 GB
/// (each transfer on its own, as placement and transfer quote it) with the peering agreements in force at the time of use.
/// </summary>
public sealed class UsageRater(RatingPolicy? policy = null)
{
    private const decimal SecondsPerHour = 3600m;

    public RatingPolicy Policy { get; } = (policy ?? new RatingPolicy()).Validated();

    /// <summary>Node-seconds billed for <paramref name="nodeSeconds"/> used by <paramref name="nodes"/> nodes: at least the minimum per node.</summary>
    public decimal BilledNodeSeconds(decimal nodeSeconds, int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        return Math.Max(nodeSeconds, nodes * (decimal)Policy.ComputeMinimum.TotalSeconds);
    }

    /// <summary>Compute: <paramref name="hourlyPerNode"/> for the node-seconds billed.</summary>
    public RatedCharge Compute(decimal hourlyPerNode, decimal nodeSeconds, int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hourlyPerNode);
        var list = Rounding.ToNanos(hourlyPerNode * BilledNodeSeconds(nodeSeconds, nodes) / SecondsPerHour);
        return WithMargin(list, 0m, null);
    }

    /// <summary>Egress: <paramref name="gb"/> GB priced by <paramref name="pricer"/> (its grid and the agreements in force then).</summary>
    /// <exception cref="InvalidOperationException">The pair has no egress price.</exception>
    public RatedCharge Egress(EgressPricer pricer, string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal gb)
    {
        ArgumentNullException.ThrowIfNull(pricer);
        return Egress(pricer.Quote(srcProvider, srcRegion, dstProvider, dstRegion, gb));
    }

    /// <summary>Egress: <paramref name="gb"/> GB at <paramref name="tiers"/> (the price the usage names) with the agreements of <paramref name="adjuster"/>.</summary>
    public RatedCharge Egress(EgressTiers tiers, IEgressAdjuster? adjuster, string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal gb)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        return Egress(EgressPricer.Price(new EgressRate(EgressMatch.ExactPair, tiers), adjuster, srcProvider, srcRegion, dstProvider, dstRegion, gb));
    }

    private RatedCharge Egress(EgressQuote quote)
    {
        var list = Rounding.ToNanos(quote.ListCost);
        var discount = list - Rounding.ToNanos(quote.Cost);
        return WithMargin(list, discount, discount == 0 || quote.AgreementId is null ? null : AgreementId(quote.AgreementId));
    }

    private RatedCharge WithMargin(decimal list, decimal discount, string? agreement) =>
        new(list, discount, agreement, Rounding.ToNanos((list - discount) * Policy.MarginRate));

    /// <summary>The accounting agreement id of a directional agreement made by <see cref="PeeringBook"/> ("id:src->dst").</summary>
    public static string AgreementId(string directionalId) => directionalId.Split(':')[0];
}
