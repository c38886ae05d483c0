using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.V1;

namespace Sky.Directory.Tests.Catalog;

/// <summary>SkyPilot v8 vms.csv layouts read from small inline files.</summary>
public sealed class SkyPilotCatalogTests
{
    private const string AwsHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch";
    private const string GcpHeader = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice";
    private const string AzureHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation";
    private const string LambdaHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice";

    private const string A100Info = "\"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'LogicalGpuCount': 8, 'Workloads': ['ml-ai'], 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}\"";

    private static CatalogReadResult Read(string provider, params string[] lines) =>
        SkyPilotCatalog.Read(new StringReader(string.Join("\n", lines) + "\n"), provider);

    private static Offer Single(CatalogReadResult result, string key) => Assert.Single(result.Offers, o => o.Key == key);

    private static void AssertUsd(decimal expected, Money? money)
    {
        Assert.NotNull(money);
        Assert.Equal("USD", money.CurrencyCode);
        Assert.Equal(expected, money.ToDecimal());
    }

    [Fact]
    public void Aws_row_becomes_a_compute_offer_with_exact_prices_and_gpu_info()
    {
        var result = Read("aws", AwsHeader,
            $"p4d.24xlarge,A100,8.0,96.0,1152.0,{A100Info},21.957642,8.123400,us-east-1,use1-az1,x86_64");

        Assert.Equal(0, result.RowsSkipped);
        Assert.Empty(result.Issues);
        var offer = Single(result, "p4d.24xlarge/us-east-1/use1-az1");
        Assert.Equal(OfferKind.Compute, offer.Kind);
        Assert.Equal(new Location { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" }, offer.Location);
        Assert.Equal("p4d.24xlarge", offer.InstanceType);
        Assert.Equal(96, offer.Hardware.Vcpus);
        Assert.Equal(1152, offer.Hardware.MemoryGib);
        Assert.Equal(new Accelerator { Name = "A100", Count = 8 }, Assert.Single(offer.Hardware.Accelerators));
        Assert.Equal(40, offer.Hardware.AcceleratorMemoryGib);
        Assert.Equal("x86_64", offer.Hardware.Arch);
        Assert.Equal(21, offer.Price.OnDemandHourly.Units);
        Assert.Equal(957_642_000, offer.Price.OnDemandHourly.Nanos);
        AssertUsd(8.1234m, offer.Price.SpotHourly);
        Assert.Equal(Availability.Available, offer.Availability);
        Assert.Equal("NVIDIA", offer.Attributes["gpu_manufacturer"]);
        // Output-only fields are the engine's to set.
        Assert.Equal("", offer.OfferId);
        Assert.Equal("", offer.Origin);
        Assert.Equal("", offer.LeaseId);
        Assert.Null(offer.LeaseExpiresAt);
        Assert.Equal(0, offer.Revision);
        Assert.Null(offer.CreatedAt);
    }

    [Fact]
    public void Prices_are_parsed_from_the_decimal_text_without_rounding()
    {
        var result = Read("aws", AwsHeader,
            "m6i.2xlarge,,,8.0,32.0,,0.384,0.1234567,us-east-1,use1-az1,x86_64",
            "x.tiny,,,1.0,0.5,,0.000000001,1e-05,us-east-1,use1-az1,x86_64");

        var m6i = Single(result, "m6i.2xlarge/us-east-1/use1-az1");
        Assert.Equal(new Money { CurrencyCode = "USD", Units = 0, Nanos = 384_000_000 }, m6i.Price.OnDemandHourly);
        Assert.Equal(123_456_700, m6i.Price.SpotHourly.Nanos);
        var tiny = Single(result, "x.tiny/us-east-1/use1-az1");
        Assert.Equal(1, tiny.Price.OnDemandHourly.Nanos);
        AssertUsd(0.00001m, tiny.Price.SpotHourly);
    }

    [Fact]
    public void Empty_prices_leave_the_price_unset()
    {
        var result = Read("aws", AwsHeader,
            "f1.2xlarge,Virtex UltraScale (VU9P),1.0,8.0,122.0,,1.734,,eu-central-1,euc1-az1,x86_64",
            "m5.large,,,2.0,8.0,,,0.05,eu-central-1,euc1-az1,x86_64");

        var f1 = Single(result, "f1.2xlarge/eu-central-1/euc1-az1");
        AssertUsd(1.734m, f1.Price.OnDemandHourly);
        Assert.Null(f1.Price.SpotHourly);
        // The directory takes accelerator names without whitespace.
        Assert.Equal("Virtex-UltraScale-(VU9P)", f1.Hardware.Accelerators.Single().Name);
        var m5 = Single(result, "m5.large/eu-central-1/euc1-az1");
        Assert.Null(m5.Price.OnDemandHourly);
        AssertUsd(0.05m, m5.Price.SpotHourly);
    }

    [Theory]
    [InlineData("x86_64", "x86_64", null)]
    [InlineData("arm64", "arm64", null)]
    [InlineData("", "x86_64", null)]
    [InlineData("i386", "x86_64", "i386")]
    [InlineData("arm64_mac", "arm64", "arm64_mac")]
    [InlineData("x86_64_mac", "x86_64", "x86_64_mac")]
    [InlineData("riscv64", "", "riscv64")]
    public void Aws_arch_values_map_to_the_directorys(string catalog, string arch, string? raw)
    {
        var offer = Read("aws", AwsHeader, $"t.small,,,2.0,2.0,,0.02,,us-east-1,use1-az1,{catalog}").Offers.Single();
        Assert.Equal(arch, offer.Hardware.Arch);
        Assert.Equal(raw, offer.Attributes.GetValueOrDefault("catalog_arch"));
    }

    [Fact]
    public void Malformed_rows_are_skipped_and_reported_with_their_line_numbers()
    {
        var result = Read("aws", AwsHeader,
            "m6i.large,,,2.0,8.0,,0.096,,us-east-1,use1-az1,x86_64",   // line 2: good
            "m6i.xlarge,,,four,16.0,,0.192,,us-east-1,use1-az1,x86_64", // line 3: bad vCPUs
            "m6i.2xlarge,,,8.0,32.0,,0.384,,,use1-az1,x86_64",          // line 4: no region
            "m6i.4xlarge,,,16.0,64.0,,0.768,,us-east-1",                // line 5: 9 fields
            "m6i.8xlarge,,,32.0,128.0,,-1.5,,us-east-1,use1-az1,x86_64", // line 6: negative price
            "",                                                        // line 7: blank, ignored
            "c6i.large,,,2.0,4.0,,0.0850000001,,us-east-1,use1-az1,x86_64", // line 8: 10 decimals
            "c6i.xlarge,,,4.0,8.0,,abc,,us-east-1,use1-az1,x86_64",     // line 9: bad price
            "g5.xlarge,A10G,,4.0,16.0,,1.006,,us-east-1,use1-az1,x86_64", // line 10: name without count
            "c6i.2xlarge,,,8.0,16.0,,0.34,,us-east-1,use1-az1,x86_64"); // line 11: good

        Assert.Equal(["m6i.large/us-east-1/use1-az1", "c6i.2xlarge/us-east-1/use1-az1"], result.Offers.Select(o => o.Key));
        Assert.Equal(7, result.RowsSkipped);
        Assert.Equal([3L, 4, 5, 6, 8, 9, 10], result.Issues.Select(i => i.Line));
        Assert.Contains("vCPUs", result.Issues[0].Message);
        Assert.Contains("Region", result.Issues[1].Message);
        Assert.Contains("expected 11 fields, found 9", result.Issues[2].Message);
        Assert.Contains("Price", result.Issues[3].Message);
        Assert.Contains("9 decimal places", result.Issues[4].Message);
        Assert.Contains("'abc'", result.Issues[5].Message);
        Assert.Contains("AcceleratorCount", result.Issues[6].Message);
    }

    [Fact]
    public void Bad_quoting_is_reported_and_does_not_swallow_the_rest_of_the_file()
    {
        var result = Read("aws", AwsHeader,
            "m6i.large,,,2.0,8.0,\"{'Gpus': [],0.096,,us-east-1,use1-az1,x86_64", // line 2: quote never closed
            "m6i.xlarge,,,4.0,16.0,,0.192,,us-east-1,use1-az1,x86_64");

        Assert.Equal("m6i.xlarge/us-east-1/use1-az1", Assert.Single(result.Offers).Key);
        Assert.Equal(2, Assert.Single(result.Issues).Line);
        Assert.Equal(1, result.RowsSkipped);
    }

    [Fact]
    public void Only_the_first_100_issues_are_kept_but_every_skipped_row_is_counted()
    {
        var lines = new List<string> { AwsHeader };
        for (var i = 0; i < 150; i++) lines.Add($"bad.{i},,,x,8.0,,0.1,,us-east-1,use1-az1,x86_64");
        lines.Add("m6i.large,,,2.0,8.0,,0.096,,us-east-1,use1-az1,x86_64");
        var result = Read("aws", [.. lines]);

        Assert.Single(result.Offers);
        Assert.Equal(150, result.RowsSkipped);
        Assert.Equal(100, result.Issues.Count);
        Assert.Equal(Enumerable.Range(2, 100).Select(i => (long)i), result.Issues.Select(i => i.Line));
    }

    [Fact]
    public void A_later_row_with_the_same_key_replaces_the_earlier_one()
    {
        var result = Read("aws", AwsHeader,
            "m6i.large,,,2.0,8.0,,0.096,,us-east-1,use1-az1,x86_64",
            "c6i.large,,,2.0,4.0,,0.085,,us-east-1,use1-az1,x86_64",
            "m6i.large,,,2.0,8.0,,0.1,,us-east-1,use1-az1,x86_64");

        Assert.Equal(["m6i.large/us-east-1/use1-az1", "c6i.large/us-east-1/use1-az1"], result.Offers.Select(o => o.Key));
        AssertUsd(0.1m, result.Offers[0].Price.OnDemandHourly);
        Assert.Equal(0, result.RowsSkipped);
    }

    [Fact]
    public void Fractional_gpus_are_kept_as_an_attribute_not_an_accelerator()
    {
        var offer = Read("aws", AwsHeader, "g6f.large,L4,0.125,2.0,8.0,,0.2,,us-east-1,use1-az1,x86_64").Offers.Single();
        Assert.Empty(offer.Hardware.Accelerators);
        Assert.Equal("L4:0.125", offer.Attributes["accelerator_fraction"]);
    }

    [Fact]
    public void Columns_may_come_in_any_order_and_lines_may_end_in_crlf()
    {
        var csv = "Region,AvailabilityZone,Arch,InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice\r\n" +
                  "us-west-2,usw2-az1,arm64,m7g.large,,,2.0,8.0,,0.0816,\r\n";
        var offer = SkyPilotCatalog.Read(new StringReader(csv), "aws").Offers.Single();
        Assert.Equal("m7g.large/us-west-2/usw2-az1", offer.Key);
        Assert.Equal("arm64", offer.Hardware.Arch);
        AssertUsd(0.0816m, offer.Price.OnDemandHourly);
    }

    [Fact]
    public void A_header_of_another_layout_is_rejected_naming_the_expected_columns()
    {
        var ex = Assert.Throws<ArgumentException>(() => Read("aws", GcpHeader, "n2-standard-2,2.0,8.0,,,,us-central1,us-central1-a,0.09712,"));
        Assert.Contains(AwsHeader, ex.Message);
        Assert.Contains("missing Arch", ex.Message);

        var renamed = Assert.Throws<ArgumentException>(() => Read("lambda", LambdaHeader.Replace("Price,", "Cost,")));
        Assert.Contains("unexpected column 'Cost'", renamed.Message);
        Assert.Contains(LambdaHeader, renamed.Message);

        Assert.Throws<ArgumentException>(() => SkyPilotCatalog.Read(new StringReader(""), "azure"));
    }

    [Fact]
    public void An_unknown_provider_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Read("oracle", AwsHeader));
        Assert.Contains("aws, azure, gcp, lambda", ex.Message);
        Assert.Equal(["aws", "azure", "gcp", "lambda"], SkyPilotCatalog.Providers.Order());
    }

    [Fact]
    public void Azure_accepts_the_unquoted_v1_v2_generation_and_quoted_rows()
    {
        var result = Read("azure", AzureHeader,
            "Standard_A1_v2,,,1,2,,0.05,0.00924,australiacentral,V1",
            "Standard_B12ms,,,12,48,,0.634,,australiacentral,V1,V2",
            "\"Standard_D2s_v5\",,,2,8,,0.096,0.0096,eastus,\"V1,V2\"",
            "Standard_D2ps_v5,,,2,8,,0.077,,eastus,V2",
            "Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100-80GB,3.673,0.73,eastus,V2",
            "Standard_X,,,1,2,,0.05,,eastus,V1,V2,V3");

        Assert.Equal(1, result.RowsSkipped);
        Assert.Equal(7, Assert.Single(result.Issues).Line);
        Assert.Equal("V1", Single(result, "Standard_A1_v2/australiacentral").Attributes["generation"]);
        var b12 = Single(result, "Standard_B12ms/australiacentral");
        Assert.Equal("V1,V2", b12.Attributes["generation"]);
        Assert.Equal(new Location { Provider = "azure", Region = "australiacentral" }, b12.Location);
        Assert.Null(b12.Price.SpotHourly);
        Assert.Equal("V1,V2", Single(result, "Standard_D2s_v5/eastus").Attributes["generation"]);
        Assert.Equal("arm64", Single(result, "Standard_D2ps_v5/eastus").Hardware.Arch);
        var a100 = Single(result, "Standard_NC24ads_A100_v4/eastus");
        Assert.Equal("x86_64", a100.Hardware.Arch);
        Assert.Equal(new Accelerator { Name = "A100-80GB", Count = 1 }, a100.Hardware.Accelerators.Single());
        Assert.Equal(0, a100.Hardware.AcceleratorMemoryGib); // Azure's GpuInfo is only the name
        Assert.False(a100.Attributes.ContainsKey("gpu_manufacturer"));
    }

    [Fact]
    public void Lambda_layout_reads_per_gpu_memory_and_has_no_zone()
    {
        var result = Read("lambda", LambdaHeader,
            "gpu_8x_v100_n,V100,8.0,88.0,448.0,6.32,europe-central-1,\"{'Gpus': [{'Name': 'V100', 'Manufacturer': 'NVIDIA', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}\",",
            "gpu_1x_gh200,GH200,1.0,64.0,432.0,1.49,us-east-3,\"{'Gpus': [{'Name': 'GH200', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 98304}}], 'TotalGpuMemoryInMiB': 98304}\",");

        var v100 = Single(result, "gpu_8x_v100_n/europe-central-1");
        Assert.Equal("", v100.Location.Zone);
        Assert.Equal(16, v100.Hardware.AcceleratorMemoryGib);
        Assert.Equal(8, v100.Hardware.Accelerators.Single().Count);
        AssertUsd(6.32m, v100.Price.OnDemandHourly);
        Assert.Null(v100.Price.SpotHourly);
        var gh200 = Single(result, "gpu_1x_gh200/us-east-3");
        Assert.Equal("arm64", gh200.Hardware.Arch);
        Assert.Equal(96, gh200.Hardware.AcceleratorMemoryGib);
    }

    [Fact]
    public void A_gpu_info_that_is_not_a_python_literal_makes_the_row_malformed()
    {
        var result = Read("aws", AwsHeader,
            "p3.2xlarge,V100,1.0,8.0,61.0,\"{'Gpus': [{'Name': 'V100'\",3.06,,us-east-1,use1-az1,x86_64");
        Assert.Empty(result.Offers);
        Assert.Contains("GpuInfo", Assert.Single(result.Issues).Message);
    }

    // ---- GCP: accelerators priced separately ----------------------------------------------------------

    private static readonly string[] GcpA100 =
    [
        GcpHeader,
        "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975",              // line 2
        "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-f,0.73948,0.36975",              // line 3: no A100 price in -f
        ",,,A100,1,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 40960}}]},us-central1,us-central1-a,2.93391,1.4341", // line 4
        ",,,A100,2,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 40960}}]},us-central1,us-central1-a,5.86782,2.8682", // line 5: no a2-highgpu-2g here
        "n2-standard-2,2.0,8.0,,,,us-central1,us-central1-a,0.09712,0.02",                   // line 6
    ];

    [Fact]
    public void Gcp_fixed_gpu_hosts_add_the_accelerator_rows_price_in_the_same_zone()
    {
        var result = Read("gcp", GcpA100);

        var a2 = Single(result, "a2-highgpu-1g/us-central1/us-central1-a");
        AssertUsd(0.73948m + 2.93391m, a2.Price.OnDemandHourly); // 3.67339, GCP's list price for a2-highgpu-1g
        AssertUsd(0.36975m + 1.4341m, a2.Price.SpotHourly);
        Assert.Equal(new Accelerator { Name = "A100", Count = 1 }, a2.Hardware.Accelerators.Single());
        Assert.Equal(40, a2.Hardware.AcceleratorMemoryGib);
        Assert.Equal(12, a2.Hardware.Vcpus);

        // The A100 rows make no offers of their own; the host in a zone without an A100 price is skipped.
        Assert.Equal(["a2-highgpu-1g/us-central1/us-central1-a", "n2-standard-2/us-central1/us-central1-a"], result.Offers.Select(o => o.Key));
        var issue = Assert.Single(result.Issues);
        Assert.Equal(3, issue.Line);
        Assert.Contains("A100:1", issue.Message);
        Assert.Contains("us-central1-f", issue.Message);
    }

    [Fact]
    public void Gcp_spot_price_is_set_only_when_host_and_accelerator_both_have_one()
    {
        var result = Read("gcp", GcpHeader,
            "g2-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.14679,",
            ",,,L4,1,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 24576}}]},us-central1,us-central1-a,0.56004,0.2343");

        var g2 = result.Offers.Single();
        AssertUsd(0.70683m, g2.Price.OnDemandHourly);
        Assert.Null(g2.Price.SpotHourly);
        Assert.Equal(new Accelerator { Name = "L4", Count = 1 }, g2.Hardware.Accelerators.Single());
        Assert.Equal(24, g2.Hardware.AcceleratorMemoryGib);
    }

    [Fact]
    public void Gcp_n1_attachable_gpus_get_an_offer_on_the_cheapest_default_host_in_the_zone()
    {
        // T4 x1: SkyPilot's default host has 4+ vCPUs and 16+ GiB; n1-standard-4 (15 GiB) is too small,
        // n1-highmem-4 (26 GiB) is the cheapest that fits.
        var result = Read("gcp", GcpHeader,
            "n1-standard-4,4.0,15.0,,,,us-central1,us-central1-a,0.19,0.04",
            "n1-highmem-4,4.0,26.0,,,,us-central1,us-central1-a,0.236606,0.05",
            "n1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.38,0.08",
            "n1-standard-8,8.0,30.0,,,,us-central1,us-central1-b,0.38,0.08",
            "e2-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.1,0.03",
            ",,,T4,1,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]},us-central1,us-central1-a,0.35,0.1654",
            ",,,V100,8,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]},us-central1,us-central1-a,19.84,9.92",  // line 8: needs 64 vCPUs
            ",,,P100,3,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]},us-central1,us-central1-a,4.38,1.0");  // line 9: no such count

        var t4 = Single(result, "n1-highmem-4+T4:1/us-central1/us-central1-a");
        Assert.Equal("n1-highmem-4", t4.InstanceType);
        Assert.Equal(26, t4.Hardware.MemoryGib);
        Assert.Equal(new Accelerator { Name = "T4", Count = 1 }, t4.Hardware.Accelerators.Single());
        Assert.Equal(16, t4.Hardware.AcceleratorMemoryGib);
        AssertUsd(0.236606m + 0.35m, t4.Price.OnDemandHourly);
        AssertUsd(0.05m + 0.1654m, t4.Price.SpotHourly);
        // The N1 hosts stay CPU-only offers too.
        Assert.Empty(Single(result, "n1-highmem-4/us-central1/us-central1-a").Hardware.Accelerators);
        Assert.Equal(6, result.Offers.Count);
        Assert.Equal([8L, 9], result.Issues.Select(i => i.Line));
        Assert.Contains("64+ vCPUs", result.Issues[0].Message);
    }

    [Fact]
    public void Gcp_tpu_rows_are_reported_not_imported()
    {
        var result = Read("gcp", GcpHeader,
            ",,,tpu-v2-8,1,tpu-v2-8,us-central1,us-central1-b,4.5,1.35",
            "n2-standard-2,2.0,8.0,,,,us-central1,us-central1-b,0.09712,0.02");

        Assert.Equal("n2-standard-2/us-central1/us-central1-b", Assert.Single(result.Offers).Key);
        var issue = Assert.Single(result.Issues);
        Assert.Equal(2, issue.Line);
        Assert.Contains("TPU", issue.Message);
    }

    [Fact]
    public void Gcp_host_rows_that_name_their_accelerator_are_priced_with_it_when_it_is_listed()
    {
        var result = Read("gcp", GcpHeader,
            "a3-highgpu-8g,208.0,1872.0,H100,8,,us-central1,us-central1-a,9.46006,3.86318",
            "a3-highgpu-8g,208.0,1872.0,H100,8,,us-central1,us-central1-b,88.25,",
            ",,,H100,8,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 81920}}]},us-central1,us-central1-a,33.60609,32.0104");

        var priced = Single(result, "a3-highgpu-8g/us-central1/us-central1-a");
        AssertUsd(9.46006m + 33.60609m, priced.Price.OnDemandHourly);
        Assert.Equal(80, priced.Hardware.AcceleratorMemoryGib);
        Assert.Single(priced.Hardware.Accelerators);
        // No H100 row in -b: the row's own price stands.
        AssertUsd(88.25m, Single(result, "a3-highgpu-8g/us-central1/us-central1-b").Price.OnDemandHourly);
        Assert.Empty(result.Issues);
    }

    [Fact]
    public void Gcp_arm_families_are_arm64()
    {
        var result = Read("gcp", GcpHeader,
            "t2a-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.154,0.05",
            "n2d-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.17,0.05");
        Assert.Equal("arm64", Single(result, "t2a-standard-4/us-central1/us-central1-a").Hardware.Arch);
        Assert.Equal("x86_64", Single(result, "n2d-standard-4/us-central1/us-central1-a").Hardware.Arch);
    }

    [Fact]
    public void Gcp_accelerator_rows_without_a_name_are_malformed()
    {
        var result = Read("gcp", GcpHeader, ",,,,,,us-central1,us-central1-a,0.35,0.1");
        Assert.Empty(result.Offers);
        Assert.Equal(2, Assert.Single(result.Issues).Line);
    }
}
