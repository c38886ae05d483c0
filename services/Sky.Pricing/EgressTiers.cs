using System.Collections;
using System.Globalization;
using System.Text;

namespace Sky.Pricing;

/// <summary>
/// One volume tier of an egress price: every GB of cumulative volume at or below <see cref="UpToGb"/> (and above
/// the previous tier's bound) costs <see cref="PricePerGb"/>. <see cref="UpToGb"/> 0 means no upper bound, as in
/// the directory's <c>EgressTier</c>.
/// </summary>
public readonly record struct EgressBand(long UpToGb, decimal PricePerGb)
{
    /// <summary>True for the open-ended last tier.</summary>
    public bool IsUnbounded => UpToGb == 0;
}

/// <summary>
/// An egress price as ascending volume tiers, the last one unbounded. <see cref="Cost"/> is the exact integral of
/// the per-GB price over the volume, so the price of a transfer is the same however it is split into parts and
/// is right at every tier edge (SkyPilot's formula returns $0 at exactly 10,240 GB; this returns 10,240 x the
/// first tier's price). Immutable; equal tiers compare equal so a grid can share one instance per distinct price.
/// </summary>
public sealed class EgressTiers : IReadOnlyList<EgressBand>, IEquatable<EgressTiers>
{
    private readonly EgressBand[] bands;
    private readonly int hash;

    /// <summary>Validates and copies <paramref name="bands"/>; see <see cref="Validate"/> for the rules.</summary>
    /// <exception cref="ArgumentException">The tiers are empty, unordered, bounded at the end, or negatively priced.</exception>
    public EgressTiers(IEnumerable<EgressBand> bands)
    {
        ArgumentNullException.ThrowIfNull(bands);
        this.bands = [.. bands];
        Validate(this.bands);
        var h = new HashCode();
        foreach (var band in this.bands) h.Add(band);
        hash = h.ToHashCode();
    }

    /// <summary>No charge at any volume (a transfer inside one region).</summary>
    public static EgressTiers Free { get; } = Flat(0m);

    /// <summary>One price for every GB.</summary>
    public static EgressTiers Flat(decimal pricePerGb) => new([new EgressBand(0, pricePerGb)]);

    /// <summary>
    /// Tiers from the directory's proto form. Every price must be in <paramref name="currency"/> (an empty currency
    /// code is taken as that currency, as proto3 leaves it when unset).
    /// </summary>
    public static EgressTiers FromProto(IEnumerable<Sky.Directory.V1.EgressTier> tiers, string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var list = new List<EgressBand>();
        foreach (var tier in tiers)
        {
            var index = list.Count;
            if (tier.PricePerGb is null) throw new ArgumentException($"tier {index}: price_per_gb is required", nameof(tiers));
            var code = tier.PricePerGb.CurrencyCode;
            if (code.Length != 0 && !string.Equals(code, currency, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"tier {index}: price is in {code}, expected {currency}", nameof(tiers));
            if (!tier.PricePerGb.IsWellFormed()) throw new ArgumentException($"tier {index}: price_per_gb is not well-formed money", nameof(tiers));
            list.Add(new EgressBand(tier.UpToGb, tier.PricePerGb.ToDecimal()));
        }
        return new EgressTiers(list);
    }

    /// <summary>The tiers in the directory's proto form, prices in <paramref name="currency"/> (what <see cref="FromProto"/> reads back).</summary>
    public IEnumerable<Sky.Directory.V1.EgressTier> ToProto(string currency = "USD") =>
        bands.Select(b => new Sky.Directory.V1.EgressTier { UpToGb = b.UpToGb, PricePerGb = Rounding.ToMoney(b.PricePerGb, currency) });

    public int Count => bands.Length;

    /// <summary>The same tiers with every price above <paramref name="maxPricePerGb"/> lowered to it (a peering price cap).</summary>
    public EgressTiers CappedAt(decimal maxPricePerGb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPricePerGb);
        foreach (var band in bands)
            if (band.PricePerGb > maxPricePerGb) return new EgressTiers(bands.Select(b => b with { PricePerGb = Math.Min(b.PricePerGb, maxPricePerGb) }));
        return this;
    }

    public EgressBand this[int index] => bands[index];

    /// <summary>True when one price applies to every GB.</summary>
    public bool IsFlat => bands.Length == 1;

    /// <summary>
    /// Cost of <paramref name="gb"/> GB when <paramref name="alreadyUsedGb"/> GB have already been sent in the
    /// billing period: the sum over tiers of (GB of [used, used + gb] inside the tier) x (the tier's price). Exact
    /// decimal arithmetic, no rounding; <c>Cost(a + b) == Cost(a) + Cost(b, a)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A volume is negative.</exception>
    public decimal Cost(decimal gb, decimal alreadyUsedGb = 0m)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gb);
        ArgumentOutOfRangeException.ThrowIfNegative(alreadyUsedGb);
        if (bands.Length == 1) return gb * bands[0].PricePerGb;
        var start = alreadyUsedGb;
        var end = alreadyUsedGb + gb;
        var cost = 0m;
        decimal lower = 0;
        foreach (var band in bands)
        {
            if (end <= lower) break;
            var upper = band.IsUnbounded ? decimal.MaxValue : band.UpToGb;
            if (start < upper)
            {
                var from = Math.Max(start, lower);
                var to = Math.Min(end, upper);
                cost += (to - from) * band.PricePerGb;
            }
            lower = upper;
        }
        return cost;
    }

    /// <summary>
    /// The rules every egress price follows: at least one tier; bounds strictly ascend; only the last tier is
    /// unbounded and it must be (volume past a bounded last tier would have no price); prices are not negative.
    /// </summary>
    public static void Validate(IReadOnlyList<EgressBand> bands)
    {
        ArgumentNullException.ThrowIfNull(bands);
        if (bands.Count == 0) throw new ArgumentException("egress tiers: at least one tier is required", nameof(bands));
        for (var i = 0; i < bands.Count; i++)
        {
            var band = bands[i];
            var last = i == bands.Count - 1;
            if (band.PricePerGb < 0)
                throw new ArgumentException($"egress tiers: tier {i} price per GB {band.PricePerGb} is negative", nameof(bands));
            if (band.UpToGb < 0)
                throw new ArgumentException($"egress tiers: tier {i} up_to_gb {band.UpToGb} is negative", nameof(bands));
            if (band.IsUnbounded && !last)
                throw new ArgumentException($"egress tiers: tier {i} is unbounded (up_to_gb 0) but only the last tier may be", nameof(bands));
            if (!band.IsUnbounded && last)
                throw new ArgumentException(
                    $"egress tiers: the last tier must be unbounded (up_to_gb 0), found up_to_gb {band.UpToGb}: volume above it would have no price",
                    nameof(bands));
            if (i > 0 && !band.IsUnbounded && band.UpToGb <= bands[i - 1].UpToGb)
                throw new ArgumentException(
                    $"egress tiers: tier {i} up_to_gb {band.UpToGb} must be above tier {i - 1}'s {bands[i - 1].UpToGb} (bounds ascend)", nameof(bands));
        }
    }

    public bool Equals(EgressTiers? other) =>
        other is not null && (ReferenceEquals(this, other) || (hash == other.hash && bands.AsSpan().SequenceEqual(other.bands)));

    public override bool Equals(object? obj) => Equals(obj as EgressTiers);

    public override int GetHashCode() => hash;

    /// <summary>Readable form, e.g. "0.09/GB to 10240 GB, 0.085/GB to 51200 GB, 0.05/GB above".</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var band in bands)
        {
            if (text.Length > 0) text.Append(", ");
            text.Append(band.PricePerGb.ToString(CultureInfo.InvariantCulture)).Append("/GB");
            text.Append(band.IsUnbounded ? (bands.Length == 1 ? "" : " above") : $" to {band.UpToGb} GB");
        }
        return text.ToString();
    }

    public IEnumerator<EgressBand> GetEnumerator() => ((IEnumerable<EgressBand>)bands).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
