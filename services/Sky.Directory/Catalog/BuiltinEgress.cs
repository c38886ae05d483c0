using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>
/// Egress list prices (USD per GB) out of every built-in region, by each provider's published rules:
/// to its own region (free), to the provider's other built-in regions, to the other two clouds and to
/// "internet" (the same internet tiers: a transfer to another cloud is internet egress). AWS charges
/// inter-region transfer by source region alone, so AWS regions also get an any-region entry.
/// Tier bounds are cumulative monthly volume as the providers state them (10 TB = 10,240 GB). The free
/// monthly allowances (AWS and Azure 100 GB) are per account across regions, so they are left out.
/// </summary>
internal static class BuiltinEgress
{
    private const string Internet = "internet";

    // aws.amazon.com/ec2/pricing/on-demand, "Data Transfer": first 10 TB / next 40 TB / next 100 TB / over 150 TB.
    private static readonly (long UpToGb, decimal Price)[] AwsInternet = [(10_240, 0.09m), (51_200, 0.085m), (153_600, 0.07m), (0, 0.05m)];
    private static readonly (long UpToGb, decimal Price)[] AwsInternetTokyo = [(10_240, 0.114m), (51_200, 0.089m), (153_600, 0.086m), (0, 0.084m)];

    // cloud.google.com/vpc/network-pricing, Premium Tier to worldwide destinations (China and Australia
    // excepted), the same from every built-in region: 0-1 TiB / 1-10 TiB / 10+ TiB.
    private static readonly (long UpToGb, decimal Price)[] GcpInternet = [(1_024, 0.12m), (10_240, 0.11m), (0, 0.08m)];

    // azure.microsoft.com/pricing/details/bandwidth, routed over Microsoft's network: zone 1 (North America,
    // Europe) and zone 2 (Asia Pacific): next 10 TB / next 40 TB / next 100 TB / beyond (the 350 TB tier's rate).
    private static readonly (long UpToGb, decimal Price)[] AzureInternetZone1 = [(10_240, 0.087m), (51_200, 0.083m), (153_600, 0.07m), (0, 0.05m)];
    private static readonly (long UpToGb, decimal Price)[] AzureInternetZone2 = [(10_240, 0.12m), (51_200, 0.085m), (153_600, 0.082m), (0, 0.08m)];

    public static IReadOnlyList<EgressPrice> Build()
    {
        var entries = new List<EgressPrice>();
        var providers = BuiltinTable.Clouds.Select(c => c.Provider).ToList();
        foreach (var cloud in BuiltinTable.Clouds)
            foreach (var src in cloud.Regions.Select(r => r.Name))
            {
                entries.Add(Flat(cloud.Provider, src, cloud.Provider, src, 0m));
                foreach (var dst in cloud.Regions.Select(r => r.Name).Where(d => d != src))
                    entries.Add(Flat(cloud.Provider, src, cloud.Provider, dst, InterRegion(cloud.Provider, src, dst)));
                if (cloud.Provider == "aws") entries.Add(Flat("aws", src, "aws", "", AwsInterRegion(src)));
                var internet = InternetTiers(cloud.Provider, src);
                foreach (var other in providers.Where(p => p != cloud.Provider))
                    entries.Add(Tiered(cloud.Provider, src, other, internet));
                entries.Add(Tiered(cloud.Provider, src, Internet, internet));
            }
        return entries;
    }

    private static decimal InterRegion(string provider, string src, string dst) => provider switch
    {
        "aws" => AwsInterRegion(src),
        // cloud.google.com/vpc/network-pricing, inter-region transfer between continents:
        // Northern America <-> Europe 0.05, to or from Asia 0.08.
        "gcp" => (src, dst) is ("us-central1", "europe-west4") or ("europe-west4", "us-central1") ? 0.05m : 0.08m,
        // azure.microsoft.com/pricing/details/bandwidth, inter-region between continents:
        // out of North America or Europe 0.05, out of Asia 0.08.
        "azure" => src == "japaneast" ? 0.08m : 0.05m,
        _ => throw new InvalidOperationException($"no inter-region rule for {provider}"),
    };

    // To any other AWS region: 0.02 from US and EU regions, 0.09 from Tokyo.
    private static decimal AwsInterRegion(string src) => src == "ap-northeast-1" ? 0.09m : 0.02m;

    private static (long UpToGb, decimal Price)[] InternetTiers(string provider, string src) => provider switch
    {
        "aws" => src == "ap-northeast-1" ? AwsInternetTokyo : AwsInternet,
        "gcp" => GcpInternet,
        "azure" => src == "japaneast" ? AzureInternetZone2 : AzureInternetZone1,
        _ => throw new InvalidOperationException($"no internet egress rule for {provider}"),
    };

    private static EgressPrice Flat(string srcProvider, string src, string dstProvider, string dst, decimal price)
    {
        var entry = Entry(srcProvider, src, dstProvider, dst);
        entry.Tiers.Add(new EgressTier { UpToGb = 0, PricePerGb = Money.FromDecimal(price, "USD") });
        return entry;
    }

    private static EgressPrice Tiered(string srcProvider, string src, string dstProvider, (long UpToGb, decimal Price)[] tiers)
    {
        var entry = Entry(srcProvider, src, dstProvider, "");
        entry.Tiers.AddRange(tiers.Select(t => new EgressTier { UpToGb = t.UpToGb, PricePerGb = Money.FromDecimal(t.Price, "USD") }));
        return entry;
    }

    private static EgressPrice Entry(string srcProvider, string src, string dstProvider, string dst) => new()
    {
        Src = new Location { Provider = srcProvider, Region = src },
        Dst = new Location { Provider = dstProvider, Region = dst },
    };
}
