using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Pricing;
using PeeringAgreement = Sky.Accounting.V1.PeeringAgreement;

namespace Sky.Hosting.Peering;

/// <summary>
/// A host's copy of accounting's peering agreements (placement and transfer price egress with it; one per host):
/// read once over gRPC (ListPeeringAgreements) and kept current by
/// `peering.*` events, so plans price egress with the agreements in force when they are made. Events may arrive before
/// or after the read that already reflects them, so versions of one agreement merge by a rule that never goes back: an
/// ended agreement beats the open one, and a removal is final. While accounting cannot be read (not built, not hosted,
/// unreachable) the feed follows events alone and retries the read with back-off.
/// </summary>
public sealed class PeeringFeed(PeerChannels peers, IEventBus events, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<PeeringFeed> log,
    MeshService subscriber) : BackgroundService
{
    /// <summary>
    /// Adds the host's feed, once, subscribed as <paramref name="subscriber"/> (the first service of the host that
    /// prices egress; its consumer group on the peering topic).
    /// </summary>
    public static void AddTo(IServiceCollection services, MeshService subscriber)
    {
        if (services.Any(d => d.ServiceType == typeof(PeeringFeed))) return;
        services.AddSingleton(sp => new PeeringFeed(sp.GetRequiredService<PeerChannels>(), sp.GetRequiredService<IEventBus>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<PeeringFeed>>(), subscriber));
        services.AddHostedService(sp => sp.GetRequiredService<PeeringFeed>());
    }

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1), LastRetry = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, PeeringAgreement> _agreements = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private PeeringBook _book = PeeringBook.Empty;
    private (PeeringBook Book, DateTimeOffset From, DateTimeOffset? Until, PeeringAgreements InForce)? _cached;

    /// <summary>Every agreement known (past, current and future).</summary>
    public PeeringBook Book { get { lock (_gate) return _book; } }

    /// <summary>The agreements in force now; the same instance until the book or the set in force changes.</summary>
    public IEgressAdjuster InForce()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_cached is { } c && ReferenceEquals(c.Book, _book) && now >= c.From && (c.Until is null || now < c.Until)) return c.InForce;
            var inForce = _book.InForce(now);
            _cached = (_book, now, _book.NextChangeAfter(now), inForce);
            return inForce;
        }
    }

    /// <summary>Applies one agreement as read or announced; an agreement whose terms cannot be priced is skipped with a warning.</summary>
    public void Apply(PeeringAgreement agreement, bool removed = false)
    {
        if (string.IsNullOrEmpty(agreement.AgreementId)) return;
        lock (_gate)
        {
            if (removed)
            {
                _removed.Add(agreement.AgreementId);
                _agreements.Remove(agreement.AgreementId);
            }
            else
            {
                if (_removed.Contains(agreement.AgreementId)) return;
                if (_agreements.TryGetValue(agreement.AgreementId, out var held) && held.EffectiveUntil is not null && agreement.EffectiveUntil is null) return;
                try
                {
                    PeeringBook.Directional(agreement, agreement.ProviderA, agreement.ProviderB);
                }
                catch (ArgumentException e)
                {
                    log.LogWarning("{Service}: peering agreement {Id} ignored: {Error}", subscriber.Name, agreement.AgreementId, e.Message);
                    return;
                }
                _agreements[agreement.AgreementId] = agreement;
            }
            _book = new PeeringBook(_agreements.Values);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = events.Subscribe(Topics.Peering, subscriber.Name, (e, _) =>
        {
            switch (e.Data)
            {
                case PeeringAgreementCreated created: Apply(created.Agreement); break;
                case PeeringAgreementEnded ended: Apply(ended.Agreement, ended.Removed); break;
            }
            return Task.CompletedTask;
        });
        try
        {
            // Accounting may be this very host, reachable once it listens.
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(stoppingToken);
            var retry = FirstRetry;
            while (true)
            {
                try
                {
                    var count = await ReadAsync(stoppingToken);
                    log.LogInformation("{Service}: {Count} peering agreements from accounting", subscriber.Name, count);
                    break;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Whatever accounting answers, the feed keeps following events: a background service that throws stops the host.
                    var level = retry == FirstRetry ? LogLevel.Warning : LogLevel.Debug;
                    log.Log(level, "{Service}: reading peering agreements failed ({Error}); following peering events and retrying in {Retry}",
                        subscriber.Name, e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message, retry);
                    await Task.Delay(retry, time, stoppingToken);
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
                }
            }
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested) { }   // stopping: a call cut short is no error
    }

    private async Task<int> ReadAsync(CancellationToken ct)
    {
        var client = new Sky.Accounting.V1.Accounting.AccountingClient(peers.For(MeshService.Accounting));
        var request = new ListPeeringAgreementsRequest { Page = new PageRequest { PageSize = 1000 } };
        var count = 0;
        while (true)
        {
            var page = await client.ListPeeringAgreementsAsync(request, cancellationToken: ct);
            foreach (var agreement in page.Agreements) Apply(agreement);
            count += page.Agreements.Count;
            if (string.IsNullOrEmpty(page.Page?.NextPageToken)) return count;
            request.Page.PageToken = page.Page.NextPageToken;
        }
    }
}
