using Sky.Testing;
using Sky.Directory.Catalog;
using Sky.Directory.V1;

namespace Sky.Directory.Tests.Catalog;

/// <summary>The real SkyPilot catalogs in ../shared/catalogs/skypilot, with the figures its SOURCE.md states.</summary>
public sealed class SkyPilotCatalogFileTests
{
    private static (CatalogReadResult Result, string Path) ReadFile(string provider)
    {
        var path = SharedData.Require($"catalogs/skypilot/{provider}/vms.csv");
        using var reader = new StreamReader(path);
        return (SkyPilotCatalog.Read(reader, provider), path);
    }

    private static Offer Offer(CatalogReadResult result, string key) => Assert.Single(result.Offers, o => o.Key == key);

    private static void AssertWellFormed(CatalogReadResult result, string provider)
    {
        Assert.Equal(result.Offers.Count, result.Offers.Select(o => o.Key).Distinct(StringComparer.Ordinal).Count());
        Assert.All(result.Offers, o =>
        {
            Assert.Equal(OfferKind.Compute, o.Kind);
            Assert.Equal(provider, o.Location.Provider);
            Assert.NotEmpty(o.Location.Region);
            Assert.True(o.Hardware.Vcpus > 0 && o.Hardware.MemoryGib > 0, o.Key);
            Assert.Contains(o.Hardware.Arch, new[] { "x86_64", "arm64" });
            Assert.All(o.Hardware.Accelerators, a => Assert.True(a.Count >= 1 && !a.Name.Any(char.IsWhiteSpace), o.Key));
            Assert.True(o.Price.OnDemandHourly is null || (o.Price.OnDemandHourly.CurrencyCode == "USD" && o.Price.OnDemandHourly.IsWellFormed()), o.Key);
        });
    }

    [SkippableFact]
    public void Aws_file_reads_every_row_as_an_offer()
    {
        var (result, _) = ReadFile("aws");

        Assert.Equal(46_148, result.Offers.Count);
        Assert.Equal(0, result.RowsSkipped);
        Assert.Empty(result.Issues);
        Assert.Equal(24, result.Offers.Select(o => o.Location.Region).Distinct().Count());
        Assert.Equal(1_133, result.Offers.Select(o => o.InstanceType).Distinct().Count());
        AssertWellFormed(result, "aws");

        var p4d = Offer(result, "p4d.24xlarge/us-east-1/use1-az1");
        Assert.Equal(21.957642m, p4d.Price.OnDemandHourly.ToDecimal());
        Assert.Equal(new Sky.Common.V1.Accelerator { Name = "A100", Count = 8 }, p4d.Hardware.Accelerators.Single());
        Assert.Equal(40, p4d.Hardware.AcceleratorMemoryGib);
        Assert.Equal(0.384m, Offer(result, "m6i.2xlarge/us-east-1/use1-az1").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(3.06m, Offer(result, "p3.2xlarge/us-east-1/use1-az1").Price.OnDemandHourly.ToDecimal());
        Assert.Equal(1.006m, Offer(result, "g5.xlarge/us-east-1/use1-az1").Price.OnDemandHourly.ToDecimal());
        Assert.Equal("arm64", Offer(result, "a1.2xlarge/ap-northeast-1/apne1-az2").Hardware.Arch);
        // The 102 rows without an on-demand price are still offers (spot-only or unpriced).
        Assert.Equal(102, result.Offers.Count(o => o.Price.OnDemandHourly is null));
    }

    [SkippableFact]
    public void Azure_file_reads_with_no_skipped_rows_despite_its_unquoted_generations()
    {
        var (result, _) = ReadFile("azure");

        Assert.Equal(0, result.RowsSkipped);
        Assert.Equal(56_671, result.Offers.Count);
        Assert.Equal(58, result.Offers.Select(o => o.Location.Region).Distinct().Count());
        Assert.Equal(1_432, result.Offers.Select(o => o.InstanceType).Distinct().Count());
        Assert.Equal(27_141, result.Offers.Count(o => o.Attributes["generation"] == "V1,V2"));
        Assert.All(result.Offers, o => Assert.Equal("", o.Location.Zone));
        AssertWellFormed(result, "azure");
        Assert.Equal(27.197m, Offer(result, "Standard_ND96asr_v4/eastus").Price.OnDemandHourly.ToDecimal());
        Assert.Equal("V1,V2", Offer(result, "Standard_B12ms/australiacentral").Attributes["generation"]);
    }

    [SkippableFact]
    public void Gcp_file_prices_gpu_machines_with_their_accelerators()
    {
        var (result, path) = ReadFile("gcp");
        var lines = File.ReadAllLines(path);
        var tpuRows = lines.Count(l => l.StartsWith(",,,tpu-", StringComparison.Ordinal));

        // a2-highgpu-1g in asia-northeast1: the machine row is 0.94803 (as in SkyPilot's official file),
        // the A100 x1 row in the same zone 1.70586.
        Assert.Contains(lines, l => l.StartsWith("a2-highgpu-1g,12.0,85.0,,,,asia-northeast1,asia-northeast1-a,0.94803,", StringComparison.Ordinal));
        var a2 = Offer(result, "a2-highgpu-1g/asia-northeast1/asia-northeast1-a");
        Assert.Equal(0.94803m + 1.70586m, a2.Price.OnDemandHourly.ToDecimal());
        Assert.Equal("A100", a2.Hardware.Accelerators.Single().Name);
        Assert.Equal(40, a2.Hardware.AcceleratorMemoryGib);
        Assert.Equal(0.73948m + 2.93391m, Offer(result, "a2-highgpu-1g/us-central1/us-central1-a").Price.OnDemandHourly.ToDecimal());

        // Skipped: the TPU rows and the two a3-megagpu-8g rows whose zones price no H100-MEGA.
        Assert.Equal(tpuRows + 2, result.RowsSkipped);
        Assert.Equal(2, result.Issues.Count(i => i.Message.StartsWith("a3-megagpu-8g", StringComparison.Ordinal)));
        // 28,890 machine rows less those two, plus one N1 offer per T4/V100/P100/P4 row.
        var n1Gpu = result.Offers.Where(o => o.Key.Contains('+')).ToList();
        Assert.Equal(28_888 + n1Gpu.Count, result.Offers.Count);
        Assert.Equal(lines.Count(l => l.StartsWith(",,,T4,") || l.StartsWith(",,,V100,") || l.StartsWith(",,,P100,") || l.StartsWith(",,,P4,")), n1Gpu.Count);
        Assert.All(n1Gpu, o => Assert.StartsWith("n1-", o.InstanceType));
        Assert.Equal(44, result.Offers.Select(o => o.Location.Region).Distinct().Count());
        Assert.Equal(385, result.Offers.Select(o => o.InstanceType).Distinct().Count());
        AssertWellFormed(result, "gcp");
    }

    [SkippableFact]
    public void Lambda_file_reads_every_row()
    {
        var (result, _) = ReadFile("lambda");
        Assert.Equal(425, result.Offers.Count);
        Assert.Equal(0, result.RowsSkipped);
        Assert.All(result.Offers, o => Assert.Null(o.Price.SpotHourly));
        AssertWellFormed(result, "lambda");
    }
}
