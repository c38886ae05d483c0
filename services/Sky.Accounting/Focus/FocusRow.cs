namespace Sky.Accounting.Focus;

/// <summary>
/// One row of a FOCUS file, every value already in its written form; null is an empty field. The column each property
/// goes to, and the order, are in <see cref="FocusColumns"/>.
/// </summary>
public sealed class FocusRow
{
    public string? AvailabilityZone { get; init; }
    public required string BilledCost { get; init; }
    public required string BillingAccountId { get; init; }
    public required string BillingCurrency { get; init; }
    public required string BillingPeriodEnd { get; init; }
    public required string BillingPeriodStart { get; init; }
    public required string ChargeCategory { get; init; }
    public string? ChargeClass { get; init; }
    public string? ChargeDescription { get; init; }
    public required string ChargeFrequency { get; init; }
    public required string ChargePeriodEnd { get; init; }
    public required string ChargePeriodStart { get; init; }
    public string? ConsumedQuantity { get; init; }
    public string? ConsumedUnit { get; init; }
    public required string ContractedCost { get; init; }
    public required string EffectiveCost { get; init; }
    public string? InvoiceId { get; init; }
    public required string InvoiceIssuerName { get; init; }
    public required string ListCost { get; init; }
    public string? ListUnitPrice { get; init; }
    public string? PricingQuantity { get; init; }
    public string? PricingUnit { get; init; }
    public required string ProviderName { get; init; }
    public required string PublisherName { get; init; }
    public string? RegionId { get; init; }
    public string? RegionName { get; init; }
    public string? ResourceId { get; init; }
    public string? ResourceType { get; init; }
    public required string ServiceCategory { get; init; }
    public required string ServiceName { get; init; }
    public required string ServiceSubcategory { get; init; }
    public string? SkuId { get; init; }
    public string? SkuMeter { get; init; }
    public string? SkuPriceId { get; init; }

    /// <summary>The ledger transaction id (tx-...): one row per transaction.</summary>
    public required string UsageId { get; init; }
    public required string IdempotencyKey { get; init; }
    /// <summary>The transaction this row corrects; null for a charge.</summary>
    public string? Corrects { get; init; }
    /// <summary>For late usage: the closed period it belongs to.</summary>
    public string? AdjustsPeriodId { get; init; }
    public string? PeeringAgreementId { get; init; }
    public required string PeeringDiscount { get; init; }
    public required string BrokerMargin { get; init; }
    public string? QuoteId { get; init; }
    public string? PriceBookRevision { get; init; }
    /// <summary>For egress: where the data went, "provider/region".</summary>
    public string? Destination { get; init; }

    /// <summary>BilledCost in nanos, for totals (not a column of its own).</summary>
    public long BilledCostNanos { get; init; }
}
