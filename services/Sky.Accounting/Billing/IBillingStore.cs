using Sky.Accounting.V1;
using Sky.Hosting.Events;

namespace Sky.Accounting.Billing;

/// <summary>
/// What a period close issues, written as one unit: the summary (which marks the close as done), the invoices, the
/// settlements, and the <c>billing.invoice.issued</c> events (journal entries and outbox entries).
/// </summary>
public sealed record PeriodIssue(CloseBillingPeriodResponse Summary, IReadOnlyList<Invoice> Invoices, IReadOnlyList<Settlement> Settlements,
    IReadOnlyList<BillingJournalEntry> Events);

/// <summary>A billing event for one tenant: its place in the tenant's stream and on the <c>billing</c> topic.</summary>
public sealed record BillingJournalEntry(string Tenant, StreamBillingResponse Event, PendingEvent Published);

/// <summary>Where a tenant's billing stream was read up to; opaque to callers.</summary>
public readonly record struct JournalCursor(string Position);

/// <summary>
/// Issued invoices and settlements, close summaries, and each tenant's billing journal: the events of
/// <c>Accounting.StreamBilling</c>, kept at least <see cref="JournalRetention"/>. Appends to the journal are also the
/// outbox of the <c>billing</c> topic: an entry and its pub/sub announcement are written together.
/// </summary>
public interface IBillingStore
{
    /// <summary>How long a journal entry is kept at least (the contract promises 24 hours).</summary>
    public static readonly TimeSpan JournalRetention = TimeSpan.FromHours(25);

    /// <summary>The summary of a closed period whose invoices are issued, or null.</summary>
    Task<CloseBillingPeriodResponse?> GetCloseAsync(string periodId, CancellationToken ct);

    /// <summary>Writes a close all or nothing; a second write of the same period changes nothing and returns no outbox ids.</summary>
    Task<IssueResult> IssueAsync(PeriodIssue issue, CancellationToken ct);

    /// <summary>An issued invoice with its lines, or null.</summary>
    Task<Invoice?> GetInvoiceAsync(string invoiceId, CancellationToken ct);

    /// <summary>Issued invoices without lines, newest period first (then by id), filtered when the filters are set.</summary>
    Task<IReadOnlyList<Invoice>> ListInvoicesAsync(string? tenant, string? periodId, CancellationToken ct);

    /// <summary>Settlements with their lines, newest period first (then by provider), filtered when the filters are set.</summary>
    Task<IReadOnlyList<Settlement>> ListSettlementsAsync(string? provider, string? periodId, CancellationToken ct);

    /// <summary>The ledger sequence up to which usage has been journalled.</summary>
    Task<long> UsageCheckpointAsync(CancellationToken ct);

    /// <summary>
    /// Appends usage events for the ledger postings after <paramref name="expected"/> up to <paramref name="next"/>, only if
    /// the checkpoint is still <paramref name="expected"/> (so two hosts never journal a posting twice); null when it is not.
    /// </summary>
    Task<IssueResult?> AppendUsageAsync(long expected, long next, IReadOnlyList<BillingJournalEntry> events, CancellationToken ct);

    /// <summary>The cursor just after the entry with this event id, or null when the tenant's journal no longer holds it.</summary>
    Task<JournalCursor?> FindAsync(string tenant, string eventId, CancellationToken ct);

    /// <summary>The cursor after the tenant's newest entry (where a stream "from now on" starts).</summary>
    Task<JournalCursor> EndAsync(string tenant, CancellationToken ct);

    /// <summary>Up to <paramref name="max"/> entries after <paramref name="after"/>, oldest first, and the cursor after them.</summary>
    Task<(IReadOnlyList<StreamBillingResponse> Events, JournalCursor Next)> ReadAsync(string tenant, JournalCursor after, int max, CancellationToken ct);
}

/// <summary>Outbox entry ids the write made (Redis), for <see cref="EventOutbox.DeliverAsync"/>; empty in memory.</summary>
public sealed record IssueResult(bool Written, IReadOnlyList<StackExchange.Redis.RedisValue> OutboxIds);
