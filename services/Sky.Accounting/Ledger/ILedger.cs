namespace Sky.Accounting.Ledger;

/// <summary>
/// The broker's double-entry ledger: balanced transactions posted once per idempotency key, never changed afterwards,
/// indexed by the usage they record. <see cref="MemoryLedger"/> lives in the process; <see cref="RedisLedger"/> is
/// shared by every host on the same Redis and survives restarts.
/// </summary>
public interface ILedger
{
    /// <summary>
    /// Posts each transaction atomically, in order, and returns one result per transaction in the same order. A key
    /// already posted (or earlier in the batch) is <see cref="PostOutcome.Duplicate"/>; a transaction for a closed period
    /// is <see cref="PostOutcome.PeriodClosed"/>; neither writes anything. The whole batch is checked first: a malformed
    /// or unbalanced transaction, or a correction of a transaction not posted by an earlier call, throws
    /// <see cref="InvalidTransactionException"/> and nothing of the batch is written.
    /// </summary>
    Task<IReadOnlyList<PostResult>> PostAsync(IReadOnlyList<LedgerTransaction> transactions, CancellationToken ct);

    /// <summary>A posted transaction, or null.</summary>
    Task<LedgerTransaction?> GetAsync(string transactionId, CancellationToken ct);

    /// <summary>Transactions matching every filter set in <paramref name="query"/>, newest first, one page at a time.</summary>
    Task<LedgerPage> QueryAsync(LedgerQuery query, CancellationToken ct);

    /// <summary>Every transaction of a period in posting order, read in pages (never the whole period in memory).</summary>
    IAsyncEnumerable<LedgerTransaction> ReadPeriodAsync(string periodId, CancellationToken ct);

    /// <summary>
    /// Every posted transaction with a <see cref="LedgerTransaction.Sequence"/> above <paramref name="afterSequence"/>, in
    /// posting order, read in pages; what is posted while reading is included. The ledger is its own outbox: a reader that
    /// keeps the last sequence it handled sees every posting exactly once in order, whatever crashed in between.
    /// </summary>
    IAsyncEnumerable<LedgerTransaction> ReadFromAsync(long afterSequence, CancellationToken ct);

    /// <summary>Every period that has a posting or has been closed, in ascending order.</summary>
    Task<IReadOnlyList<string>> PeriodsAsync(CancellationToken ct);

    /// <summary>When each closed period was closed.</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> ClosedAtAsync(CancellationToken ct);

    /// <summary>The balance of every account that has had an entry: the sum of its entries.</summary>
    Task<IReadOnlyDictionary<string, long>> BalancesAsync(CancellationToken ct);

    /// <summary>
    /// Closes a period; true the first time, false if it was closed already. Atomic with respect to
    /// <see cref="PostAsync"/>: a posting racing the close is either in the period before it closes or gets
    /// <see cref="PostOutcome.PeriodClosed"/>.
    /// </summary>
    Task<bool> ClosePeriodAsync(string periodId, CancellationToken ct);

    /// <summary>Every closed period.</summary>
    Task<IReadOnlySet<string>> ClosedPeriodsAsync(CancellationToken ct);
}

/// <summary>
/// Filters (each optional, all must match) on the usage a transaction records, and paging. Newest first.
/// </summary>
public sealed record LedgerQuery
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>Only this tenant's usage (<c>RatedUsage.tenant_id</c>).</summary>
    public string? TenantId { get; init; }

    /// <summary>Only this provider's usage.</summary>
    public string? Provider { get; init; }

    /// <summary>Only transactions posted to this period.</summary>
    public string? PeriodId { get; init; }

    /// <summary>Only usage priced under this quote.</summary>
    public string? QuoteId { get; init; }

    /// <summary>Only usage of this job or transfer.</summary>
    public string? SubjectId { get; init; }

    /// <summary>Only usage ending at or after this time.</summary>
    public DateTimeOffset? UsageEndFrom { get; init; }

    /// <summary>Only usage ending before this time.</summary>
    public DateTimeOffset? UsageEndBefore { get; init; }

    /// <summary>1 to <see cref="MaxPageSize"/>; 0 means <see cref="DefaultPageSize"/>.</summary>
    public int PageSize { get; init; }

    /// <summary>The <see cref="LedgerPage.NextPageToken"/> of the previous page, issued for the same filters; null for the first page.</summary>
    public string? PageToken { get; init; }
}

/// <summary>
/// One page of a query. <see cref="NextPageToken"/> is null when nothing older is left to look at; with filters that
/// the index does not answer by itself (time bounds, or a second id filter) the last page may come back empty.
/// Transactions posted after the first page appear only in a new query, so pages neither repeat nor skip.
/// </summary>
public sealed record LedgerPage(IReadOnlyList<LedgerTransaction> Transactions, string? NextPageToken);
