using Proto = Sky.Accounting.V1;

namespace Sky.Pricing.Reconciliation;

/// <summary>A reconciliation as the accounting contract carries it (sky.accounting.v1.ReconcileResponse).</summary>
public static class ReconcileResponses
{
    /// <summary>
    /// The response for <paramref name="reconciliation"/>; amounts to the nano (<see cref="Rounding.ToMoney"/>), so the
    /// causes still sum exactly to the difference. <paramref name="final"/>: the subject has ended and all its usage is rated.
    /// </summary>
    public static Proto.ReconcileResponse ToResponse(this QuoteReconciliation reconciliation, string quoteId, string subjectId, bool final,
        string currency = "USD")
    {
        ArgumentNullException.ThrowIfNull(reconciliation);
        var response = new Proto.ReconcileResponse
        {
            QuoteId = quoteId ?? "",
            SubjectId = subjectId ?? "",
            Quoted = Rounding.ToMoney(reconciliation.Quoted, currency),
            Billed = Rounding.ToMoney(reconciliation.Billed, currency),
            Difference = Rounding.ToMoney(reconciliation.Difference, currency),
            Final = final,
        };
        foreach (var line in reconciliation.Lines)
        {
            var row = new Proto.ReconcileLine
            {
                QuoteLineId = line.LineId, Description = line.Description,
                Quoted = Rounding.ToMoney(line.Quoted, currency), Billed = Rounding.ToMoney(line.Billed, currency),
            };
            row.UsageIds.AddRange(line.UsageIds);
            response.Lines.Add(row);
        }
        foreach (var cause in reconciliation.Causes)
            response.Causes.Add(new Proto.ReconcileCause
            {
                Kind = (Proto.CauseKind)(int)cause.Kind, Amount = Rounding.ToMoney(cause.Amount, currency),
                QuoteLineId = cause.LineId, Description = cause.Description, Reference = cause.Reference,
            });
        return response;
    }
}
