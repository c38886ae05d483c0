using System.Runtime.CompilerServices;
using Sky.Accounting.Billing;
using Sky.Accounting.Ledger;

namespace Sky.Accounting.Focus;

/// <summary>How much an export wrote: data rows (the header not counted) and their BilledCost total in nanos.</summary>
public sealed record FocusExportSummary(long Rows, long BilledCostNanos)
{
    /// <summary>The total as FOCUS writes it.</summary>
    public string BilledCost => FocusFormat.Nanos(BilledCostNanos);
}

/// <summary>
/// FOCUS 1.2 CSV for one tenant and one billing period, one row per ledger transaction of the tenant in that period
/// (<see cref="FocusCharges"/> says how each becomes a row). The BilledCost column sums exactly to the tenant's invoice
/// total for the period: minus the movement of its receivable account there, since every posting to a tenant's account
/// records that tenant's usage (as <see cref="Usage.UsagePosting"/> posts it) and is indexed under it.
///
/// Rows are read a ledger page at a time from the tenant-and-period index (newest first, pages that neither repeat nor
/// skip while usage is still being posted), so memory stays at one page however large the period is.
/// </summary>
public sealed class FocusExporter(ILedger ledger, BillingCalendar calendar, FocusOptions? options = null)
{
    /// <summary>The largest chunk <see cref="ChunksAsync"/> yields (ExportFocusResponse.data is at most 64 KiB).</summary>
    public const int MaxChunkBytes = 64 * 1024;

    private const int CorrectedCacheSize = 10_000;
    private readonly FocusOptions _options = (options ?? new FocusOptions()).Validated();

    public FocusOptions Options => _options;

    /// <summary>The calendar that names the periods exported.</summary>
    public BillingCalendar Calendar => calendar;

    /// <summary>The scope of an export, checked against this exporter's calendar.</summary>
    /// <exception cref="ArgumentException">The tenant is empty or the period is not one of the calendar's.</exception>
    public FocusScope Scope(string tenantId, string periodId, string? invoiceId = null) => FocusScope.Create(tenantId, periodId, calendar, invoiceId);

    /// <summary>Writes the file to <paramref name="output"/> (left open) and says how much it wrote.</summary>
    public async Task<FocusExportSummary> WriteAsync(FocusScope scope, Stream output, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(output);
        long rows = 0, billed = 0;
        await using (var csv = new FocusCsvWriter(output))
        {
            await foreach (var page in PagesAsync(scope, ct))
                foreach (var row in page)
                {
                    csv.Write(row);
                    rows++;
                    billed = checked(billed + row.BilledCostNanos);
                }
            await csv.FlushAsync(ct);
        }
        return new FocusExportSummary(rows, billed);
    }

    /// <summary>
    /// The same file as consecutive chunks of exactly <see cref="MaxChunkBytes"/> (the last one shorter), not aligned to
    /// rows: the shape of the ExportFocus server stream. Each chunk is a new array the caller may keep.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ChunksAsync(FocusScope scope, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var buffer = new MemoryStream(2 * MaxChunkBytes);
        await using var csv = new FocusCsvWriter(buffer);
        await foreach (var page in PagesAsync(scope, ct))
        {
            foreach (var row in page) csv.Write(row);
            await csv.FlushAsync(ct);
            foreach (var chunk in TakeChunks(buffer, all: false)) yield return chunk;
        }
        await csv.FlushAsync(ct);
        foreach (var chunk in TakeChunks(buffer, all: true)) yield return chunk;
    }

    /// <summary>Full chunks out of the buffer (and the rest when <paramref name="all"/>); what is left moves to its start.</summary>
    private static List<ReadOnlyMemory<byte>> TakeChunks(MemoryStream buffer, bool all)
    {
        var bytes = buffer.GetBuffer();
        var length = (int)buffer.Length;
        var chunks = new List<ReadOnlyMemory<byte>>(length / MaxChunkBytes + 1);
        var at = 0;
        for (; length - at >= MaxChunkBytes || (all && at < length); at += chunks[^1].Length)
            chunks.Add(bytes.AsSpan(at, Math.Min(MaxChunkBytes, length - at)).ToArray());
        Array.Copy(bytes, at, bytes, 0, length - at);
        buffer.SetLength(length - at);
        buffer.Position = length - at;
        return chunks;
    }

    /// <summary>The rows of the scope, a ledger page at a time. The list is reused: read it before asking for the next.</summary>
    private async IAsyncEnumerable<List<FocusRow>> PagesAsync(FocusScope scope, [EnumeratorCancellation] CancellationToken ct)
    {
        var corrected = new Dictionary<string, string?>(StringComparer.Ordinal);
        var query = new LedgerQuery { TenantId = scope.TenantId, PeriodId = scope.PeriodId, PageSize = LedgerQuery.MaxPageSize };
        var rows = new List<FocusRow>(LedgerQuery.MaxPageSize);
        while (true)
        {
            var page = await ledger.QueryAsync(query, ct);
            rows.Clear();
            foreach (var tx in page.Transactions)
            {
                var correctedPeriod = tx.Corrects is { } id ? await CorrectedPeriodAsync(id, corrected, ct) : null;
                rows.Add(FocusCharges.Row(tx, scope, _options, correctedPeriod));
            }
            yield return rows;
            if (page.NextPageToken is null) yield break;
            query = query with { PageToken = page.NextPageToken };
        }
    }

    /// <summary>The period of a corrected transaction. Corrections are few, so a small cache saves most lookups.</summary>
    private async Task<string?> CorrectedPeriodAsync(string id, Dictionary<string, string?> cache, CancellationToken ct)
    {
        if (cache.TryGetValue(id, out var period)) return period;
        period = (await ledger.GetAsync(id, ct))?.PeriodId;
        if (cache.Count >= CorrectedCacheSize) cache.Clear();
        cache[id] = period;
        return period;
    }
}
