using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;

namespace Sky.Placement.Catalog;

/// <summary>
/// Placement's copy of the directory's compute offers and grids. It is read once over gRPC (from the directory this
/// host runs or its peer: never through shared memory) and then kept current by the directory's events, applied in
/// batches: an offer event puts or removes one offer (older revisions than held are ignored, so an event racing the
/// first read does no harm), a catalog import reloads the offers, a grid write reloads the grids. Subscribing before
/// the first read means no change is missed in between.
/// </summary>
public sealed class DirectoryFeed(PeerChannels peers, IEventBus events, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<DirectoryFeed> log)
    : BackgroundService
{
    private const int PageSize = 1000;
    private static readonly TimeSpan Batch = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    private readonly Channel<SkyEvent> _changes = Channel.CreateUnbounded<SkyEvent>(new() { SingleReader = true });
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile CatalogSnapshot _current = CatalogSnapshot.Empty;

    /// <summary>The latest snapshot (empty until the first read).</summary>
    public CatalogSnapshot Current => _current;

    /// <summary>The snapshot once the first read has completed.</summary>
    public async Task<CatalogSnapshot> ReadyAsync(CancellationToken ct)
    {
        await _loaded.Task.WaitAsync(ct);
        return _current;
    }

    /// <summary>Waits until the snapshot reflects at least <paramref name="revision"/> (a write the caller just made).</summary>
    public async Task<CatalogSnapshot> AtLeastAsync(long revision, TimeSpan timeout, CancellationToken ct)
    {
        var until = time.GetUtcNow() + timeout;
        var snapshot = await ReadyAsync(ct);
        while (snapshot.Revision < revision && time.GetUtcNow() < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), time, ct);
            snapshot = _current;
        }
        return snapshot;
    }

    /// <summary>
    /// The snapshot as of now: asks the directory for its revision and waits (at most <paramref name="wait"/>) until the
    /// snapshot has caught up, so a plan made right after a write to the directory (an import, a registration) sees it.
    /// </summary>
    public async Task<CatalogSnapshot> CurrentAsync(TimeSpan wait, CancellationToken ct)
    {
        await ReadyAsync(ct);
        var now = await Directory.QueryOffersAsync(new QueryOffersRequest { Selector = "kind=compute", Page = new PageRequest { PageSize = 1 } }, cancellationToken: ct);
        return await AtLeastAsync(now.Revision, wait, ct);
    }

    private Sky.Directory.V1.Directory.DirectoryClient Directory => new(peers.For(MeshService.Directory));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = events.Subscribe(Topics.Directory, MeshService.Placement.Name, (e, _) =>
        {
            _changes.Writer.TryWrite(e);
            return Task.CompletedTask;
        });
        try
        {
            // The directory may be this very host, reachable once it listens.
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(stoppingToken);
            await FirstLoadAsync(stoppingToken);
            while (await _changes.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(Batch, time, stoppingToken);
                await ApplyAsync(stoppingToken);
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested) { }   // stopping: a call cut short is no error
    }

    private async Task FirstLoadAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var (offers, revision) = await ReadOffersAsync(ct);
                var (egress, throughput, gridRevision) = await ReadGridsAsync(ct);
                _current = new CatalogSnapshot(offers, egress, throughput, Math.Max(revision, gridRevision));
                _loaded.TrySetResult();
                log.LogInformation("placement: {Count} compute offers from the directory at revision {Revision}", _current.Count, _current.Revision);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Whatever the directory (or the way to it) answers, the feed keeps trying: a background service
                // that throws would stop the whole host.
                log.LogWarning("placement: reading the directory failed ({Error}); retrying", e is RpcException r ? r.Status.Detail : e.Message);
                await Task.Delay(Retry, time, ct);
            }
        }
    }

    private async Task ApplyAsync(CancellationToken ct)
    {
        var upserts = new List<ComputeOffer>();
        var removals = new List<(string, long)>();
        bool reloadOffers = false, reloadGrids = false;
        long revision = 0;
        while (_changes.Reader.TryRead(out var e))
        {
            switch (e.Data)
            {
                case DirectoryOfferRegistered r:
                    if (ComputeOffer.From(r.Offer) is { } added) upserts.Add(added);
                    revision = Math.Max(revision, r.Revision);
                    break;
                case DirectoryOfferUpdated u:
                    if (ComputeOffer.From(u.Offer) is { } updated) upserts.Add(updated);
                    else removals.Add((u.OfferId, u.Revision));   // no longer something placement can use
                    revision = Math.Max(revision, u.Revision);
                    break;
                case DirectoryOfferDeregistered d:
                    removals.Add((d.OfferId, d.Revision));
                    revision = Math.Max(revision, d.Revision);
                    break;
                case DirectoryOfferExpired x:
                    removals.Add((x.OfferId, x.Revision));
                    revision = Math.Max(revision, x.Revision);
                    break;
                case DirectoryCatalogImported i:
                    reloadOffers = true;
                    revision = Math.Max(revision, i.Revision);
                    break;
                case DirectoryEgressPriceGridUpdated or DirectoryThroughputGridUpdated:
                    reloadGrids = true;
                    break;
            }
        }
        try
        {
            var next = _current;
            if (reloadOffers)
            {
                var (offers, at) = await ReadOffersAsync(ct);
                next = new CatalogSnapshot(offers, next.Egress, next.Throughput, Math.Max(next.Revision, at));
            }
            else if (upserts.Count > 0 || removals.Count > 0)
            {
                next = next.With(upserts, removals, revision);
            }
            if (reloadGrids)
            {
                var (egress, throughput, at) = await ReadGridsAsync(ct);
                next = next.WithGrids(egress, throughput, at);
            }
            _current = next.AtRevision(revision);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The events are gone from the channel: read everything again rather than miss a change.
            log.LogWarning("placement: applying directory changes failed ({Error}); reading the directory again", e is RpcException r ? r.Status.Detail : e.Message);
            await FirstLoadAsync(ct);
        }
    }

    private async Task<(List<ComputeOffer> Offers, long Revision)> ReadOffersAsync(CancellationToken ct)
    {
        var offers = new List<ComputeOffer>();
        var request = new QueryOffersRequest { Selector = "kind=compute", Page = new PageRequest { PageSize = PageSize } };
        long revision = 0;
        while (true)
        {
            var page = await Directory.QueryOffersAsync(request, cancellationToken: ct);
            if (revision == 0) revision = page.Revision;
            foreach (var offer in page.Offers)
                if (ComputeOffer.From(offer) is { } usable) offers.Add(usable);
            if (string.IsNullOrEmpty(page.Page?.NextPageToken)) return (offers, revision);
            request.Page.PageToken = page.Page.NextPageToken;
        }
    }

    private async Task<(IReadOnlyList<EgressPrice>, IReadOnlyList<Throughput>, long)> ReadGridsAsync(CancellationToken ct)
    {
        var grids = await DirectoryGrids.ReadAsync(Directory, ct);
        return (grids.Egress, grids.Throughput, grids.Revision);
    }
}
