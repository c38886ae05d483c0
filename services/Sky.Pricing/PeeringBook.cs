using Google.Protobuf.WellKnownTypes;
using Proto = Sky.Accounting.V1;

namespace Sky.Pricing;

/// <summary>
/// Peering agreements as accounting publishes them (sky.accounting.v1.PeeringAgreement: two providers, both directions,
/// effective from a time and maybe until one), turned into the pricing engine's directional agreements for any moment.
/// Placement and transfer quote with <see cref="InForce"/> at the time they plan; accounting rates with it at the time
/// of use, so a quote and a bill apply the same terms.
/// </summary>
public sealed class PeeringBook
{
    private readonly Dictionary<string, Proto.PeeringAgreement> _byId;

    public PeeringBook(IEnumerable<Proto.PeeringAgreement> agreements)
    {
        ArgumentNullException.ThrowIfNull(agreements);
        _byId = new Dictionary<string, Proto.PeeringAgreement>(StringComparer.Ordinal);
        foreach (var agreement in agreements) _byId[agreement.AgreementId] = agreement;
    }

    public static PeeringBook Empty { get; } = new([]);

    public IReadOnlyCollection<Proto.PeeringAgreement> All => _byId.Values;

    /// <summary>This book with <paramref name="agreement"/> added or replaced (an ended agreement carries its end).</summary>
    public PeeringBook With(Proto.PeeringAgreement agreement) => new(_byId.Values.Where(a => a.AgreementId != agreement.AgreementId).Append(agreement));

    /// <summary>This book without the agreement (one removed before it took effect).</summary>
    public PeeringBook Without(string agreementId) => new(_byId.Values.Where(a => a.AgreementId != agreementId));

    /// <summary>The agreements in effect at <paramref name="at"/> (from inclusive, until exclusive), each both ways.</summary>
    public PeeringAgreements InForce(DateTimeOffset at)
    {
        var result = new List<PeeringAgreement>();
        foreach (var agreement in _byId.Values.OrderBy(a => a.AgreementId, StringComparer.Ordinal))
        {
            if (agreement.EffectiveFrom is { } from && from.ToDateTimeOffset() > at) continue;
            if (agreement.EffectiveUntil is { } until && until.ToDateTimeOffset() <= at) continue;
            result.Add(Directional(agreement, agreement.ProviderA, agreement.ProviderB));
            result.Add(Directional(agreement, agreement.ProviderB, agreement.ProviderA));
        }
        return new PeeringAgreements(result);
    }

    /// <summary>The next time after <paramref name="at"/> when the set in force changes; null when it never does.</summary>
    public DateTimeOffset? NextChangeAfter(DateTimeOffset at)
    {
        DateTimeOffset? next = null;
        foreach (var agreement in _byId.Values)
            foreach (var edge in new[] { agreement.EffectiveFrom, agreement.EffectiveUntil })
                if (edge?.ToDateTimeOffset() is { } t && t > at && (next is null || t < next)) next = t;
        return next;
    }

    /// <summary>One direction of an agreement in the pricing engine's terms.</summary>
    /// <exception cref="ArgumentException">The agreement's terms are unspecified or out of range.</exception>
    public static PeeringAgreement Directional(Proto.PeeringAgreement agreement, string src, string dst)
    {
        var id = $"{agreement.AgreementId}:{src}->{dst}";
        return agreement.Terms switch
        {
            Proto.PeeringTerms.Free => PeeringAgreement.Free(id, src, "", dst, ""),
            Proto.PeeringTerms.Discounted => PeeringAgreement.Discount(id, src, "", dst, "", agreement.DiscountBps / 100m),
            Proto.PeeringTerms.Capped when agreement.MaxPricePerGb is { } cap => PeeringAgreement.PriceCap(id, src, "", dst, "", cap.ToDecimal()),
            _ => throw new ArgumentException($"peering agreement {agreement.AgreementId}: terms {agreement.Terms} are not priced (a capped agreement needs max_price_per_gb)", nameof(agreement)),
        };
    }
}
