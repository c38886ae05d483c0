using Sky.Events.V1;
using Sky.Placement.V1;
using Sky.Transfer.V1;

namespace Sky.Accounting.Quotes;

/// <summary>
/// Accounting's record of quotes and of the ends of what they priced, from placement's and transfer's events. A quote
/// event is stored as a merge (<see cref="IQuoteStore.PutAsync"/>), so a redelivery or a late older version changes
/// nothing. A subject has ended, with all its usage published, when:
/// a job reaches a final state (placement publishes each attempt's usage before the job's final state, on the same topic);
/// a transfer's <c>transfer.usage</c> arrives (published once, after <c>transfer.completed</c>, in the same commit), or
/// its <c>transfer.completed</c> says nothing was used (no bytes and no gateways: no usage event follows).
/// </summary>
public sealed class QuoteRecords(IQuoteStore store)
{
    /// <exception cref="ArgumentException">The event carries no quote, or one without id or tenant.</exception>
    public Task IssuedAsync(Sky.Accounting.V1.Quote? quote, DateTimeOffset issuedAt, CancellationToken ct)
    {
        if (quote is null) throw new ArgumentException("quote event without a quote");
        if (quote.QuoteId.Length == 0) throw new ArgumentException("quote event: quote_id is missing");
        if (quote.TenantId.Length == 0) throw new ArgumentException($"quote {quote.QuoteId}: tenant_id is missing");
        return store.PutAsync(quote, issuedAt, ct);
    }

    /// <summary>Handles the events that end a subject; others are ignored.</summary>
    public Task ObserveAsync(Google.Protobuf.IMessage data, DateTimeOffset at, CancellationToken ct) => data switch
    {
        PlacementJobStateChanged { State: JobState.Succeeded or JobState.Failed or JobState.Cancelled } e when e.JobId.Length > 0 =>
            store.MarkEndedAsync(e.JobId, e.Time?.ToDateTimeOffset() ?? at, ct),
        TransferUsage e when e.TransferId.Length > 0 => store.MarkEndedAsync(e.TransferId, e.Time?.ToDateTimeOffset() ?? at, ct),
        TransferCompleted { Transfer: { } t } e when t.TransferId.Length > 0 && NothingUsed(t) =>
            store.MarkEndedAsync(t.TransferId, e.Time?.ToDateTimeOffset() ?? at, ct),
        _ => Task.CompletedTask,
    };

    // The transfer service publishes no usage for a transfer without a plan, or that moved no byte and ran no gateway.
    private static bool NothingUsed(TransferJob t) => t.Plan is null || ((t.Progress?.BytesDone ?? 0) == 0 && t.Plan.Gateways.Count == 0);
}
