using System.Globalization;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;

namespace Sky.Accounting.Focus;

/// <summary>
/// One ledger transaction as one FOCUS row.
///
/// Money comes from the transaction's entries, not from the usage record, so signs are right for reversals and the
/// columns add up to the accounts: BilledCost = EffectiveCost = what the tenant's receivable was debited; ListCost = what
/// the providers' payables were credited (the clouds' list prices); ContractedCost = ListCost less the peering discount
/// (the one negotiated reduction); x_BrokerMargin = BilledCost - ContractedCost.
///
/// Kinds of row, as FOCUS 1.2 classifies them:
/// - a usage charge: ChargeCategory Usage, ChargeClass empty;
/// - late usage (usage of a closed period, posted to a later one with <c>adjusts_period_id</c>): Usage with ChargeClass
///   Correction, since it corrects a previously invoiced period; its charge period lies in that period;
/// - a correction or credit (a transaction that <see cref="LedgerTransaction.Corrects"/> another): Adjustment, with
///   ChargeClass Correction when the transaction it corrects is in another billing period (FOCUS: empty for a
///   correction within the current period). It carries no quantities or unit price, only the amounts.
/// </summary>
public static class FocusCharges
{
    public const string Currency = "USD";
    private const long NanosPerUnit = 1_000_000_000;
    private const int MaxQuantityDecimals = 20;

    /// <param name="tx">A transaction of <paramref name="scope"/>'s tenant and period.</param>
    /// <param name="correctedPeriod">For a correction, the period of the transaction it corrects (null if unknown).</param>
    public static FocusRow Row(LedgerTransaction tx, FocusScope scope, FocusOptions options, string? correctedPeriod = null)
    {
        var u = tx.Usage;
        var money = Amounts(tx.Entries, scope.TenantAccount);
        var isCorrection = tx.Corrects is not null;
        var isLate = u.AdjustsPeriodId.Length > 0;
        var chargeClass = isLate || (isCorrection && correctedPeriod != scope.PeriodId) ? "Correction" : null;
        var provider = u.Provider.Length > 0 ? u.Provider : u.Location?.Provider ?? "";
        var providerName = provider.Length > 0 ? options.ProviderName(provider) : options.InvoiceIssuerName;
        var service = u.Service.Length > 0 ? u.Service : "billing";
        var (category, subcategory) = FocusServices.Classify(service);
        var (start, end) = ChargePeriod(u, scope);
        var skuId = Text(u.OfferId) ?? (u.Sku.Length > 0 && provider.Length > 0 ? provider + "/" + u.Sku : null);
        var destination = u.Destination is { } d && d.Provider.Length > 0 ? Place(d) : null;
        var quantities = isCorrection ? default : Quantities(u, money.List);

        return new FocusRow
        {
            AvailabilityZone = Text(u.Location?.Zone),
            BilledCost = FocusFormat.Nanos(money.Billed),
            BilledCostNanos = money.Billed,
            BillingAccountId = scope.TenantId,
            BillingCurrency = Currency,
            BillingPeriodStart = scope.PeriodStartText,
            BillingPeriodEnd = scope.PeriodEndText,
            ChargeCategory = isCorrection ? "Adjustment" : "Usage",
            ChargeClass = chargeClass,
            ChargeDescription = Description(tx, u, service, provider, destination),
            ChargeFrequency = "Usage-Based",
            ChargePeriodStart = FocusFormat.Start(start),
            ChargePeriodEnd = FocusFormat.End(end),
            ConsumedQuantity = quantities.Consumed,
            ConsumedUnit = quantities.ConsumedUnit,
            ContractedCost = FocusFormat.Nanos(money.List - money.Peering),
            EffectiveCost = FocusFormat.Nanos(money.Billed),
            InvoiceId = scope.InvoiceId,
            InvoiceIssuerName = options.InvoiceIssuerName,
            ListCost = FocusFormat.Nanos(money.List),
            ListUnitPrice = quantities.UnitPrice,
            PricingQuantity = quantities.Pricing,
            PricingUnit = quantities.PricingUnit,
            ProviderName = providerName,
            PublisherName = providerName,
            RegionId = Text(u.Location?.Region),
            RegionName = Text(u.Location?.Region),
            ResourceId = Text(u.SubjectId),
            ResourceType = u.SubjectId.Length == 0 ? null : tx.IdempotencyKey.StartsWith("transfer:", StringComparison.Ordinal) ? "Transfer" : "Job",
            ServiceCategory = category,
            ServiceName = service,
            ServiceSubcategory = subcategory,
            SkuId = skuId,
            SkuMeter = Text(u.Sku),
            SkuPriceId = skuId is null ? null : SkuPriceId(skuId, destination, u.PriceBookRevision),
            // The stored usage carries its transaction id; tx.Id would hash the key again for every row.
            UsageId = u.UsageId.Length > 0 ? u.UsageId : tx.Id,
            IdempotencyKey = tx.IdempotencyKey,
            Corrects = tx.Corrects,
            AdjustsPeriodId = Text(u.AdjustsPeriodId),
            PeeringAgreementId = Text(u.PeeringAgreementId),
            PeeringDiscount = FocusFormat.Nanos(money.Peering),
            BrokerMargin = FocusFormat.Nanos(money.Margin),
            QuoteId = Text(u.QuoteId),
            PriceBookRevision = u.PriceBookRevision > 0 ? u.PriceBookRevision.ToString(CultureInfo.InvariantCulture) : null,
            Destination = destination,
        };
    }

    /// <summary>The transaction's money by account kind, in nanos: the tenant's debit, the providers' list, the peering discount, the margin.</summary>
    public readonly record struct Money(long Billed, long List, long Peering, long Margin);

    public static Money Amounts(IReadOnlyList<LedgerEntry> entries, string tenantAccount)
    {
        long billed = 0, list = 0, peering = 0, margin = 0;
        foreach (var e in entries)
        {
            if (e.Account == tenantAccount) billed = checked(billed - e.AmountNanos);
            else if (e.Account == LedgerAccounts.BrokerMargin) margin = checked(margin + e.AmountNanos);
            else if (e.Account.StartsWith("provider:", StringComparison.Ordinal) && e.Account.EndsWith(":payable", StringComparison.Ordinal)) list = checked(list + e.AmountNanos);
            else if (e.Account.StartsWith("peering:", StringComparison.Ordinal)) peering = checked(peering - e.AmountNanos);
        }
        return new Money(billed, list, peering, margin);
    }

    private readonly record struct QuantityColumns(string? Consumed, string? ConsumedUnit, string? UnitPrice, string? Pricing, string? PricingUnit);

    /// <summary>
    /// Consumed quantity as metered; pricing quantity in the price's unit, as much as the list amount bills (so billing
    /// minimums show), with just enough decimals that ListUnitPrice x PricingQuantity gives ListCost to the nano.
    /// </summary>
    private static QuantityColumns Quantities(RatedUsage u, long listNanos)
    {
        decimal? consumed = decimal.TryParse(u.Quantity, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) ? q : null;
        var consumedUnit = FocusFormat.Unit(u.Unit);
        long? priceNanos = u.UnitPrice is { } p && p.CurrencyCode is "" or Currency ? checked(p.Units * NanosPerUnit + p.Nanos) : null;
        var pricingUnit = FocusFormat.Unit(u.PriceUnit);

        decimal? pricing = null;
        if (priceNanos > 0 && pricingUnit is not null) pricing = FromCost(listNanos, priceNanos.Value);
        else if (consumed is { } c && FocusFormat.UnitRatio(u.Unit, u.PriceUnit) is { } ratio && pricingUnit is not null) pricing = Math.Round(c * ratio, 12);
        if (pricing is null && consumed is not null)
        {
            // No price unit to count in: count in the consumed unit, with no unit price to multiply.
            pricing = consumed;
            pricingUnit = consumedUnit;
            priceNanos = null;
        }
        return new QuantityColumns(
            consumed is { } value && consumedUnit is not null ? FocusFormat.Decimal(value) : null,
            consumed is not null ? consumedUnit : null,
            priceNanos is { } price ? FocusFormat.Nanos(price) : null,
            pricing is { } amount && pricingUnit is not null ? FocusFormat.Decimal(amount) : null,
            pricing is not null ? pricingUnit : null);
    }

    /// <summary>
    /// list / price with the fewest decimals whose product with the price rounds to the list amount's nanos. Fewer than
    /// 9 + log10(price) decimals rarely do, so the search starts just below that.
    /// </summary>
    private static decimal FromCost(long listNanos, long priceNanos)
    {
        var list = listNanos / (decimal)NanosPerUnit;
        var price = priceNanos / (decimal)NanosPerUnit;
        var exact = list / price;
        var first = Math.Clamp(9 + (int)Math.Floor(Math.Log10((double)price)), 0, MaxQuantityDecimals);
        for (var decimals = first; decimals < MaxQuantityDecimals; decimals++)
        {
            var candidate = Math.Round(exact, decimals, MidpointRounding.AwayFromZero);
            if (Math.Round(candidate * price, 9, MidpointRounding.AwayFromZero) == list) return candidate;
        }
        return Math.Round(exact, MaxQuantityDecimals, MidpointRounding.AwayFromZero);
    }

    /// <summary>The usage's own span; a record without times is charged over the whole billing period.</summary>
    private static (DateTimeOffset Start, DateTimeOffset End) ChargePeriod(RatedUsage u, FocusScope scope)
    {
        var start = (u.UsageStart ?? u.UsageEnd)?.ToDateTimeOffset() ?? scope.PeriodStart;
        var end = (u.UsageEnd ?? u.UsageStart)?.ToDateTimeOffset() ?? scope.PeriodEnd;
        return end < start ? (end, start) : (start, end);
    }

    private static string Description(LedgerTransaction tx, RatedUsage u, string service, string provider, string? destination)
    {
        var what = u.Sku.Length > 0 ? $"{service} {u.Sku}" : service;
        if (u.Location is { Region.Length: > 0 } at) what += " in " + Place(at);
        else if (provider.Length > 0) what += " on " + provider;
        if (destination is not null) what += " to " + destination;
        if (tx.Corrects is { } corrected) return $"Correction of {corrected}: {what}";
        return u.AdjustsPeriodId.Length > 0 ? $"{what}, late usage of period {u.AdjustsPeriodId}" : what;
    }

    private static string SkuPriceId(string skuId, string? destination, long revision)
    {
        var id = destination is null ? skuId : skuId + ">" + destination;
        return revision > 0 ? id + "@" + revision.ToString(CultureInfo.InvariantCulture) : id;
    }

    private static string Place(Location l) => l.Region.Length > 0 ? l.Provider + "/" + l.Region : l.Provider;

    private static string? Text(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
