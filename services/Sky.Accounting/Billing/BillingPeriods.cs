using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Billing;

/// <summary>
/// Closing periods, and reading invoices and settlements. A close first closes the period in the ledger (atomic with
/// postings: from then on usage for it is posted to the next period as an adjustment), then sums the frozen period
/// (<see cref="PeriodStatement"/>) and issues everything in one store write whose summary marks the close as done. A
/// close that died after the ledger step is finished by the next call (or by <see cref="BillingFeed"/> at start-up):
/// the frozen period gives the same invoices, with the same ids and the same event ids, so nothing is issued twice.
/// </summary>
public sealed class BillingPeriods(ILedger ledger, IBillingStore store, BillingCalendar calendar, UsageJournal journal,
    [FromKeyedServices("accounting")] EventOutbox outbox, TimeProvider time)
{
    public const string InvoiceIssuedType = "billing.invoice.issued";

    public async Task<CloseBillingPeriodResponse> CloseAsync(CloseBillingPeriodRequest request, CancellationToken ct)
    {
        var period = request.PeriodId.Length > 0 ? request.PeriodId : await OldestOpenAsync(ct);
        DateTimeOffset end;
        try { end = calendar.Bounds(period).End; }
        catch (ArgumentException e) { throw RpcErrors.InvalidArgument("period_id", e.Message); }
        if (await store.GetCloseAsync(period, ct) is { } done) return done;
        var closed = await ledger.ClosedAtAsync(ct);
        if (!closed.ContainsKey(period))
        {
            if (!request.Force && end > time.GetUtcNow())
                throw RpcErrors.FailedPrecondition("PERIOD_NOT_ENDED", period,
                    $"billing period {period} ends at {end:yyyy-MM-ddTHH:mm:ssZ}; close it after that, or with force (later usage then arrives as adjustments)");
            await ledger.ClosePeriodAsync(period, ct);
            closed = await ledger.ClosedAtAsync(ct);
        }
        return await IssueAsync(period, closed[period], ct);
    }

    /// <summary>Issues the invoices and settlements of a period the ledger has closed (again, harmlessly, if it was done).</summary>
    public async Task<CloseBillingPeriodResponse> IssueAsync(string period, DateTimeOffset closedAt, CancellationToken ct)
    {
        // Usage events first: a tenant's stream never shows an invoice before the usage it bills.
        await journal.CatchUpAsync(ct);
        var statement = await PeriodStatement.ReadAsync(ledger, period, ct);
        var proto = calendar.ToProto(period, closed: true, closedAt);
        var invoices = statement.Tenants.Order(StringComparer.Ordinal)
            .Select(t => statement.Invoice(t, proto, InvoiceStatus.Issued, closedAt)).ToList();
        var settlements = statement.Providers.Order(StringComparer.Ordinal)
            .Select(p => statement.Settlement(p, proto, closedAt)).ToList();
        var summary = new CloseBillingPeriodResponse
        {
            Period = proto,
            InvoicesIssued = invoices.Count,
            SettlementsIssued = settlements.Count,
            InvoicedTotal = PeriodStatement.Usd(statement.InvoicedNanos),
            SettledTotal = PeriodStatement.Usd(statement.SettledNanos),
            BrokerMargin = PeriodStatement.Usd(statement.MarginNanos),
        };
        var events = invoices.Select(i => InvoiceIssued(i, closedAt)).ToList();
        var write = await store.IssueAsync(new PeriodIssue(summary, invoices, settlements, events), ct);
        if (!write.Written) return await store.GetCloseAsync(period, ct) ?? summary;
        await outbox.DeliverAsync([.. events.Select(e => e.Published)], 0, write.OutboxIds);
        return summary;
    }

    /// <summary>Periods the ledger closed whose close did not finish (the process died in between).</summary>
    public async Task<IReadOnlyList<(string Period, DateTimeOffset ClosedAt)>> UnfinishedAsync(CancellationToken ct)
    {
        var unfinished = new List<(string, DateTimeOffset)>();
        foreach (var (period, at) in await ledger.ClosedAtAsync(ct))
            if (await store.GetCloseAsync(period, ct) is null) unfinished.Add((period, at));
        return unfinished;
    }

    public async Task<GetInvoiceResponse> GetInvoiceAsync(GetInvoiceRequest request, Principal caller, CancellationToken ct)
    {
        if (request.InvoiceId.Length == 0) throw RpcErrors.InvalidArgument("invoice_id", "required");
        // Another tenant's invoice is NOT_FOUND, exactly as a missing one: ids do not reveal what exists.
        if (InvoiceIds.Parse(request.InvoiceId, calendar) is not var (period, tenant) || !Reads(caller, tenant))
            throw RpcErrors.NotFound("invoice", request.InvoiceId);
        if (await store.GetInvoiceAsync(request.InvoiceId, ct) is { } issued) return new GetInvoiceResponse { Invoice = issued };
        if ((await ledger.ClosedPeriodsAsync(ct)).Contains(period)) throw RpcErrors.NotFound("invoice", request.InvoiceId);
        var statement = await PeriodStatement.ReadAsync(ledger, period, ct, tenant);
        if (statement.Transactions == 0 && !await KnownPeriodAsync(period, ct)) throw RpcErrors.NotFound("invoice", request.InvoiceId);
        return new GetInvoiceResponse { Invoice = statement.Invoice(tenant, calendar.ToProto(period, closed: false), InvoiceStatus.Draft, null) };
    }

    public async Task<ListInvoicesResponse> ListInvoicesAsync(ListInvoicesRequest request, Principal caller, CancellationToken ct)
    {
        var tenant = ScopeTenant(request.TenantId, caller);
        string? period = request.PeriodId.Length == 0 ? null : request.PeriodId;
        if (period is not null) Check(period, "period_id");
        var invoices = new List<Invoice>();
        // Drafts of the open periods (newest first), then the issued invoices.
        var closed = await ledger.ClosedPeriodsAsync(ct);
        foreach (var open in (await OpenPeriodsAsync(ct)).Where(p => period is null || p == period).Reverse())
        {
            var statement = await PeriodStatement.ReadAsync(ledger, open, ct, tenant);
            foreach (var t in statement.Tenants.Order(StringComparer.Ordinal))
                invoices.Add(statement.Invoice(t, calendar.ToProto(open, closed: false), InvoiceStatus.Draft, null));
        }
        invoices.AddRange(await store.ListInvoicesAsync(tenant, period, ct));
        foreach (var i in invoices) i.Lines.Clear();
        var (page, next) = Pages.Slice(invoices.OrderByDescending(i => i.Period.PeriodId, StringComparer.Ordinal).ToList(), request.Page);
        return new ListInvoicesResponse { Invoices = { page }, Page = new PageResponse { NextPageToken = next } };
    }

    public async Task<ListSettlementsResponse> ListSettlementsAsync(ListSettlementsRequest request, Principal caller, CancellationToken ct)
    {
        string? provider = request.Provider.Length == 0 ? null : request.Provider;
        if (caller.Kind == PrincipalKind.Provider)
        {
            if (provider is not null && provider != caller.Scope)
                throw RpcErrors.PermissionDenied($"{caller} may not read the settlements of provider '{provider}'");
            provider = caller.Scope;
        }
        else if (caller.Kind == PrincipalKind.Tenant)
            throw RpcErrors.PermissionDenied($"{caller} may not read settlements");
        string? period = request.PeriodId.Length == 0 ? null : request.PeriodId;
        if (period is not null) Check(period, "period_id");
        var (page, next) = Pages.Slice(await store.ListSettlementsAsync(provider, period, ct), request.Page);
        return new ListSettlementsResponse { Settlements = { page }, Page = new PageResponse { NextPageToken = next } };
    }

    /// <summary>The tenant a list is scoped to: a tenant's own id whatever it asked for (another's is PERMISSION_DENIED).</summary>
    internal static string? ScopeTenant(string requested, Principal caller)
    {
        string? tenant = requested.Length == 0 ? null : requested;
        if (caller.Kind == PrincipalKind.Tenant)
        {
            if (tenant is not null && tenant != caller.Scope)
                throw RpcErrors.PermissionDenied($"{caller} may not read the billing of tenant '{tenant}'");
            return caller.Scope;
        }
        if (caller.Kind == PrincipalKind.Provider) throw RpcErrors.PermissionDenied($"{caller} may not read tenants' invoices");
        return tenant;
    }

    private static bool Reads(Principal caller, string tenant) => caller.IsOperator || (caller.Kind == PrincipalKind.Tenant && caller.Scope == tenant);

    private void Check(string period, string field)
    {
        try { calendar.Bounds(period); }
        catch (ArgumentException e) { throw RpcErrors.InvalidArgument(field, e.Message); }
    }

    /// <summary>The oldest period with postings that is not closed; the current period when every one is.</summary>
    private async Task<string> OldestOpenAsync(CancellationToken ct) =>
        (await OpenPeriodsAsync(ct)).FirstOrDefault() ?? calendar.PeriodOf(time.GetUtcNow());

    /// <summary>Periods with postings that are not closed, oldest first; always includes the current period.</summary>
    private async Task<IReadOnlyList<string>> OpenPeriodsAsync(CancellationToken ct)
    {
        var closed = await ledger.ClosedPeriodsAsync(ct);
        var now = calendar.PeriodOf(time.GetUtcNow());
        return (await ledger.PeriodsAsync(ct)).Append(now).Where(p => !closed.Contains(p)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private async Task<bool> KnownPeriodAsync(string period, CancellationToken ct) =>
        period == calendar.PeriodOf(time.GetUtcNow()) || (await ledger.PeriodsAsync(ct)).Contains(period);

    private BillingJournalEntry InvoiceIssued(Invoice invoice, DateTimeOffset at)
    {
        var id = "billing-invoice-" + invoice.InvoiceId;
        var data = new BillingInvoiceIssued { TenantId = invoice.TenantId, Invoice = invoice, Time = Timestamp.FromDateTimeOffset(at) };
        var published = outbox.Prepare(Topics.Billing, InvoiceIssuedType, data, invoice.TenantId);
        published = published with { Event = published.Event with { Id = id, Time = at } };
        var streamed = new StreamBillingResponse { EventId = id, Type = InvoiceIssuedType, Time = data.Time, InvoiceIssued = invoice };
        return new BillingJournalEntry(invoice.TenantId, streamed, published);
    }
}

/// <summary>Offset page tokens over a list the store returns whole (invoices and settlements are few per tenant or provider).</summary>
internal static class Pages
{
    public const int DefaultSize = 100, MaxSize = 1000;

    public static (IEnumerable<T> Page, string Next) Slice<T>(IReadOnlyList<T> all, PageRequest? request)
    {
        var size = request?.PageSize ?? 0;
        if (size is < 0 or > MaxSize) throw RpcErrors.InvalidArgument("page.page_size", $"0 to {MaxSize}");
        if (size == 0) size = DefaultSize;
        var from = 0;
        if (request?.PageToken is { Length: > 0 } token && (!int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out from) || from > all.Count))
            throw RpcErrors.InvalidArgument("page.page_token", "not a page token this service issued");
        var next = from + size < all.Count ? (from + size).ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        return (all.Skip(from).Take(size), next);
    }
}
