namespace Sky.Accounting.Ledger;

/// <summary>
/// Names of the ledger's accounts. The tenant's receivable is what the tenant owes the broker, the provider's payable
/// what the broker owes the cloud, the margin the broker's revenue, and a peering account what one peer owes the other
/// under an agreement. Any other non-empty name is accepted too; these are the ones the broker posts to.
/// </summary>
public static class LedgerAccounts
{
    public const string BrokerMargin = "broker:margin";

    public static string Tenant(string tenant) => $"tenant:{Require(tenant, nameof(tenant))}:receivable";

    public static string Provider(string provider) => $"provider:{Require(provider, nameof(provider))}:payable";

    public static string Peering(string agreementId, string provider) =>
        $"peering:{Require(agreementId, nameof(agreementId))}:{Require(provider, nameof(provider))}";

    private static string Require(string value, string name) =>
        string.IsNullOrEmpty(value) ? throw new ArgumentException("an account needs a non-empty " + name, name) : value;
}
