namespace Sky.Accounting.Api;

/// <summary>
/// gRPC adapter of sky.accounting.v1.Accounting: thin mappings onto the domain classes, which hold the rules. Until an
/// RPC is overridden here the generated base answers UNIMPLEMENTED, so a client can tell "not built yet" from any real
/// outcome.
/// </summary>
public sealed partial class AccountingApi(Sky.Accounting.Peering.PeeringRegistry peering, Sky.Accounting.Usage.UsageRecords records,
    Sky.Accounting.Usage.UsageQueries usage, Sky.Accounting.Billing.BillingPeriods billing, Sky.Accounting.Billing.BillingStreams streams,
    Sky.Accounting.Focus.FocusExportRpc focus, Sky.Accounting.Quotes.QuoteQueries quotes)
    : Sky.Accounting.V1.Accounting.AccountingBase
{
}
