using Sky.Testing;
using Sky.Common.V1;
using Sky.Directory.Catalog;
using Sky.Directory.V1;

namespace Sky.Directory.Tests.Catalog;

/// <summary>Skyplane's cost and throughput grids, inline and from ../shared/anchors/skyplane.</summary>
public sealed class SkyplaneGridsTests
{
    private const string ThroughputHeader =
        "src_region,src_tier,src_instance_class,dst_region,dst_tier,dst_instance_class,iperf3_connections,iperf3_runtime,tag,stdout_path,stderr_path,throughput_sent,throughput_received,cpu_utilization,success";

    private static IReadOnlyList<EgressPrice> Cost(params string[] lines) => SkyplaneGrids.ReadCost(new StringReader(string.Join("\n", lines) + "\n"));

    private static IReadOnlyList<Throughput> Throughput(params string[] lines) => SkyplaneGrids.ReadThroughput(new StringReader(string.Join("\n", lines) + "\n"));

    /// <summary>A row measuring <paramref name="sent"/> bits/s at the sender (the receiver's figure is lower, as in Skyplane's files).</summary>
    private static string Row(string src, string srcTier, string dst, string dstTier, string sent, string connections = "64", string success = "True") =>
        $"{src},{srcTier},m5.8xlarge,{dst},{dstTier},n2-standard-32,{connections},5,tag,/out,/err,{sent},1000.0,7.5,{success}";

    /// <summary>A row of a file with no throughput_sent column: <paramref name="received"/> is all there is.</summary>
    private static string ReceivedOnlyRow(string src, string srcTier, string dst, string dstTier, string received) =>
        $"{src},{srcTier},m5.8xlarge,{dst},{dstTier},n2-standard-32,64,5,tag,/out,/err,{received},7.5,True";

    [Fact]
    public void Cost_reads_premium_pairs_as_one_exact_flat_tier_with_gcp_zones_as_regions()
    {
        var grid = Cost("src,dest,src_tier,dest_tier,cost",
            "aws:af-south-1,aws:ap-east-1,PREMIUM,PREMIUM,0.147",
            "gcp:us-central1-a,azure:eastus,PREMIUM,PREMIUM,0.12",
            "gcp:us-central1-a,aws:us-east-1,STANDARD,PREMIUM,0.085",
            "aws:us-east-1,aws:us-east-1,PREMIUM,PREMIUM,0.0");

        Assert.Equal(3, grid.Count);
        var first = grid[0];
        Assert.Equal(new Location { Provider = "aws", Region = "af-south-1" }, first.Src);
        Assert.Equal(new Location { Provider = "aws", Region = "ap-east-1" }, first.Dst);
        var tier = Assert.Single(first.Tiers);
        Assert.Equal(0, tier.UpToGb);
        Assert.Equal(new Money { CurrencyCode = "USD", Units = 0, Nanos = 147_000_000 }, tier.PricePerGb);
        Assert.Equal(new Location { Provider = "gcp", Region = "us-central1" }, grid[1].Src);
        Assert.Equal(0m, grid[2].Tiers[0].PricePerGb.ToDecimal());
    }

    [Fact]
    public void Cost_without_tier_columns_reads_every_row_and_a_later_pair_wins()
    {
        var grid = Cost("src,dest,cost",
            "aws:us-east-2,azure:eastus,0.09",
            "gcp:us-west1-a,aws:us-east-2,0.12",
            "gcp:us-west1-b,aws:us-east-2,0.125");

        Assert.Equal(2, grid.Count);
        Assert.Equal(0.125m, grid[1].Tiers[0].PricePerGb.ToDecimal());
    }

    [Fact]
    public void Cost_bad_rows_fail_naming_the_line()
    {
        var ex = Assert.Throws<FormatException>(() => Cost("src,dest,cost", "aws:us-east-1,aws:us-west-2,0.02", "aws:us-east-1,aws:eu-west-1,cheap"));
        Assert.StartsWith("line 3:", ex.Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Cost("src,dest,cost", "us-east-1,aws:us-west-2,0.02")).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Cost("src,dest,cost", "aws:us-east-1,aws:us-west-2,-0.02")).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Cost("src,dest,cost", "aws:us-east-1,aws:us-west-2")).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Cost("src,dest,src_tier,dest_tier,cost", "aws:us-east-1,aws:us-west-2,PREMUIM,PREMIUM,0.02")).Message);
        Assert.StartsWith("line 1:", Assert.Throws<FormatException>(() => Cost("source,dest,cost")).Message);
        Assert.StartsWith("line 1:", Assert.Throws<FormatException>(() => Cost("src,dest,src_tier,cost")).Message);
    }

    [Fact]
    public void Throughput_reads_premium_pairs_at_the_senders_rate_in_bits_per_second_with_gcp_zones()
    {
        var grid = Throughput(ThroughputHeader,
            Row("aws:eu-west-3", "PREMIUM", "gcp:europe-west6-a", "STANDARD", "4737423753.341652"),
            Row("azure:germanywestcentral", "PREMIUM", "aws:eu-west-2", "PREMIUM", "9374196843.988937"),
            Row("gcp:us-central1-a", "PREMIUM", "aws:us-east-1", "PREMIUM", "5000000000.5", connections: "32"),
            Row("aws:us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "1.0e9", success: "False"));

        Assert.Equal(2, grid.Count);
        var azure = grid[0];
        Assert.Equal(new Location { Provider = "azure", Region = "germanywestcentral" }, azure.Src);
        Assert.Equal(new Location { Provider = "aws", Region = "eu-west-2" }, azure.Dst);
        Assert.Equal(9_374_196_844, azure.BitsPerSecond);
        Assert.Equal(64, azure.Connections);
        Assert.Null(azure.Rtt);
        Assert.Null(azure.MeasuredAt);
        var gcp = grid[1];
        Assert.Equal(new Location { Provider = "gcp", Region = "us-central1", Zone = "us-central1-a" }, gcp.Src);
        Assert.Equal(5_000_000_001, gcp.BitsPerSecond);
        Assert.Equal(32, gcp.Connections);
    }

    [Fact]
    public void Without_throughput_sent_the_recieved_spelling_is_read_and_the_later_of_duplicate_pairs_kept()
    {
        var grid = Throughput(ThroughputHeader.Replace("throughput_sent,", "").Replace("throughput_received", "throughput_recieved"),
            ReceivedOnlyRow("aws:us-east-2", "PREMIUM", "azure:eastus", "PREMIUM", "4739257059.661877"),
            ReceivedOnlyRow("aws:us-west-2", "PREMIUM", "gcp:us-west1-a", "PREMIUM", "4722406789.899842"),
            ReceivedOnlyRow("aws:us-east-2", "PREMIUM", "azure:eastus", "PREMIUM", "4000000000"));

        Assert.Equal(2, grid.Count);
        Assert.Equal(4_000_000_000, grid[0].BitsPerSecond);
        Assert.Equal(new Location { Provider = "gcp", Region = "us-west1", Zone = "us-west1-a" }, grid[1].Dst);
    }

    [Fact]
    public void Throughput_bad_rows_fail_naming_the_line()
    {
        Assert.StartsWith("line 3:", Assert.Throws<FormatException>(() => Throughput(ThroughputHeader,
            Row("aws:us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "5e9"),
            Row("aws:us-east-1", "PREMIUM", "aws:eu-west-1", "PREMIUM", "fast"))).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Throughput(ThroughputHeader,
            Row("aws:us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "0"))).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Throughput(ThroughputHeader,
            Row("aws:us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "5e9", connections: "many"))).Message);
        Assert.StartsWith("line 2:", Assert.Throws<FormatException>(() => Throughput(ThroughputHeader,
            Row("aws-us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "5e9"))).Message);
        Assert.StartsWith("line 1:", Assert.Throws<FormatException>(() => Throughput(ThroughputHeader.Replace(",throughput_sent,throughput_received", ",bps,bps2"),
            Row("aws:us-east-1", "PREMIUM", "aws:us-west-2", "PREMIUM", "5e9"))).Message);
    }

    [SkippableFact]
    public void Skyplane_cost_files_read_with_the_row_counts_source_md_states()
    {
        var cost = Read(SkyplaneGrids.ReadCost, "anchors/skyplane/cost.csv");
        Assert.Equal(3_969, cost.Count); // all PREMIUM -> PREMIUM, 63 regions squared
        Assert.Equal(63, cost.Select(e => (e.Src.Provider, e.Src.Region)).Distinct().Count());
        Assert.Equal(0.147m, Entry(cost, "aws", "af-south-1", "aws", "ap-east-1").Tiers[0].PricePerGb.ToDecimal());
        Assert.Equal(0m, Entry(cost, "gcp", "us-central1", "gcp", "us-central1").Tiers[0].PricePerGb.ToDecimal());

        var later = Read(SkyplaneGrids.ReadCost, "anchors/skyplane/cost_2022-11-28.csv");
        Assert.Equal(4_970, later.Count);
        Assert.Equal(0.09m, Entry(later, "aws", "us-east-2", "azure", "eastus").Tiers[0].PricePerGb.ToDecimal());
    }

    [SkippableFact]
    public void Skyplane_throughput_files_read_with_the_row_counts_source_md_states()
    {
        var grid = Read(SkyplaneGrids.ReadThroughput, "anchors/skyplane/throughput.csv");
        Assert.Equal(3_907, grid.Count); // 3,968 PREMIUM -> PREMIUM rows, 61 pairs measured twice
        Assert.Equal(63, grid.Select(e => (e.Src.Provider, e.Src.Region)).Concat(grid.Select(e => (e.Dst.Provider, e.Dst.Region))).Distinct().Count());
        Assert.All(grid, e => Assert.Equal(64, e.Connections));
        Assert.All(grid, e => Assert.InRange(e.BitsPerSecond, 100_000_000, 50_000_000_000));
        Assert.All(grid.Where(e => e.Src.Provider == "gcp"), e => Assert.StartsWith(e.Src.Region + "-", e.Src.Zone));
        // Measured twice (lines 3 and 882): the later row is kept.
        Assert.Equal(9_682_627_585, Entry(grid, "azure", "germanywestcentral", "aws", "eu-west-2").BitsPerSecond);   // throughput_sent

        var later = Read(SkyplaneGrids.ReadThroughput, "anchors/skyplane/throughput_2022-11-28.csv");
        Assert.Equal(4_970, later.Count);
        Assert.Equal(4_967_291_935, Entry(later, "aws", "us-east-2", "azure", "eastus").BitsPerSecond);
    }

    private static IReadOnlyList<T> Read<T>(Func<TextReader, IReadOnlyList<T>> read, string relative)
    {
        using var reader = new StreamReader(SharedData.Require(relative));
        return read(reader);
    }

    private static EgressPrice Entry(IReadOnlyList<EgressPrice> grid, string srcProvider, string src, string dstProvider, string dst) =>
        Assert.Single(grid, e => e.Src.Provider == srcProvider && e.Src.Region == src && e.Dst.Provider == dstProvider && e.Dst.Region == dst);

    private static Throughput Entry(IReadOnlyList<Throughput> grid, string srcProvider, string src, string dstProvider, string dst) =>
        Assert.Single(grid, e => e.Src.Provider == srcProvider && e.Src.Region == src && e.Dst.Provider == dstProvider && e.Dst.Region == dst);
}
