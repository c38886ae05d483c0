using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;

namespace Sky.Accounting.Focus;

/// <summary>
/// What one export covers: a tenant (its FOCUS BillingAccountId) and one billing period, with the period's bounds and,
/// when the invoice is known, its id for the InvoiceId column.
/// </summary>
public sealed record FocusScope
{
    public required string TenantId { get; init; }
    public required string PeriodId { get; init; }
    public required DateTimeOffset PeriodStart
    {
        get;
        init { field = value; PeriodStartText = FocusFormat.Start(value); }
    }

    public required DateTimeOffset PeriodEnd
    {
        get;
        init { field = value; PeriodEndText = FocusFormat.End(value); }
    }

    /// <summary>BillingPeriodStart as written: the same on every row, so formatted once.</summary>
    public string PeriodStartText { get; private init; } = "";

    /// <summary>BillingPeriodEnd as written.</summary>
    public string PeriodEndText { get; private init; } = "";

    /// <summary>The tenant's invoice (or draft) for the period; null leaves InvoiceId empty.</summary>
    public string? InvoiceId { get; init; }

    /// <summary>The ledger account whose movement the export's BilledCost column adds up to (with the sign flipped).</summary>
    public string TenantAccount => LedgerAccounts.Tenant(TenantId);

    /// <exception cref="ArgumentException">The tenant or period is not valid; <see cref="Problem"/> says which and why.</exception>
    public static FocusScope Create(string tenantId, string periodId, BillingCalendar calendar, string? invoiceId = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        if (Problem(tenantId, periodId, calendar) is { } problem) throw new ArgumentException(problem.Description, problem.Field);
        var (start, end) = calendar.Bounds(periodId);
        return new FocusScope { TenantId = tenantId, PeriodId = periodId, PeriodStart = start, PeriodEnd = end, InvoiceId = string.IsNullOrEmpty(invoiceId) ? null : invoiceId };
    }

    /// <summary>What is wrong with a tenant and period (field "tenant_id" or "period_id", as the contract names them), or null.</summary>
    public static (string Field, string Description)? Problem(string? tenantId, string? periodId, BillingCalendar calendar)
    {
        if (string.IsNullOrEmpty(tenantId)) return ("tenant_id", "required");
        if (tenantId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return ("tenant_id", $"'{tenantId}' contains white space or control characters");
        if (string.IsNullOrEmpty(periodId)) return ("period_id", "required");
        try { calendar.Bounds(periodId); }
        catch (ArgumentException)
        {
            var format = calendar.Length == PeriodLength.Monthly ? "YYYY-MM" : "YYYY-MM-DD";
            return ("period_id", $"'{periodId}' is not a {calendar.Length.ToString().ToLowerInvariant()} billing period ({format})");
        }
        return null;
    }
}
