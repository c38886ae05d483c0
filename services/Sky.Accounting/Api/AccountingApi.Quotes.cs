using Grpc.Core;
using Sky.Accounting.V1;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Api;

/// <summary>Quotes: what placement and transfer quoted, and the quote reconciled against the bill (<see cref="Quotes.QuoteQueries"/>).</summary>
public sealed partial class AccountingApi
{
    public override Task<GetQuoteResponse> GetQuote(GetQuoteRequest request, ServerCallContext context) =>
        quotes.GetAsync(request, context.GetCaller(), context.CancellationToken);

    public override Task<ReconcileResponse> Reconcile(ReconcileRequest request, ServerCallContext context) =>
        quotes.ReconcileAsync(request, context.GetCaller(), context.CancellationToken);
}
