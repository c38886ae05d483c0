using Sky.Common.V1;

namespace Sky.Hosting.Identity;

/// <summary>Who is calling: the operator, a provider (scoped to its provider name) or a tenant (scoped to its tenant id).</summary>
public sealed record Principal(PrincipalKind Kind, string Scope, string KeyId)
{
    public bool IsOperator => Kind == PrincipalKind.Operator;

    /// <summary>True when this principal may act for <paramref name="provider"/>: the operator, or that provider itself.</summary>
    public bool ActsForProvider(string provider) =>
        IsOperator || (Kind == PrincipalKind.Provider && string.Equals(Scope, provider, StringComparison.Ordinal));

    /// <summary>True when this principal may act for <paramref name="tenant"/>: the operator, or that tenant itself.</summary>
    public bool ActsForTenant(string tenant) =>
        IsOperator || (Kind == PrincipalKind.Tenant && string.Equals(Scope, tenant, StringComparison.Ordinal));

    public override string ToString() => IsOperator ? "operator" : $"{Describe(Kind)} '{Scope}'";

    public static string Describe(PrincipalKind kind) => kind switch
    {
        PrincipalKind.Operator => "operator",
        PrincipalKind.Provider => "provider",
        PrincipalKind.Tenant => "tenant",
        _ => "unknown",
    };
}
