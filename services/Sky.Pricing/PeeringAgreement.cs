namespace Sky.Pricing;

/// <summary>What a peering agreement does to the list price of the traffic it covers.</summary>
public enum PeeringTerms
{
    /// <summary>Covered traffic costs nothing.</summary>
    Free,
    /// <summary>Covered traffic costs the list price less <see cref="PeeringAgreement.DiscountPercent"/> percent.</summary>
    Discount,
    /// <summary>
    /// The first <see cref="PeeringAgreement.VolumeCapGb"/> GB of the billing period cost
    /// <see cref="PeeringAgreement.PricePerGb"/> each; volume past the cap pays the tiers.
    /// </summary>
    CappedVolume,
    /// <summary>Each GB costs its tier's list price, but never more than <see cref="PeeringAgreement.PricePerGb"/>.</summary>
    PriceCap,
}

/// <summary>
/// One peering agreement between a source and a destination (a provider, or one of its regions). Directional:
/// traffic the other way needs its own agreement. Region "" covers every region of the provider.
/// </summary>
public sealed record PeeringAgreement : IEgressAdjuster
{
    private PeeringAgreement(string id, string srcProvider, string srcRegion, string dstProvider, string dstRegion, PeeringTerms terms)
    {
        if (string.IsNullOrEmpty(id)) throw new ArgumentException("peering agreement: id is required", nameof(id));
        if (string.IsNullOrEmpty(srcProvider)) throw new ArgumentException($"peering agreement {id}: source provider is required", nameof(srcProvider));
        if (string.IsNullOrEmpty(dstProvider)) throw new ArgumentException($"peering agreement {id}: destination provider is required", nameof(dstProvider));
        Id = id;
        SrcProvider = srcProvider;
        SrcRegion = srcRegion ?? "";
        DstProvider = dstProvider;
        DstRegion = dstRegion ?? "";
        Terms = terms;
    }

    public string Id { get; }
    public string SrcProvider { get; }
    /// <summary>"" for every region of <see cref="SrcProvider"/>.</summary>
    public string SrcRegion { get; }
    public string DstProvider { get; }
    /// <summary>"" for every region of <see cref="DstProvider"/>.</summary>
    public string DstRegion { get; }
    public PeeringTerms Terms { get; }
    /// <summary>Percent off the list price, in (0, 100], for <see cref="PeeringTerms.Discount"/>.</summary>
    public decimal DiscountPercent { get; private init; }
    /// <summary>GB per billing period at <see cref="PricePerGb"/>, for <see cref="PeeringTerms.CappedVolume"/>.</summary>
    public decimal VolumeCapGb { get; private init; }
    /// <summary>
    /// The agreed price per GB under the volume cap (<see cref="PeeringTerms.CappedVolume"/>), or the highest price
    /// per GB (<see cref="PeeringTerms.PriceCap"/>).
    /// </summary>
    public decimal PricePerGb { get; private init; }

    /// <summary>Covered traffic is free.</summary>
    public static PeeringAgreement Free(string id, string srcProvider, string srcRegion, string dstProvider, string dstRegion) =>
        new(id, srcProvider, srcRegion, dstProvider, dstRegion, PeeringTerms.Free);

    /// <summary>Covered traffic costs the list price less <paramref name="percent"/> percent (0 &lt; percent &lt;= 100).</summary>
    public static PeeringAgreement Discount(string id, string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal percent)
    {
        if (percent is <= 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(percent), percent, $"peering agreement {id}: discount must be in (0, 100] percent");
        return new(id, srcProvider, srcRegion, dstProvider, dstRegion, PeeringTerms.Discount) { DiscountPercent = percent };
    }

    /// <summary>The first <paramref name="capGb"/> GB of each billing period cost <paramref name="pricePerGb"/>; the rest pays the tiers.</summary>
    public static PeeringAgreement CappedVolume(string id, string srcProvider, string srcRegion, string dstProvider, string dstRegion,
        decimal capGb, decimal pricePerGb)
    {
        if (capGb <= 0) throw new ArgumentOutOfRangeException(nameof(capGb), capGb, $"peering agreement {id}: volume cap must be > 0 GB");
        if (pricePerGb < 0) throw new ArgumentOutOfRangeException(nameof(pricePerGb), pricePerGb, $"peering agreement {id}: price must be >= 0");
        return new(id, srcProvider, srcRegion, dstProvider, dstRegion, PeeringTerms.CappedVolume) { VolumeCapGb = capGb, PricePerGb = pricePerGb };
    }

    /// <summary>Each GB costs its tier's price but at most <paramref name="maxPricePerGb"/> (&gt;= 0).</summary>
    public static PeeringAgreement PriceCap(string id, string srcProvider, string srcRegion, string dstProvider, string dstRegion, decimal maxPricePerGb)
    {
        if (maxPricePerGb < 0) throw new ArgumentOutOfRangeException(nameof(maxPricePerGb), maxPricePerGb, $"peering agreement {id}: price cap must be >= 0");
        return new(id, srcProvider, srcRegion, dstProvider, dstRegion, PeeringTerms.PriceCap) { PricePerGb = maxPricePerGb };
    }

    public bool Covers(string srcProvider, string srcRegion, string dstProvider, string dstRegion) =>
        Matches(SrcProvider, SrcRegion, srcProvider, srcRegion) && Matches(DstProvider, DstRegion, dstProvider, dstRegion);

    /// <summary>
    /// The adjusted cost. Under a capped volume, <see cref="EgressCharge.AlreadyUsedGb"/> counts toward the cap
    /// and toward the tiers alike (the provider meters every GB leaving the region), so splitting a transfer into
    /// parts never changes its total.
    /// </summary>
    public decimal Adjust(in EgressCharge charge) => Terms switch
    {
        PeeringTerms.Free => 0m,
        PeeringTerms.Discount => charge.ListCost * (100m - DiscountPercent) / 100m,
        PeeringTerms.CappedVolume => CappedCost(charge),
        PeeringTerms.PriceCap => charge.Tiers.CappedAt(PricePerGb).Cost(charge.Gb, charge.AlreadyUsedGb),
        _ => throw new InvalidOperationException($"peering agreement {Id}: unknown terms {Terms}"),
    };

    public (decimal Cost, string? AgreementId) AdjustNamed(in EgressCharge charge) => (Adjust(charge), Id);

    private decimal CappedCost(in EgressCharge charge)
    {
        var underCap = Math.Clamp(VolumeCapGb - charge.AlreadyUsedGb, 0m, charge.Gb);
        var over = charge.Gb - underCap;
        return underCap * PricePerGb + (over == 0 ? 0m : charge.Tiers.Cost(over, charge.AlreadyUsedGb + underCap));
    }

    private static bool Matches(string provider, string region, string actualProvider, string actualRegion) =>
        string.Equals(provider, actualProvider, StringComparison.OrdinalIgnoreCase)
        && (region.Length == 0 || string.Equals(region, actualRegion, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// The agreements in force. Agreements do not stack: where several cover a transfer, it takes the one that
/// costs least (each is a route the traffic may take, and the broker routes it the cheapest way).
/// </summary>
public sealed class PeeringAgreements : IEgressAdjuster
{
    private readonly PeeringAgreement[] agreements;

    public PeeringAgreements(IEnumerable<PeeringAgreement> agreements)
    {
        ArgumentNullException.ThrowIfNull(agreements);
        this.agreements = [.. agreements];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var agreement in this.agreements)
            if (!ids.Add(agreement.Id)) throw new ArgumentException($"peering agreement {agreement.Id} is listed twice", nameof(agreements));
    }

    public IReadOnlyList<PeeringAgreement> All => agreements;

    public bool Covers(string srcProvider, string srcRegion, string dstProvider, string dstRegion)
    {
        foreach (var agreement in agreements)
            if (agreement.Covers(srcProvider, srcRegion, dstProvider, dstRegion)) return true;
        return false;
    }

    public decimal Adjust(in EgressCharge charge) => AdjustNamed(charge).Cost;

    /// <summary>The cheapest covering agreement's cost and id; the list cost and null when none lowers it.</summary>
    public (decimal Cost, string? AgreementId) AdjustNamed(in EgressCharge charge)
    {
        var best = (Cost: charge.ListCost, AgreementId: (string?)null);
        foreach (var agreement in agreements)
            if (agreement.Covers(charge.SrcProvider, charge.SrcRegion, charge.DstProvider, charge.DstRegion) && agreement.Adjust(charge) is var cost && cost < best.Cost)
                best = (cost, agreement.Id);
        return best;
    }
}
