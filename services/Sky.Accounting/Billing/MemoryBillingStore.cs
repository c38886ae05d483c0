using Sky.Accounting.V1;

namespace Sky.Accounting.Billing;

/// <summary>The billing store in this process (the embedded default): one lock around maps and per-tenant journals.</summary>
public sealed class MemoryBillingStore(TimeProvider time) : IBillingStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CloseBillingPeriodResponse> _closes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Invoice> _invoices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Settlement> _settlements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Journal> _journals = new(StringComparer.Ordinal);
    private long _checkpoint;

    public Task<CloseBillingPeriodResponse?> GetCloseAsync(string periodId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_closes.GetValueOrDefault(periodId)?.Clone());
    }

    public Task<IssueResult> IssueAsync(PeriodIssue issue, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_closes.TryAdd(issue.Summary.Period.PeriodId, issue.Summary.Clone())) return Task.FromResult(new IssueResult(false, []));
            foreach (var invoice in issue.Invoices) _invoices[invoice.InvoiceId] = invoice.Clone();
            foreach (var settlement in issue.Settlements) _settlements[settlement.SettlementId] = settlement.Clone();
            Append(issue.Events);
        }
        return Task.FromResult(new IssueResult(true, []));
    }

    public Task<Invoice?> GetInvoiceAsync(string invoiceId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_invoices.GetValueOrDefault(invoiceId)?.Clone());
    }

    public Task<IReadOnlyList<Invoice>> ListInvoicesAsync(string? tenant, string? periodId, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<Invoice>>(_invoices.Values
                .Where(i => (tenant is null || i.TenantId == tenant) && (periodId is null || i.Period.PeriodId == periodId))
                .OrderByDescending(i => i.Period.PeriodId, StringComparer.Ordinal).ThenBy(i => i.InvoiceId, StringComparer.Ordinal)
                .Select(Header).ToList());
    }

    public Task<IReadOnlyList<Settlement>> ListSettlementsAsync(string? provider, string? periodId, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<Settlement>>(_settlements.Values
                .Where(s => (provider is null || s.Provider == provider) && (periodId is null || s.Period.PeriodId == periodId))
                .OrderByDescending(s => s.Period.PeriodId, StringComparer.Ordinal).ThenBy(s => s.Provider, StringComparer.Ordinal)
                .Select(s => s.Clone()).ToList());
    }

    public Task<long> UsageCheckpointAsync(CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_checkpoint);
    }

    public Task<IssueResult?> AppendUsageAsync(long expected, long next, IReadOnlyList<BillingJournalEntry> events, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_checkpoint != expected) return Task.FromResult<IssueResult?>(null);
            _checkpoint = next;
            Append(events);
        }
        return Task.FromResult<IssueResult?>(new IssueResult(true, []));
    }

    public Task<JournalCursor?> FindAsync(string tenant, string eventId, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_journals.TryGetValue(tenant, out var journal)) return Task.FromResult<JournalCursor?>(null);
            var at = journal.Entries.FindIndex(e => e.EventId == eventId);
            return Task.FromResult<JournalCursor?>(at < 0 ? null : Cursor(journal.Trimmed + at + 1));
        }
    }

    public Task<JournalCursor> EndAsync(string tenant, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult(Cursor(_journals.TryGetValue(tenant, out var j) ? j.Trimmed + j.Entries.Count : 0));
    }

    public Task<(IReadOnlyList<StreamBillingResponse> Events, JournalCursor Next)> ReadAsync(string tenant, JournalCursor after, int max, CancellationToken ct)
    {
        var from = long.Parse(after.Position, System.Globalization.CultureInfo.InvariantCulture);
        lock (_gate)
        {
            if (!_journals.TryGetValue(tenant, out var journal)) return Task.FromResult<(IReadOnlyList<StreamBillingResponse>, JournalCursor)>(([], after));
            var start = (int)Math.Max(0, from - journal.Trimmed);
            var events = journal.Entries.Skip(start).Take(max).Select(e => e.Clone()).ToList();
            return Task.FromResult<(IReadOnlyList<StreamBillingResponse>, JournalCursor)>((events, Cursor(journal.Trimmed + start + events.Count)));
        }
    }

    private void Append(IReadOnlyList<BillingJournalEntry> events)
    {
        var cutoff = time.GetUtcNow() - IBillingStore.JournalRetention;
        foreach (var e in events)
        {
            if (!_journals.TryGetValue(e.Tenant, out var journal)) _journals[e.Tenant] = journal = new Journal();
            journal.Entries.Add(e.Event.Clone());
            var old = 0;
            while (old < journal.Entries.Count - 1 && journal.Entries[old].Time.ToDateTimeOffset() < cutoff) old++;
            if (old > 0)
            {
                journal.Entries.RemoveRange(0, old);
                journal.Trimmed += old;
            }
        }
    }

    private static JournalCursor Cursor(long position) => new(position.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Invoice Header(Invoice invoice)
    {
        var header = invoice.Clone();
        header.Lines.Clear();
        return header;
    }

    private sealed class Journal
    {
        public List<StreamBillingResponse> Entries { get; } = [];
        public long Trimmed { get; set; }
    }
}
