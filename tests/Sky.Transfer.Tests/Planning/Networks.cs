using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.V1;
using Sky.Pricing;
using Sky.Testing;
using Sky.Transfer.Planning;

namespace Sky.Transfer.Tests.Planning;

/// <summary>Networks to plan over: Skyplane's real grids from ../shared, and small ones written in the test.</summary>
internal static class Networks
{
    private static readonly Lazy<TransferNetwork> skyplane = new(() =>
    {
        var dir = SharedData.Find("anchors/skyplane")!;
        using var throughput = File.OpenText(Path.Combine(dir, "throughput.csv"));
        using var cost = File.OpenText(Path.Combine(dir, "cost.csv"));
        return TransferNetwork.From(SkyplaneGrids.ReadThroughput(throughput), SkyplaneGrids.ReadCost(cost));
    });

    /// <summary>Skyplane's measured grid (63 regions), read once through the directory's loader; skips the test when ../shared is absent.</summary>
    public static TransferNetwork Skyplane()
    {
        SharedData.Require("anchors/skyplane/throughput.csv");
        return skyplane.Value;
    }

    /// <summary>
    /// Gateways on Skyplane's instance types at one on-demand list price per provider (us-east-1, us-central1 and
    /// eastus, per hour): the planner only needs a price per region, and these are the right size.
    /// </summary>
    public static GatewayOffer? ListPrice(string provider, string region) => provider switch
    {
        "aws" => new GatewayOffer(GatewayInstanceTypes.Aws, $"aws-{region}-m5.8xlarge", 1.536m),
        "gcp" => new GatewayOffer(GatewayInstanceTypes.Gcp, $"gcp-{region}-n2-standard-32", 1.554016m),
        "azure" => new GatewayOffer(GatewayInstanceTypes.Azure, $"azure-{region}-d32v5", 1.536m),
        _ => null,
    };

    public static CloudRegion Region(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return new CloudRegion(text[..slash], text[(slash + 1)..]);
    }

    public static Location Location(CloudRegion region) => new() { Provider = region.Provider, Region = region.Region };

    /// <summary>A network from "src dst Gbit/s" rates and "src dst $/GB" flat prices (regions written provider/region).</summary>
    public static TransferNetwork Build(IEnumerable<(string Src, string Dst, double Gbps)> rates, IEnumerable<(string Src, string Dst, decimal PerGb)> prices) =>
        Build(rates, prices.Select(p => (p.Src, p.Dst, EgressTiers.Flat(p.PerGb))));

    /// <summary>A network from rates and tiered prices.</summary>
    public static TransferNetwork Build(IEnumerable<(string Src, string Dst, double Gbps)> rates, IEnumerable<(string Src, string Dst, EgressTiers Tiers)> prices)
    {
        var throughput = rates.Select(r => new Throughput
        {
            Src = Location(Region(r.Src)),
            Dst = Location(Region(r.Dst)),
            BitsPerSecond = (long)Math.Round(r.Gbps * 1e9),
            Connections = 64,
        }).ToList();
        var egress = prices.Select(p =>
        {
            var entry = new EgressPrice { Src = Location(Region(p.Src)), Dst = Location(Region(p.Dst)) };
            foreach (var band in p.Tiers) entry.Tiers.Add(new EgressTier { UpToGb = band.UpToGb, PricePerGb = Money.FromDecimal(band.PricePerGb, "USD") });
            return entry;
        }).ToList();
        return TransferNetwork.From(throughput, egress);
    }
}
