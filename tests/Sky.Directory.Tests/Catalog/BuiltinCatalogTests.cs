using Sky.Directory.Catalog;
using Sky.Directory.V1;

namespace Sky.Directory.Tests.Catalog;

/// <summary>The built-in catalog and egress prices: complete, consistent, and priced as the providers list them.</summary>
public sealed class BuiltinCatalogTests
{
    private static readonly IReadOnlyList<Offer> Offers = BuiltinCatalog.Offers;

    private static Offer Offer(string provider, string key) =>
        Assert.Single(Offers, o => o.Location.Provider == provider && o.Key == key);

    [Fact]
    public void Keys_are_unique_and_follow_the_import_scheme()
    {
        Assert.Equal(Offers.Count, Offers.Select(o => (o.Location.Provider, o.Key)).Distinct().Count());
        Assert.All(Offers, o =>
        {
            var expected = o.Location.Zone.Length > 0 ? $"{o.InstanceType}/{o.Location.Region}/{o.Location.Zone}" : $"{o.InstanceType}/{o.Location.Region}";
            Assert.Equal(expected, o.Key);
        });
    }

    [Fact]
    public void Every_offer_is_a_priced_compute_offering_with_hardware()
    {
        Assert.All(Offers, o =>
        {
            Assert.Equal(OfferKind.Compute, o.Kind);
            Assert.True(o.Hardware.Vcpus > 0, o.Key);
            Assert.True(o.Hardware.MemoryGib > 0, o.Key);
            Assert.Contains(o.Hardware.Arch, new[] { "x86_64", "arm64" });
            Assert.Equal("USD", o.Price.OnDemandHourly.CurrencyCode);
            Assert.True(o.Price.OnDemandHourly.IsWellFormed() && o.Price.OnDemandHourly.ToDecimal() > 0, o.Key);
            Assert.Null(o.Price.SpotHourly);
            Assert.Equal(Availability.Available, o.Availability);
            Assert.Equal("", o.OfferId);
            Assert.Equal("", o.Origin);
            Assert.Equal(o.Location.Provider != "azure", o.Location.Zone.Length > 0);
            Assert.All(o.Hardware.Accelerators, a => Assert.True(a.Count >= 1));
            Assert.Equal(o.Hardware.Accelerators.Count > 0, o.Hardware.AcceleratorMemoryGib > 0);
        });
    }

    [Theory]
    [InlineData("aws")]
    [InlineData("gcp")]
    [InlineData("azure")]
    public void Each_cloud_has_at_least_24_types_across_us_eu_and_asia_with_gpus(string provider)
    {
        var cloud = Offers.Where(o => o.Location.Provider == provider).ToList();
        Assert.True(cloud.Select(o => o.InstanceType).Distinct().Count() >= 24);
        var regions = cloud.Select(o => o.Location.Region).Distinct().ToList();
        Assert.Contains(regions, r => r.StartsWith("us", StringComparison.Ordinal) || r.EndsWith("us", StringComparison.Ordinal) || r.Contains("us-", StringComparison.Ordinal));
        Assert.Contains(regions, r => r.Contains("eu", StringComparison.Ordinal));
        Assert.Contains(regions, r => r.Contains("ap", StringComparison.Ordinal) || r.Contains("asia", StringComparison.Ordinal) || r.Contains("japan", StringComparison.Ordinal));
        Assert.True(cloud.Count(o => o.Hardware.Accelerators.Count > 0) >= 5);
        Assert.Contains(cloud, o => o.Hardware.Arch == "arm64");
        Assert.Contains(cloud, o => o.Hardware.MemoryGib / o.Hardware.Vcpus >= 8);  // memory-optimised
        Assert.Contains(cloud, o => o.Hardware.MemoryGib / o.Hardware.Vcpus <= 2);  // compute-optimised
    }

    [Fact]
    public void Known_list_prices()
    {
        Assert.Equal(0.096m, Offer("aws", "m6i.large/us-east-1/use1-az1").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(0.384m, Offer("aws", "m6i.2xlarge/us-east-1/use1-az2").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(3.06m, Offer("aws", "p3.2xlarge/us-west-2/usw2-az1").Price.OnDemandHourly.ToDecimal());
        var p4d = Offer("aws", "p4d.24xlarge/us-east-1/use1-az1");
        Assert.Equal(21.957642m, p4d.Price.OnDemandHourly.ToDecimal());
        Assert.Equal("A100", p4d.Hardware.Accelerators.Single().Name);
        Assert.Equal(8, p4d.Hardware.Accelerators.Single().Count);
        Assert.Equal("arm64", Offer("aws", "m7g.large/eu-west-1/euw1-az2").Hardware.Arch);
        // GCP GPU machines are machine + GPUs: a2-highgpu-1g lists at 3.67339 in us-central1.
        Assert.Equal(3.67339m, Offer("gcp", "a2-highgpu-1g/us-central1/us-central1-a").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(0.70683m, Offer("gcp", "g2-standard-4/us-central1/us-central1-b").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(0.10692m, Offer("gcp", "n2-standard-2/europe-west4/europe-west4-a").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(27.197m, Offer("azure", "Standard_ND96asr_v4/eastus").Price.OnDemandHourly.ToDecimal());
        Assert.Equal("V1,V2", Offer("azure", "Standard_D2s_v5/westeurope").Attributes["generation"]);
        Assert.Equal("arm64", Offer("azure", "Standard_D2ps_v5/japaneast").Hardware.Arch);
    }

    [Fact]
    public void Callers_get_copies_they_may_change()
    {
        var first = BuiltinCatalog.Offers[0];
        first.OfferId = "changed";
        first.Price.OnDemandHourly.Units = 1000;
        BuiltinCatalog.EgressPrices[0].Tiers.Clear();
        Assert.Equal("", BuiltinCatalog.Offers[0].OfferId);
        Assert.Equal(0, BuiltinCatalog.Offers[0].Price.OnDemandHourly.Units);
        Assert.NotEmpty(BuiltinCatalog.EgressPrices[0].Tiers);
    }

    [Fact]
    public void Types_not_offered_in_a_region_or_zone_are_left_out()
    {
        Assert.DoesNotContain(Offers, o => o.InstanceType == "p5.48xlarge" && o.Location.Region == "eu-west-1");
        Assert.Equal(["euw1-az2"], Offers.Where(o => o.InstanceType == "p4d.24xlarge" && o.Location.Region == "eu-west-1").Select(o => o.Location.Zone));
        Assert.DoesNotContain(Offers, o => o.InstanceType == "t2a-standard-4" && o.Location.Region == "asia-northeast1");
        Assert.DoesNotContain(Offers, o => o.InstanceType == "Standard_ND96asr_v4" && o.Location.Region == "japaneast");
    }

    [Fact]
    public void Egress_covers_every_built_in_region_with_well_formed_tiers()
    {
        var egress = BuiltinCatalog.EgressPrices;
        Assert.Equal(egress.Count, egress.Select(e => (e.Src.Provider, e.Src.Region, e.Dst.Provider, e.Dst.Region)).Distinct().Count());
        var regions = Offers.Select(o => (o.Location.Provider, o.Location.Region)).Distinct().ToList();
        Assert.Equal(regions.Order(), BuiltinCatalog.Regions.Select(r => (r.Provider, r.Region)).Order());
        foreach (var (provider, region) in regions)
        {
            var from = egress.Where(e => e.Src.Provider == provider && e.Src.Region == region).ToList();
            Assert.Contains(from, e => e.Dst.Provider == "internet");
            Assert.Equal(0m, Assert.Single(from, e => e.Dst.Provider == provider && e.Dst.Region == region).Tiers.Single().PricePerGb.ToDecimal());
            foreach (var (otherProvider, otherRegion) in regions.Where(r => r != (provider, region)))
                Assert.Contains(from, e => e.Dst.Provider == otherProvider && (e.Dst.Region == otherRegion || e.Dst.Region == ""));
        }
        Assert.All(egress, e =>
        {
            Assert.Equal("", e.Src.Zone);
            Assert.NotEmpty(e.Tiers);
            Assert.Equal(0, e.Tiers[^1].UpToGb);
            for (var i = 1; i < e.Tiers.Count - 1; i++) Assert.True(e.Tiers[i].UpToGb > e.Tiers[i - 1].UpToGb);
            Assert.All(e.Tiers, t => Assert.Equal("USD", t.PricePerGb.CurrencyCode));
        });
    }

    [Fact]
    public void Egress_prices_follow_the_published_rules()
    {
        decimal First(string src, string region, string dst, string dstRegion = "") =>
            Assert.Single(BuiltinCatalog.EgressPrices, e => e.Src.Provider == src && e.Src.Region == region && e.Dst.Provider == dst && e.Dst.Region == dstRegion)
                .Tiers[0].PricePerGb.ToDecimal();

        var awsInternet = Assert.Single(BuiltinCatalog.EgressPrices, e => e.Src.Region == "us-east-1" && e.Dst.Provider == "internet");
        Assert.Equal(new[] { (10_240L, 0.09m), (51_200L, 0.085m), (153_600L, 0.07m), (0L, 0.05m) },
            awsInternet.Tiers.Select(t => (t.UpToGb, t.PricePerGb.ToDecimal())));
        Assert.Equal(0.02m, First("aws", "us-east-1", "aws"));
        Assert.Equal(0.02m, First("aws", "us-east-1", "aws", "eu-west-1"));
        Assert.Equal(0.09m, First("aws", "ap-northeast-1", "aws", "us-east-1"));
        Assert.Equal(0.114m, First("aws", "ap-northeast-1", "internet"));
        Assert.Equal(0.09m, First("aws", "us-west-2", "gcp"));
        Assert.Equal(0.12m, First("gcp", "us-central1", "internet"));
        Assert.Equal(0.05m, First("gcp", "us-central1", "gcp", "europe-west4"));
        Assert.Equal(0.08m, First("gcp", "europe-west4", "gcp", "asia-northeast1"));
        Assert.Equal(0.087m, First("azure", "eastus", "internet"));
        Assert.Equal(0.12m, First("azure", "japaneast", "aws"));
        Assert.Equal(0.05m, First("azure", "westeurope", "azure", "eastus"));
        Assert.Equal(0.08m, First("azure", "japaneast", "azure", "westeurope"));
    }
}
