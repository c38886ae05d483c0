using System.Buffers.Text;
using System.Text;

namespace Sky.Accounting.Billing;

/// <summary>
/// Invoice ids: "inv-" + period + "-" + the tenant id in base64url. An id names its period and tenant, so the open
/// period's draft has an id before anything is stored, the issued invoice keeps it, and GetInvoice can tell whose an id
/// is (and answer NOT_FOUND for another tenant's) without a lookup.
/// </summary>
public static class InvoiceIds
{
    private const string Prefix = "inv-";

    public static string For(string periodId, string tenant) => Prefix + periodId + "-" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(tenant));

    /// <summary>The period and tenant an id names, or null when it is not an invoice id of this calendar.</summary>
    public static (string PeriodId, string Tenant)? Parse(string id, BillingCalendar calendar) => BillingIdCodec.Parse(Prefix, id, calendar);
}

/// <summary>Settlement ids: "stl-" + period + "-" + the provider name in base64url (same scheme as <see cref="InvoiceIds"/>).</summary>
public static class SettlementIds
{
    private const string Prefix = "stl-";

    public static string For(string periodId, string provider) => Prefix + periodId + "-" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(provider));

    public static (string PeriodId, string Provider)? Parse(string id, BillingCalendar calendar) => BillingIdCodec.Parse(Prefix, id, calendar);
}

internal static class BillingIdCodec
{
    public static (string, string)? Parse(string prefix, string id, BillingCalendar calendar)
    {
        var length = calendar.Length == PeriodLength.Monthly ? 7 : 10;
        if (id.Length < prefix.Length + length + 2 || !id.StartsWith(prefix, StringComparison.Ordinal) || id[prefix.Length + length] != '-') return null;
        var period = id.Substring(prefix.Length, length);
        try
        {
            calendar.Bounds(period);
            var name = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(id.AsSpan(prefix.Length + length + 1)));
            return name.Length == 0 ? null : (period, name);
        }
        catch (Exception e) when (e is ArgumentException or FormatException) { return null; }
    }
}
