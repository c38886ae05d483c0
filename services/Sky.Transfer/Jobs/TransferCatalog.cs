using Grpc.Core;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Transfer.Planning;

namespace Sky.Transfer.Jobs;

/// <summary>What transfer plans on, as of one directory revision: the grids as a network and the gateway VM offers.</summary>
public sealed record TransferCatalogSnapshot(TransferNetwork Network, IReadOnlyDictionary<CloudRegion, GatewayOffer> Gateways, long Revision)
{
    /// <summary>The gateway offer of a region (the planner's <see cref="GatewayOffers"/> lookup).</summary>
    public GatewayOffer? GatewayIn(string provider, string region) => Gateways.GetValueOrDefault(new CloudRegion(provider, region));
}

/// <summary>
/// Transfer's view of the directory, read over gRPC (this host's directory or its peer: never shared memory): the
/// throughput and egress grids and the offers of <see cref="GatewayInstanceTypes"/>. Each plan first asks the directory
/// for its revision (one small query) and reloads only when it moved, so a plan made right after a grid import sees it,
/// and the grids (thousands of entries) are read once per change, not once per plan.
/// </summary>
public sealed class TransferCatalog(PeerChannels peers)
{
    private const int PageSize = 1000;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile TransferCatalogSnapshot? _current;

    private Sky.Directory.V1.Directory.DirectoryClient Directory => new(peers.For(MeshService.Directory));

    /// <summary>The catalog as of the directory's revision now.</summary>
    /// <exception cref="RpcException">UNAVAILABLE when the directory cannot be read.</exception>
    public async Task<TransferCatalogSnapshot> CurrentAsync(CancellationToken ct)
    {
        try
        {
            var now = (await Directory.QueryOffersAsync(new QueryOffersRequest { Selector = "kind=compute", Page = new PageRequest { PageSize = 1 } },
                cancellationToken: ct)).Revision;
            if (_current is { } held && held.Revision >= now) return held;
            await _reload.WaitAsync(ct);
            try
            {
                if (_current is { } fresh && fresh.Revision >= now) return fresh;
                var grids = await DirectoryGrids.ReadAsync(Directory, ct);
                var (gateways, offersRevision) = await GatewaysAsync(ct);
                var network = TransferNetwork.From(grids.Throughput, grids.Egress);
                return _current = new TransferCatalogSnapshot(network, gateways, Math.Max(now, Math.Max(grids.Revision, offersRevision)));
            }
            finally
            {
                _reload.Release();
            }
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Unimplemented or StatusCode.DeadlineExceeded)
        {
            throw RpcErrors.Unavailable($"transfer cannot read the directory's grids and offers ({e.Status.Detail}); is the directory reachable?");
        }
    }

    /// <summary>The cheapest region-wide (or any zone's) on-demand offer of each region's gateway instance type.</summary>
    private async Task<(Dictionary<CloudRegion, GatewayOffer>, long)> GatewaysAsync(CancellationToken ct)
    {
        var request = new QueryOffersRequest
        {
            Selector = $"kind=compute, instance_type in ({GatewayInstanceTypes.Aws},{GatewayInstanceTypes.Gcp},{GatewayInstanceTypes.Azure})",
            Page = new PageRequest { PageSize = PageSize },
        };
        var gateways = new Dictionary<CloudRegion, GatewayOffer>();
        long revision = 0;
        while (true)
        {
            var page = await Directory.QueryOffersAsync(request, cancellationToken: ct);
            revision = Math.Max(revision, page.Revision);
            foreach (var offer in page.Offers)
            {
                if (offer.Price?.OnDemandHourly is not { } hourly || offer.Location is not { } at) continue;
                if (!string.Equals(GatewayInstanceTypes.For(at.Provider), offer.InstanceType, StringComparison.OrdinalIgnoreCase)) continue;
                var region = new CloudRegion(at.Provider, at.Region);
                var candidate = new GatewayOffer(offer.InstanceType, offer.OfferId, hourly.ToDecimal());
                if (!gateways.TryGetValue(region, out var held) || candidate.HourlyPrice < held.HourlyPrice) gateways[region] = candidate;
            }
            if (string.IsNullOrEmpty(page.Page?.NextPageToken)) return (gateways, revision);
            request.Page.PageToken = page.Page.NextPageToken;
        }
    }
}
