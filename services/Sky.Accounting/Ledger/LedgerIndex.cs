using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sky.Accounting.Ledger;

/// <summary>
/// The indexes both stores keep, each an append-only list of transaction ids in posting order: all, per period, per
/// tenant, per tenant and period, per provider, per provider and period, per quote, per subject. Nothing is ever removed,
/// so a position in an index names the same transaction for good, and pages can continue from a position. A query walks
/// the narrowest index its filters name, newest first, and checks the remaining filters on each transaction. Index
/// names are also Redis key suffixes, so the parts are escaped (':' and '%') and no two indexes share a name.
/// </summary>
internal static class LedgerIndex
{
    public const string All = "all";

    public static string Period(string periodId) => "period:" + Part(periodId);

    /// <summary>The indexes a stored transaction belongs to.</summary>
    public static List<string> Of(LedgerTransaction tx)
    {
        var u = tx.Usage;
        var names = new List<string>(8) { All, Period(tx.PeriodId) };
        if (u.TenantId.Length > 0) { names.Add(Tenant(u.TenantId)); names.Add(TenantPeriod(u.TenantId, tx.PeriodId)); }
        if (u.Provider.Length > 0) { names.Add(Provider(u.Provider)); names.Add(ProviderPeriod(u.Provider, tx.PeriodId)); }
        if (u.QuoteId.Length > 0) names.Add("quote:" + Part(u.QuoteId));
        if (u.SubjectId.Length > 0) names.Add("subject:" + Part(u.SubjectId));
        return names;
    }

    /// <summary>The narrowest index that holds every match of the query.</summary>
    public static string For(LedgerQuery q)
    {
        if (Set(q.QuoteId)) return "quote:" + Part(q.QuoteId!);
        if (Set(q.SubjectId)) return "subject:" + Part(q.SubjectId!);
        if (Set(q.TenantId) && Set(q.PeriodId)) return TenantPeriod(q.TenantId!, q.PeriodId!);
        if (Set(q.Provider) && Set(q.PeriodId)) return ProviderPeriod(q.Provider!, q.PeriodId!);
        if (Set(q.TenantId)) return Tenant(q.TenantId!);
        if (Set(q.Provider)) return Provider(q.Provider!);
        if (Set(q.PeriodId)) return Period(q.PeriodId!);
        return All;
    }

    /// <summary>True when the transaction passes every filter of the query.</summary>
    public static bool Matches(LedgerQuery q, LedgerTransaction tx)
    {
        var u = tx.Usage;
        if (Set(q.TenantId) && u.TenantId != q.TenantId) return false;
        if (Set(q.Provider) && u.Provider != q.Provider) return false;
        if (Set(q.PeriodId) && tx.PeriodId != q.PeriodId) return false;
        if (Set(q.QuoteId) && u.QuoteId != q.QuoteId) return false;
        if (Set(q.SubjectId) && u.SubjectId != q.SubjectId) return false;
        if (q.UsageEndFrom is not null || q.UsageEndBefore is not null)
        {
            if (u.UsageEnd is null) return false;
            var end = u.UsageEnd.ToDateTimeOffset();
            if (end < q.UsageEndFrom || end >= q.UsageEndBefore) return false;
        }
        return true;
    }

    /// <summary>The page size a query asks for, checked.</summary>
    public static int PageSize(LedgerQuery q) => q.PageSize switch
    {
        0 => LedgerQuery.DefaultPageSize,
        >= 1 and <= LedgerQuery.MaxPageSize => q.PageSize,
        _ => throw new ArgumentException($"page size {q.PageSize} is not between 1 and {LedgerQuery.MaxPageSize} (0 for the default)", nameof(q.PageSize)),
    };

    private static bool Set(string? value) => !string.IsNullOrEmpty(value);

    private static string Tenant(string tenant) => "tenant:" + Part(tenant);
    private static string TenantPeriod(string tenant, string period) => "tenant-period:" + Part(tenant) + ":" + Part(period);
    private static string Provider(string provider) => "provider:" + Part(provider);
    private static string ProviderPeriod(string provider, string period) => "provider-period:" + Part(provider) + ":" + Part(period);

    private static string Part(string value) =>
        value.AsSpan().IndexOfAny(':', '%') < 0 ? value : value.Replace("%", "%25", StringComparison.Ordinal).Replace(":", "%3A", StringComparison.Ordinal);
}

/// <summary>
/// Page tokens of <see cref="ILedger.QueryAsync"/>: the position in the query's index to continue below, bound to the
/// filters they were issued for (a hash of them), so a token is not used with another query by mistake.
/// </summary>
internal static class LedgerPageToken
{
    private const string Version = "l1";

    public static string Issue(LedgerQuery q, long beforePosition) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}:{Binding(q)}:{beforePosition.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>The index position the page starts below; null for the first page (start at the newest).</summary>
    public static long? Decode(LedgerQuery q)
    {
        if (string.IsNullOrEmpty(q.PageToken)) return null;
        string text;
        try { text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(q.PageToken)); }
        catch (FormatException) { throw NotIssued(); }
        var parts = text.Split(':');
        if (parts.Length != 3 || parts[0] != Version || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var before))
            throw NotIssued();
        if (parts[1] != Binding(q))
            throw new ArgumentException("the page token was issued for different filters", nameof(q.PageToken));
        return before;
    }

    private static string Binding(LedgerQuery q)
    {
        var text = string.Join('\0', q.TenantId, q.Provider, q.PeriodId, q.QuoteId, q.SubjectId,
            q.UsageEndFrom?.UtcTicks.ToString(CultureInfo.InvariantCulture), q.UsageEndBefore?.UtcTicks.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }

    private static ArgumentException NotIssued() => new("not a page token this ledger issued", nameof(LedgerQuery.PageToken));
}
