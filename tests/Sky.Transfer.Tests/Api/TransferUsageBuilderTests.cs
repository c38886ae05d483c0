using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Transfer.Jobs;
using Sky.Transfer.Planning;
using Sky.Transfer.V1;
using static Sky.Transfer.Tests.TransferCatalogs;

namespace Sky.Transfer.Tests.Api;

/// <summary>The usage a finished transfer reports: bytes split over the routes exactly, summed per region pair, VM time per group.</summary>
public sealed class TransferUsageBuilderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);

    // Tiered from us-east-1, as both the quote and the usage carry; 0.09 per GB from us-west-2.
    private static TransferCatalogSnapshot Catalog() => TransferCatalogs.Catalog(0.09m);

    private static TransferJob Job(params (long Bytes, (string, string)[] Hops)[] routes)
    {
        var plan = new TransferPlan { TotalCost = Money.FromDecimal(0, "USD") };
        foreach (var (bytes, hops) in routes)
        {
            var route = new TransferRoute { Bytes = bytes };
            route.Hops.AddRange(hops.Select(h => At(h.Item1, h.Item2)));
            plan.Routes.Add(route);
        }
        plan.Gateways.Add(new GatewayGroup { Location = At("aws", "us-east-1"), VmCount = 3, InstanceType = "m5.8xlarge", OfferId = "offer-use1" });
        plan.Gateways.Add(new GatewayGroup { Location = At("aws", "us-west-2"), VmCount = 2, InstanceType = "m5.8xlarge", OfferId = "offer-usw2" });
        return new TransferJob
        {
            TransferId = "xfer-1", TenantId = "acme", QuoteId = "q-1", Plan = plan,
            CreatedAt = Timestamp.FromDateTimeOffset(Start), StartedAt = Timestamp.FromDateTimeOffset(Start.AddSeconds(2)),
            EndedAt = Timestamp.FromDateTimeOffset(Start.AddSeconds(92)),
        };
    }

    [Fact]
    public void Bytes_split_over_routes_add_up_exactly_and_are_summed_per_region_pair()
    {
        var job = Job(
            (2_000, [("aws", "us-east-1"), ("azure", "eastus")]),
            (1_000, [("aws", "us-east-1"), ("aws", "us-west-2"), ("azure", "eastus")]));
        var usage = TransferUsageBuilder.Build(job, Catalog(), bytesCopied: 1_000_001);

        Assert.Equal(("transfer:xfer-1", "acme", "q-1", 42L), (usage.IdempotencyKey, usage.TenantId, usage.QuoteId, usage.PriceBookRevision));
        var pairs = usage.Egress.ToDictionary(e => $"{e.Source.Provider}/{e.Source.Region}->{e.Destination.Provider}/{e.Destination.Region}", e => e.Bytes);
        // Two thirds direct (floor), the last route takes the rest, so every byte is counted once per hop it crossed.
        Assert.Equal(666_667, pairs["aws/us-east-1->azure/eastus"]);
        Assert.Equal(333_334, pairs["aws/us-east-1->aws/us-west-2"]);
        Assert.Equal(333_334, pairs["aws/us-west-2->azure/eastus"]);
        // A tiered price is reported at its first tier: accounting applies the volume tiers.
        Assert.Equal(0.09m, usage.Egress.First(e => e.Destination.Provider == "azure" && e.Source.Region == "us-east-1").UnitPrice.ToDecimal());
        Assert.All(usage.Egress, e => Assert.Equal("gb", e.PriceUnit));
    }

    [Fact]
    public void Gateway_time_is_the_copy_wall_time_times_the_vms_at_the_offer_price()
    {
        var usage = TransferUsageBuilder.Build(Job((10, [("aws", "us-east-1"), ("azure", "eastus")])), Catalog(), bytesCopied: 10);
        var east = usage.Gateways.Single(g => g.Location.Region == "us-east-1");
        Assert.Equal((3, TimeSpan.FromSeconds(270), 1.536m, "hour", "offer-use1"), (east.VmCount, east.VmTime.ToTimeSpan(), east.UnitPrice.ToDecimal(), east.PriceUnit, east.OfferId));
        Assert.Equal(TimeSpan.FromSeconds(180), usage.Gateways.Single(g => g.Location.Region == "us-west-2").VmTime.ToTimeSpan());
        Assert.Equal(Start.AddSeconds(2), usage.UsageStart.ToDateTimeOffset());
    }

    [Fact]
    public void Pairs_without_an_egress_price_and_same_region_hops_bill_nothing()
    {
        var job = Job((500, [("local", "local"), ("aws", "us-east-1")]));
        job.Plan.Gateways.Clear();
        var usage = TransferUsageBuilder.Build(job, Catalog(), bytesCopied: 500);
        Assert.Empty(usage.Egress);
        Assert.Empty(usage.Gateways);
    }
}
