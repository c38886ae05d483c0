using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Transfer.Jobs;
using Sky.Transfer.Planning;

namespace Sky.Transfer.Tests;

/// <summary>The small catalog quote and usage tests price transfers on: aws us-east-1 to azure eastus, direct or through aws us-west-2.</summary>
internal static class TransferCatalogs
{
    public static Location At(string provider, string region) => new() { Provider = provider, Region = region };

    /// <summary>
    /// Egress tiered from us-east-1 to azure (0.09 to 10,240 GB, then 0.085), 0.02 within aws, <paramref name="westToAzure"/> per GB
    /// from us-west-2; 1 Gbps on every hop; m5.8xlarge gateways in both aws regions and a Standard_D32_v5 in eastus. Revision 42.
    /// </summary>
    public static TransferCatalogSnapshot Catalog(decimal westToAzure)
    {
        var egress = new[]
        {
            new EgressPrice { Src = At("aws", "us-east-1"), Dst = At("azure", ""), Tiers = { new EgressTier { UpToGb = 10_240, PricePerGb = Money.FromDecimal(0.09m, "USD") }, new EgressTier { PricePerGb = Money.FromDecimal(0.085m, "USD") } } },
            new EgressPrice { Src = At("aws", "us-east-1"), Dst = At("aws", ""), Tiers = { new EgressTier { PricePerGb = Money.FromDecimal(0.02m, "USD") } } },
            new EgressPrice { Src = At("aws", "us-west-2"), Dst = At("azure", ""), Tiers = { new EgressTier { PricePerGb = Money.FromDecimal(westToAzure, "USD") } } },
        };
        var throughput = new[]
        {
            new Throughput { Src = At("aws", "us-east-1"), Dst = At("azure", "eastus"), BitsPerSecond = 1_000_000_000 },
            new Throughput { Src = At("aws", "us-east-1"), Dst = At("aws", "us-west-2"), BitsPerSecond = 1_000_000_000 },
            new Throughput { Src = At("aws", "us-west-2"), Dst = At("azure", "eastus"), BitsPerSecond = 1_000_000_000 },
        };
        var gateways = new Dictionary<CloudRegion, GatewayOffer>
        {
            [new("aws", "us-east-1")] = new("m5.8xlarge", "offer-use1", 1.536m),
            [new("aws", "us-west-2")] = new("m5.8xlarge", "offer-usw2", 1.6m),
            [new("azure", "eastus")] = new("Standard_D32_v5", "offer-eastus", 1.7m),
        };
        return new TransferCatalogSnapshot(TransferNetwork.From(throughput, egress), gateways, 42);
    }
}
