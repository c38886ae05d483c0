namespace Sky.Accounting.Focus;

/// <summary>
/// The columns of a Sky.Mesh FOCUS 1.2 file, in the order written: the FOCUS columns alphabetically (as the
/// specification lists them), then the custom <c>x_</c> columns.
///
/// Every Mandatory column is here. Of the Conditional ones, those whose condition the broker meets: regions and zones,
/// unit prices and SKUs (public price lists), consumed quantities (usage is measured), resources (jobs and transfers).
/// Left out because their condition does not hold: BillingAccountType and SubAccountType (one kind of account),
/// SubAccountId/Name (tenants have no sub-accounts), CommitmentDiscount* and CapacityReservation* (none sold),
/// ContractedUnitPrice (the only negotiated reduction, a peering discount, is per transfer, not a unit price),
/// PricingCurrency* (prices and bills are both USD), Tags (no tagging), SkuPriceDetails (no published price details)
/// and PricingCategory (the rated usage does not record whether a price was on-demand or spot). ResourceName is present
/// but empty: jobs and transfers have generated ids only, and FOCUS forbids repeating the id as the name.
/// </summary>
public static class FocusColumns
{
    /// <summary>Custom columns carry this prefix, as FOCUS requires.</summary>
    public const string CustomPrefix = "x_";

    /// <summary>Each column's name and its value in a row.</summary>
    public static IReadOnlyList<(string Name, Func<FocusRow, string?> Value)> All { get; } =
    [
        ("AvailabilityZone", r => r.AvailabilityZone),
        ("BilledCost", r => r.BilledCost),
        ("BillingAccountId", r => r.BillingAccountId),
        ("BillingAccountName", _ => null),
        ("BillingCurrency", r => r.BillingCurrency),
        ("BillingPeriodEnd", r => r.BillingPeriodEnd),
        ("BillingPeriodStart", r => r.BillingPeriodStart),
        ("ChargeCategory", r => r.ChargeCategory),
        ("ChargeClass", r => r.ChargeClass),
        ("ChargeDescription", r => r.ChargeDescription),
        ("ChargeFrequency", r => r.ChargeFrequency),
        ("ChargePeriodEnd", r => r.ChargePeriodEnd),
        ("ChargePeriodStart", r => r.ChargePeriodStart),
        ("ConsumedQuantity", r => r.ConsumedQuantity),
        ("ConsumedUnit", r => r.ConsumedUnit),
        ("ContractedCost", r => r.ContractedCost),
        ("EffectiveCost", r => r.EffectiveCost),
        ("InvoiceId", r => r.InvoiceId),
        ("InvoiceIssuerName", r => r.InvoiceIssuerName),
        ("ListCost", r => r.ListCost),
        ("ListUnitPrice", r => r.ListUnitPrice),
        ("PricingQuantity", r => r.PricingQuantity),
        ("PricingUnit", r => r.PricingUnit),
        ("ProviderName", r => r.ProviderName),
        ("PublisherName", r => r.PublisherName),
        ("RegionId", r => r.RegionId),
        ("RegionName", r => r.RegionName),
        ("ResourceId", r => r.ResourceId),
        ("ResourceName", _ => null),
        ("ResourceType", r => r.ResourceType),
        ("ServiceCategory", r => r.ServiceCategory),
        ("ServiceName", r => r.ServiceName),
        ("ServiceSubcategory", r => r.ServiceSubcategory),
        ("SkuId", r => r.SkuId),
        ("SkuMeter", r => r.SkuMeter),
        ("SkuPriceId", r => r.SkuPriceId),
        ("x_UsageId", r => r.UsageId),
        ("x_IdempotencyKey", r => r.IdempotencyKey),
        ("x_Corrects", r => r.Corrects),
        ("x_AdjustsPeriodId", r => r.AdjustsPeriodId),
        ("x_PeeringAgreementId", r => r.PeeringAgreementId),
        ("x_PeeringDiscount", r => r.PeeringDiscount),
        ("x_BrokerMargin", r => r.BrokerMargin),
        ("x_QuoteId", r => r.QuoteId),
        ("x_PriceBookRevision", r => r.PriceBookRevision),
        ("x_Destination", r => r.Destination),
    ];
}
