using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Events.V1;
using Sky.Accounting.Quotes;
using Sky.Hosting.Events;
using Sky.Hosting.Options;

namespace Sky.Accounting.Usage;

/// <summary>
/// Accounting's side of the `placement` and `transfer` topics: every `placement.job.usage` and `transfer.usage` event is
/// rated and posted; every `placement.quote.issued` and `transfer.quote.issued` is kept (<see cref="QuoteRecords"/>), and
/// the events that end a job or transfer are noted for reconciliation. The bus hands an event on until its handler
/// returns (at-least-once) and runs a handler once per event id; the posting is idempotent by the event's key and a quote
/// put is a merge, so a crash between receiving and storing loses nothing and a redelivery doubles nothing. An event that
/// cannot be handled fails its handler and, after the bus's retries, is dead-lettered with the reason. One subscription per
/// topic (a second one under the same subscriber name would split the topic's events between them on Redis Streams). It
/// subscribes in StartAsync, before the host serves (a BackgroundService runs ExecuteAsync on its own task since .NET 10,
/// too late for events published at once).
/// </summary>
public sealed class UsageSubscriber(IEventBus events, UsagePosting posting, Sky.Accounting.Peering.IPeeringStore peering, QuoteRecords quotes,
    ILogger<UsageSubscriber> log) : IHostedService
{
    private IAsyncDisposable? _subscription, _transfers;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.Subscribe(Topics.Placement, MeshService.Accounting.Name, async (e, ct) =>
        {
            switch (e.Data)
            {
                case PlacementJobUsage usage:
                    var result = (await posting.PostAsync([posting.Rate(usage, await PeeringAsync(ct))], ct))[0];
                    log.LogDebug("accounting: {Key} {Outcome} as {Transaction}", usage.IdempotencyKey, result.Outcome, result.TransactionId);
                    break;
                case PlacementQuoteIssued issued:
                    await quotes.IssuedAsync(issued.Quote, issued.Time?.ToDateTimeOffset() ?? e.Time, ct);
                    break;
                default:
                    await quotes.ObserveAsync(e.Data, e.Time, ct);
                    break;
            }
        });
        // A finished transfer's usage: egress per region pair (peering applied at the time of use) and gateway VM time.
        _transfers = events.Subscribe(Topics.Transfer, MeshService.Accounting.Name, async (e, ct) =>
        {
            switch (e.Data)
            {
                case TransferUsage usage:
                    var results = await posting.PostAsync(posting.Rate(usage, await PeeringAsync(ct)), ct);
                    log.LogDebug("accounting: transfer {Key}: {Count} records, {Posted} posted", usage.IdempotencyKey, results.Count,
                        results.Count(r => r.Outcome == Sky.Accounting.Ledger.PostOutcome.Posted));
                    await quotes.ObserveAsync(usage, e.Time, ct);   // its usage is in: the transfer has ended
                    break;
                case TransferQuoteIssued issued:
                    await quotes.IssuedAsync(issued.Quote, issued.Time?.ToDateTimeOffset() ?? e.Time, ct);
                    break;
                default:
                    await quotes.ObserveAsync(e.Data, e.Time, ct);
                    break;
            }
        });
        return Task.CompletedTask;
    }

    private async Task<Sky.Pricing.PeeringBook> PeeringAsync(CancellationToken ct) => new((await peering.ReadAsync(ct)).Agreements);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is { } subscription) await subscription.DisposeAsync();
        if (_transfers is { } transfers) await transfers.DisposeAsync();
    }
}
