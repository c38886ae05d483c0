using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Peering;

/// <summary>
/// What makes a peering agreement valid, as accounting.proto states it. Every agreement these rules admit can be
/// priced by Sky.Pricing's PeeringBook (a discount of 1 to 9999 bps is in (0, 100) percent; a cap is a USD amount
/// >= 0), so placement, transfer and rating never meet an agreement they must skip. Each bad field is reported with
/// the request's field name, all of them in one INVALID_ARGUMENT.
/// </summary>
public static class AgreementRules
{
    public const int MaxIdLength = 63;
    public const int MaxDescriptionLength = 200;
    public const int MaxDiscountBps = 9999;
    public const string Currency = "USD";

    // Timestamp's documented range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
    private const long MinSeconds = -62_135_596_800, MaxSeconds = 253_402_300_799;

    private const string IdRule = "lower case letters, digits and '-', 1 to 63 characters";
    private const string ProviderRule = "a provider name: 1 to 63 characters of [a-z0-9-], not starting or ending with '-'";

    /// <summary>The agreement a create request asks for, as it will be stored (its id empty when the server is to pick one).</summary>
    public static PeeringAgreement ValidateCreate(CreatePeeringAgreementRequest request, DateTimeOffset now)
    {
        var violations = new List<(string Field, string Description)>();
        if (request.AgreementId.Length > 0 && !IsValidId(request.AgreementId))
            violations.Add(("agreement_id", $"'{request.AgreementId}' is not an agreement id: {IdRule}"));
        var a = Provider(request.ProviderA, "provider_a", violations);
        var b = Provider(request.ProviderB, "provider_b", violations);
        if (a is not null && a == b) violations.Add(("provider_b", $"must differ from provider_a ('{a}'): an agreement is between two providers"));
        CheckTerms(request, violations);

        var fromGiven = Time(request.EffectiveFrom, "effective_from", violations);
        var until = Time(request.EffectiveUntil, "effective_until", violations);
        var from = request.EffectiveFrom is null ? now : fromGiven;
        if (from is not null && until is not null && until <= from)
            violations.Add(("effective_until", $"must be after effective_from ({Format(from.Value)})"));
        if (request.Description.EnumerateRunes().Count() > MaxDescriptionLength)
            violations.Add(("description", $"at most {MaxDescriptionLength} characters"));
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);

        return new PeeringAgreement
        {
            AgreementId = request.AgreementId,
            ProviderA = a!,
            ProviderB = b!,
            Terms = request.Terms,
            DiscountBps = request.DiscountBps,
            MaxPricePerGb = request.MaxPricePerGb?.Clone(),
            EffectiveFrom = request.EffectiveFrom?.Clone() ?? Timestamp.FromDateTimeOffset(now),
            EffectiveUntil = request.EffectiveUntil?.Clone(),
            Description = request.Description,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
        };
    }

    /// <summary>The id and end time a delete request names; the end may not be before <paramref name="now"/>.</summary>
    public static (string AgreementId, DateTimeOffset End) ValidateDelete(DeletePeeringAgreementRequest request, DateTimeOffset now)
    {
        var violations = new List<(string Field, string Description)>();
        if (request.AgreementId.Length == 0) violations.Add(("agreement_id", "required"));
        else if (!IsValidId(request.AgreementId)) violations.Add(("agreement_id", $"'{request.AgreementId}' is not an agreement id: {IdRule}"));
        var end = Time(request.EndTime, "end_time", violations) ?? now;
        if (request.EndTime is not null && end < now)
            violations.Add(("end_time", $"must not be before now ({Format(now)}): an agreement cannot end in the past"));
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);
        return (request.AgreementId, end);
    }

    /// <summary>The filters of a list request: a provider (null for all) and a moment (null for all times).</summary>
    public static (string? Provider, DateTimeOffset? ActiveAt) ValidateList(ListPeeringAgreementsRequest request)
    {
        var violations = new List<(string Field, string Description)>();
        var provider = request.Provider.Length == 0 ? null : Provider(request.Provider, "provider", violations);
        var activeAt = Time(request.ActiveAt, "active_at", violations);
        if (violations.Count > 0) throw RpcErrors.InvalidArgument([.. violations]);
        return (provider, activeAt);
    }

    /// <summary>Lower case letters, digits and '-', 1 to 63 characters.</summary>
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= MaxIdLength && id.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-');

    /// <summary>
    /// True when <paramref name="requested"/> asks for exactly what <paramref name="existing"/> holds, so a create that
    /// finds its id taken is a retry. An effective_from the request left unset ("now") matches the one stored.
    /// </summary>
    public static bool SameTerms(PeeringAgreement existing, CreatePeeringAgreementRequest request, PeeringAgreement requested) =>
        PairKey(existing) == PairKey(requested)
        && existing.Terms == requested.Terms
        && existing.DiscountBps == requested.DiscountBps
        && Equals(existing.MaxPricePerGb, requested.MaxPricePerGb)
        && (request.EffectiveFrom is null || Equals(existing.EffectiveFrom, requested.EffectiveFrom))
        && Equals(existing.EffectiveUntil, requested.EffectiveUntil)
        && existing.Description == requested.Description;

    /// <summary>True when the two agreements are for the same two providers (in either order) and their periods share a moment.</summary>
    public static bool Overlap(PeeringAgreement x, PeeringAgreement y) =>
        PairKey(x) == PairKey(y)
        && From(x) < (Until(y) ?? DateTimeOffset.MaxValue)
        && From(y) < (Until(x) ?? DateTimeOffset.MaxValue);

    /// <summary>True when the agreement applies at <paramref name="at"/> (from inclusive, until exclusive).</summary>
    public static bool InEffect(PeeringAgreement agreement, DateTimeOffset at) =>
        From(agreement) <= at && (Until(agreement) is not { } until || at < until);

    public static DateTimeOffset From(PeeringAgreement agreement) => agreement.EffectiveFrom.ToDateTimeOffset();

    public static DateTimeOffset? Until(PeeringAgreement agreement) => agreement.EffectiveUntil?.ToDateTimeOffset();

    /// <summary>The two providers in ordinal order: one key for both directions.</summary>
    public static (string, string) PairKey(PeeringAgreement agreement) =>
        string.CompareOrdinal(agreement.ProviderA, agreement.ProviderB) <= 0
            ? (agreement.ProviderA, agreement.ProviderB)
            : (agreement.ProviderB, agreement.ProviderA);

    /// <summary>An id for an agreement whose client left it to the server: readable ("aws-gcp-1f3a9c0e") when it fits.</summary>
    public static string NewId(PeeringAgreement agreement)
    {
        var (a, b) = PairKey(agreement);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var id = $"{a}-{b}-{suffix}";
        return id.Length <= MaxIdLength ? id : "peering-" + Guid.NewGuid().ToString("N")[..16];
    }

    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static void CheckTerms(CreatePeeringAgreementRequest request, List<(string, string)> violations)
    {
        var terms = request.Terms;
        if (terms == PeeringTerms.Unspecified)
            violations.Add(("terms", "required: PEERING_TERMS_FREE, PEERING_TERMS_DISCOUNTED or PEERING_TERMS_CAPPED"));
        else if (!System.Enum.IsDefined(terms))
            violations.Add(("terms", $"{(int)terms} is not a PeeringTerms value"));

        if (terms == PeeringTerms.Discounted)
        {
            if (request.DiscountBps is < 1 or > MaxDiscountBps)
                violations.Add(("discount_bps", $"{request.DiscountBps} is out of range: a discount is 1 to {MaxDiscountBps} basis points (2500 = 25 %)"));
        }
        else if (request.DiscountBps != 0)
            violations.Add(("discount_bps", "must be 0 unless terms is PEERING_TERMS_DISCOUNTED"));

        var cap = request.MaxPricePerGb;
        if (terms == PeeringTerms.Capped)
        {
            if (cap is null) violations.Add(("max_price_per_gb", "required for PEERING_TERMS_CAPPED: the highest egress price per GB, in USD"));
            else if (cap.CurrencyCode != Currency) violations.Add(("max_price_per_gb.currency_code", $"'{cap.CurrencyCode}' is not {Currency}: egress prices are in {Currency}"));
            else if (!cap.IsWellFormed()) violations.Add(("max_price_per_gb", "not a well-formed amount: |nanos| < 10^9 and units and nanos of the same sign"));
            else if (cap.ToDecimal() < 0) violations.Add(("max_price_per_gb", $"{cap.ToDecimal()} is negative: a price cap is >= 0"));
        }
        else if (cap is not null)
            violations.Add(("max_price_per_gb", "must be unset unless terms is PEERING_TERMS_CAPPED"));
    }

    /// <summary>A provider field: required, and already in the lower-case spelling the contracts use.</summary>
    private static string? Provider(string value, string field, List<(string, string)> violations)
    {
        if (value.Length == 0)
        {
            violations.Add((field, "required: " + ProviderRule));
            return null;
        }
        if (ApiKeys.IsValidScope(value)) return value;
        var lower = value.ToLowerInvariant();
        violations.Add((field, ApiKeys.IsValidScope(lower)
            ? $"'{value}' must be lower case ('{lower}')"
            : $"'{value}' is not {ProviderRule}"));
        return null;
    }

    /// <summary>A timestamp field: null when unset; a value outside Timestamp's range is a violation.</summary>
    private static DateTimeOffset? Time(Timestamp? value, string field, List<(string, string)> violations)
    {
        if (value is null) return null;
        if (value.Seconds is < MinSeconds or > MaxSeconds || value.Nanos is < 0 or > 999_999_999)
        {
            violations.Add((field, "not a valid timestamp (0001-01-01 to 9999-12-31, nanos 0 to 999999999)"));
            return null;
        }
        return value.ToDateTimeOffset();
    }
}
