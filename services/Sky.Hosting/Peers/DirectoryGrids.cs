using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Hosting.Peers;

/// <summary>The directory's egress-price and throughput grids, read whole over gRPC, and the revision of their last write.</summary>
public sealed record DirectoryGrids(IReadOnlyList<EgressPrice> Egress, IReadOnlyList<Throughput> Throughput, long Revision)
{
    private const int PageSize = 1000;

    /// <summary>Reads both grids page by page from <paramref name="directory"/> (this host's or a peer's).</summary>
    public static async Task<DirectoryGrids> ReadAsync(Sky.Directory.V1.Directory.DirectoryClient directory, CancellationToken ct)
    {
        var egress = new List<EgressPrice>();
        var egressRequest = new GetEgressPriceGridRequest { Page = new PageRequest { PageSize = PageSize } };
        long revision = 0;
        while (true)
        {
            var page = await directory.GetEgressPriceGridAsync(egressRequest, cancellationToken: ct);
            egress.AddRange(page.Entries);
            revision = Math.Max(revision, page.Revision);
            if (string.IsNullOrEmpty(page.Page?.NextPageToken)) break;
            egressRequest.Page.PageToken = page.Page.NextPageToken;
        }
        var throughput = new List<Throughput>();
        var throughputRequest = new GetThroughputGridRequest { Page = new PageRequest { PageSize = PageSize } };
        while (true)
        {
            var page = await directory.GetThroughputGridAsync(throughputRequest, cancellationToken: ct);
            throughput.AddRange(page.Entries);
            revision = Math.Max(revision, page.Revision);
            if (string.IsNullOrEmpty(page.Page?.NextPageToken)) break;
            throughputRequest.Page.PageToken = page.Page.NextPageToken;
        }
        return new DirectoryGrids(egress, throughput, revision);
    }
}
