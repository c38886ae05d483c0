using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;

namespace Sky.Accounting.Usage;

/// <summary>
/// Accounting's side of the `placement` and `transfer` topics: every `placement.job.usage` and `transfer.usage` event is
/// rated and posted. The bus hands an
/// event on until its handler returns (at-least-once), and the posting is idempotent by the event's key, so a crash
/// between receiving and posting loses nothing and a redelivery doubles nothing. An event that cannot be rated fails its
/// handler and, after the bus's retries, is dead-lettered with the reason. It subscribes in StartAsync, before the host
/// serves (a BackgroundService runs ExecuteAsync on its own task since .NET 10, too late for events published at once).
/// </summary>
public sealed class UsageSubscriber(IEventBus events, UsagePosting posting, Sky.Accounting.Peering.IPeeringStore peering, ILogger<UsageSubscriber> log) : IHostedService
{
    private IAsyncDisposable? _subscription, _transfers;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.Subscribe(Topics.Placement, MeshService.Accounting.Name, async (e, ct) =>
        {
            if (e.Data is not PlacementJobUsage usage) return;
            var result = (await posting.PostAsync([posting.Rate(usage)], ct))[0];
            log.LogDebug("accounting: {Key} {Outcome} as {Transaction}", usage.IdempotencyKey, result.Outcome, result.TransactionId);
        });
        // A finished transfer's usage: egress per region pair (peering applied at the time of use) and gateway VM time.
        _transfers = events.Subscribe(Topics.Transfer, MeshService.Accounting.Name, async (e, ct) =>
        {
            if (e.Data is not TransferUsage usage) return;
            var book = new Sky.Pricing.PeeringBook((await peering.ReadAsync(ct)).Agreements);
            var results = await posting.PostAsync(posting.Rate(usage, book), ct);
            log.LogDebug("accounting: transfer {Key}: {Count} records, {Posted} posted", usage.IdempotencyKey, results.Count,
                results.Count(r => r.Outcome == Sky.Accounting.Ledger.PostOutcome.Posted));
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is { } subscription) await subscription.DisposeAsync();
        if (_transfers is { } transfers) await transfers.DisposeAsync();
    }
}
