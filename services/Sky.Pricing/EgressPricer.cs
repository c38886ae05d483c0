namespace Sky.Pricing;

/// <summary>
/// The price of one transfer: which grid entry applied, the list cost from its tiers and the cost after
/// peering. A pair with no price has <see cref="HasPrice"/> false and reading <see cref="Cost"/> throws, so a
/// missing price can never pass for free.
/// </summary>
public readonly struct EgressQuote
{
    private readonly decimal listCost;
    private readonly decimal cost;

    internal EgressQuote(EgressRate rate, decimal listCost, decimal cost, string src, string dst, string? agreementId = null)
    {
        AgreementId = agreementId;
        Rate = rate;
        this.listCost = listCost;
        this.cost = cost;
        Src = src;
        Dst = dst;
    }

    public EgressRate Rate { get; }
    public EgressMatch Match => Rate.Match;
    public bool HasPrice => Rate.HasPrice;
    /// <summary>"provider/region" of the source.</summary>
    public string Src { get; }
    /// <summary>"provider/region" of the destination.</summary>
    public string Dst { get; }
    /// <summary>The tiers' cost before peering.</summary>
    public decimal ListCost => HasPrice ? listCost : throw NoPrice();
    /// <summary>The cost to charge: the list cost after peering agreements.</summary>
    public decimal Cost => HasPrice ? cost : throw NoPrice();
    /// <summary>The agreement that gave <see cref="Cost"/>; null when no agreement applied.</summary>
    public string? AgreementId { get; }
    /// <summary>True when a peering agreement changed the list cost.</summary>
    public bool Adjusted => HasPrice && cost != listCost;

    private InvalidOperationException NoPrice() => new($"no egress price from {Src} to {Dst}");

    public override string ToString() => HasPrice ? $"{Src} -> {Dst}: {cost} ({Match})" : $"{Src} -> {Dst}: no egress price";
}

/// <summary>
/// Egress pricing for every caller (placement quotes, transfer quotes, accounting rating): the grid's tiers,
/// then the peering adjuster when one covers the pair.
/// </summary>
public sealed class EgressPricer(EgressGrid grid, IEgressAdjuster? adjuster = null)
{
    public EgressGrid Grid { get; } = grid ?? throw new ArgumentNullException(nameof(grid));
    public IEgressAdjuster? Adjuster { get; } = adjuster;

    /// <summary>
    /// Prices <paramref name="gb"/> GB from the source region to the destination region, <paramref name="alreadyUsedGb"/>
    /// GB having already left the source on this pair in the billing period.
    /// </summary>
    /// <exception cref="InvalidOperationException">The adjuster returned a negative cost.</exception>
    public EgressQuote Quote(string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal gb, decimal alreadyUsedGb = 0m)
    {
        var rate = Grid.Lookup(srcProvider, srcRegion, dstProvider, dstRegion);
        return Price(rate, Adjuster, srcProvider, srcRegion, dstProvider, dstRegion, gb, alreadyUsedGb);
    }

    /// <summary>
    /// Prices a transfer at a known rate (tiers a caller already has, e.g. the price a usage record names) with the
    /// same tiers and peering rules as <see cref="Quote"/>.
    /// </summary>
    public static EgressQuote Price(EgressRate rate, IEgressAdjuster? adjuster, string srcProvider, string srcRegion, string dstProvider, string dstRegion,
        decimal gb, decimal alreadyUsedGb = 0m)
    {
        var src = $"{srcProvider}/{srcRegion}";
        var dst = $"{dstProvider}/{dstRegion}";
        if (!rate.HasPrice) return new EgressQuote(rate, 0m, 0m, src, dst);
        var list = rate.Tiers!.Cost(gb, alreadyUsedGb);
        if (adjuster is null || !adjuster.Covers(srcProvider, srcRegion, dstProvider, dstRegion)) return new EgressQuote(rate, list, list, src, dst);
        var charge = new EgressCharge(srcProvider, srcRegion, dstProvider, dstRegion, gb, alreadyUsedGb, rate.Tiers, list);
        var (cost, agreement) = adjuster.AdjustNamed(charge);
        Check(cost, charge);
        return new EgressQuote(rate, list, cost, src, dst, agreement);
    }

    /// <summary>Runs the adjuster and checks its answer (shared with callers that cache tiers costs themselves).</summary>
    public static decimal Adjust(IEgressAdjuster adjuster, in EgressCharge charge)
    {
        var cost = adjuster.Adjust(charge);
        Check(cost, charge);
        return cost;
    }

    private static void Check(decimal cost, in EgressCharge charge)
    {
        if (cost < 0)
            throw new InvalidOperationException(
                $"egress adjuster gave {cost} for {charge.Gb} GB {charge.SrcProvider}/{charge.SrcRegion} -> {charge.DstProvider}/{charge.DstRegion}: a cost is never negative");
    }
}
