using Sky.Accounting.Ledger;
using Sky.Accounting.Peering;
using Sky.Accounting.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Identity;
using Sky.Pricing;
using Sky.Pricing.Reconciliation;

namespace Sky.Accounting.Quotes;

/// <summary>
/// GetQuote and Reconcile. Another tenant's quote, job or transfer is NOT_FOUND, exactly as a missing one, so ids do
/// not reveal what exists. Reconcile loads the quote and everything billed under it (the ledger's usage with its quote
/// id, and usage of its subject posted without one), re-rates it with the one <see cref="UsageRater"/>, and answers
/// with every difference assigned to a cause.
/// </summary>
public sealed class QuoteQueries(IQuoteStore quotes, ILedger ledger, IPeeringStore peering, UsageRater rater, PriceBookVerifier priceBook)
{
    public async Task<GetQuoteResponse> GetAsync(GetQuoteRequest request, Principal caller, CancellationToken ct)
    {
        if (request.QuoteId.Length == 0) throw RpcErrors.InvalidArgument("quote_id", "required: the id of the quote (\"q-<plan id>\")");
        var quote = await quotes.GetAsync(request.QuoteId, ct);
        if (quote is null || !TenantScope.Sees(caller, quote.TenantId)) throw RpcErrors.NotFound("quote", request.QuoteId);
        return new GetQuoteResponse { Quote = quote };
    }

    public async Task<ReconcileResponse> ReconcileAsync(ReconcileRequest request, Principal caller, CancellationToken ct)
    {
        var (field, id, what, kind) = request.SubjectCase switch
        {
            ReconcileRequest.SubjectOneofCase.JobId => ("job_id", request.JobId, "job", QuoteSubjectKind.Job),
            ReconcileRequest.SubjectOneofCase.TransferId => ("transfer_id", request.TransferId, "transfer", QuoteSubjectKind.Transfer),
            ReconcileRequest.SubjectOneofCase.QuoteId => ("quote_id", request.QuoteId, "quote", QuoteSubjectKind.Unspecified),
            _ => throw RpcErrors.InvalidArgument("subject", "set one of job_id, transfer_id or quote_id"),
        };
        if (id.Length == 0) throw RpcErrors.InvalidArgument(field, $"required: the id of the {what} to reconcile");
        var quote = kind == QuoteSubjectKind.Unspecified ? await quotes.GetAsync(id, ct) : await quotes.FindBySubjectAsync(id, ct);
        if (quote is null || !TenantScope.Sees(caller, quote.TenantId) || (kind != QuoteSubjectKind.Unspecified && quote.SubjectKind != kind))
            throw RpcErrors.NotFound(what, id);
        // A plan launched twice is one quote for two subjects: reconcile the one asked for (by quote: its latest).
        var subject = kind == QuoteSubjectKind.Unspecified ? quote.SubjectId : id;

        // Whether it has ended is read before the usage: the end is recorded after its usage is posted, so usage read
        // afterwards includes all of it. Read the other way round, a usage posted in between would be missing from an
        // answer already marked final.
        var final = subject.Length > 0 && await quotes.EndedAsync(subject, ct) is not null;
        var usage = await BilledAsync(quote, subject, ct);
        var book = new PeeringBook((await peering.ReadAsync(ct)).Agreements);
        QuoteReconciliation reconciliation;
        List<QuotedLine> lines;
        List<BilledUsage> billed;
        try
        {
            lines = quote.Lines.Select(l => ReconcileInputs.Line(quote, l, book)).ToList();
            billed = usage.Select(u => ReconcileInputs.Usage(u, book)).ToList();
            reconciliation = new QuoteReconciler(rater).Reconcile(lines, billed);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The records do not add up under the pricing engine (priced elsewhere, other units, a line the quote lacks):
            // nothing the caller can fix by asking differently, and no partial answer would be honest.
            throw RpcErrors.FailedPrecondition("UNEXPLAINED_AMOUNT", quote.QuoteId, $"quote {quote.QuoteId} cannot be reconciled: {e.Message}");
        }
        var response = reconciliation.ToResponse(quote.QuoteId, subject, final);
        response.PriceBook = await priceBook.CheckAsync(
            [.. lines.Select(l => new PriceBookVerifier.Priced(l.LineId, null, l.OfferId, l.Price)),
             .. billed.Select(u => new PriceBookVerifier.Priced(u.LineId, u.UsageId, u.OfferId, u.Price))], ct);
        return response;
    }

    /// <summary>
    /// The quote's tenant's usage under the quote (of <paramref name="subject"/> when known), and of the subject without a
    /// quote id; oldest first, so lines and causes read in the order things happened.
    /// </summary>
    private async Task<List<RatedUsage>> BilledAsync(Quote quote, string subject, CancellationToken ct)
    {
        var byId = new Dictionary<string, RatedUsage>(StringComparer.Ordinal);
        await foreach (var u in ReadAsync(new LedgerQuery { TenantId = quote.TenantId, QuoteId = quote.QuoteId }, ct))
            if (subject.Length == 0 || u.SubjectId.Length == 0 || u.SubjectId == subject) byId[u.UsageId] = u;
        if (subject.Length > 0)
            await foreach (var u in ReadAsync(new LedgerQuery { TenantId = quote.TenantId, SubjectId = subject }, ct))
                if (u.QuoteId.Length == 0) byId[u.UsageId] = u;
        return [.. byId.Values.OrderBy(u => u.UsageStart?.ToDateTimeOffset()).ThenBy(u => u.UsageId, StringComparer.Ordinal)];
    }

    private async IAsyncEnumerable<RatedUsage> ReadAsync(LedgerQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        query = query with { PageSize = LedgerQuery.MaxPageSize };
        while (true)
        {
            var page = await ledger.QueryAsync(query, ct);
            foreach (var t in page.Transactions) yield return t.Usage;
            if (page.NextPageToken is null) yield break;
            query = query with { PageToken = page.NextPageToken };
        }
    }
}
