namespace Sky.Accounting.Focus;

/// <summary>
/// What a FOCUS export says about the parties. The broker issues the invoice; each cloud is both the provider that sold
/// the usage and its publisher, named for finance teams ("AWS", not "aws").
/// </summary>
public sealed record FocusOptions
{
    /// <summary>InvoiceIssuerName on every row: the broker that bills the tenant.</summary>
    public string InvoiceIssuerName { get; init; } = "Sky.Mesh";

    /// <summary>
    /// ProviderName and PublisherName per provider id (lower case, as in a Location). A provider not listed is named by
    /// its id.
    /// </summary>
    public IReadOnlyDictionary<string, string> ProviderNames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["aws"] = "AWS",
        ["gcp"] = "Google Cloud",
        ["azure"] = "Microsoft",
        ["lambda"] = "Lambda",
        ["local"] = "Local",
    };

    /// <exception cref="ArgumentException">The issuer name is empty, or a provider's name is.</exception>
    public FocusOptions Validated()
    {
        if (string.IsNullOrWhiteSpace(InvoiceIssuerName)) throw new ArgumentException("InvoiceIssuerName must not be empty", nameof(InvoiceIssuerName));
        ArgumentNullException.ThrowIfNull(ProviderNames);
        foreach (var (id, name) in ProviderNames)
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"provider '{id}' has an empty display name", nameof(ProviderNames));
        return this;
    }

    /// <summary>The display name of a provider id.</summary>
    public string ProviderName(string provider) => ProviderNames.TryGetValue(provider, out var name) ? name : provider;
}
