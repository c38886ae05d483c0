using Sky.Hosting.Errors;

namespace Sky.Hosting.Identity;

/// <summary>
/// The tenancy rules every service's handlers share: whom a request acts for, which tenants a listing covers, and
/// which records a caller may see (another tenant's is NOT_FOUND, so ids do not leak).
/// </summary>
public static class TenantScope
{
    /// <summary>
    /// The tenant a write is for: a tenant's own (<paramref name="requested"/> empty or its id; another id is
    /// PERMISSION_DENIED), or the one the operator names (INVALID_ARGUMENT on <paramref name="field"/> when none).
    /// <paramref name="action"/> says what is done, e.g. "plan or launch".
    /// </summary>
    public static string ActingFor(Principal caller, string requested, string field, string action)
    {
        if (caller.IsOperator)
            return requested.Length > 0 ? requested : throw RpcErrors.InvalidArgument(field, $"required: the operator must name the tenant to {action} for");
        if (requested.Length > 0 && requested != caller.Scope)
            throw RpcErrors.PermissionDenied($"{caller} may not {action} for tenant '{requested}'");
        return caller.Scope;
    }

    /// <summary>
    /// The tenant a listing covers: a tenant only its own (naming another is PERMISSION_DENIED); the operator the one
    /// it names, or every tenant (null). <paramref name="what"/> names the records, e.g. "jobs".
    /// </summary>
    public static string? Listing(Principal caller, string requested, string what)
    {
        if (caller.IsOperator) return requested.Length == 0 ? null : requested;
        if (requested.Length > 0 && requested != caller.Scope)
            throw RpcErrors.PermissionDenied($"{caller} may not list the {what} of tenant '{requested}'");
        return caller.Scope;
    }

    /// <summary>True when <paramref name="caller"/> may see a record of <paramref name="tenant"/>: its own, or any for the operator.</summary>
    public static bool Sees(Principal caller, string tenant) => caller.IsOperator || tenant == caller.Scope;
}
