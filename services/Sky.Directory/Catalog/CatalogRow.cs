namespace Sky.Directory.Catalog;

/// <summary>One well-formed data row of a SkyPilot vms.csv, before it becomes an offer.</summary>
internal sealed class CatalogRow
{
    public long Line { get; init; }
    /// <summary>Empty for GCP accelerator-only rows.</summary>
    public required string InstanceType { get; init; }
    public string? AcceleratorName { get; init; }
    /// <summary>As written; fractional for shared GPUs (AWS g6f, Azure NVadsA10 v5 partitions).</summary>
    public decimal? AcceleratorCount { get; init; }
    public double Vcpus { get; init; }
    public double MemoryGib { get; init; }
    public GpuInfo? Gpu { get; init; }
    public decimal? Price { get; init; }
    public decimal? SpotPrice { get; init; }
    public required string Region { get; init; }
    /// <summary>Empty when the layout has no zone or the cell is empty.</summary>
    public required string Zone { get; init; }
    /// <summary>"x86_64", "arm64", or "" when the catalog's value is not recognised.</summary>
    public required string Arch { get; init; }
    /// <summary>The catalog's Arch value when it differs from <see cref="Arch"/> (e.g. "i386", "arm64_mac").</summary>
    public string? RawArch { get; init; }
    /// <summary>Azure's Generation ("V1", "V2", "V1,V2").</summary>
    public string? Generation { get; init; }

    public bool IsAcceleratorOnly => InstanceType.Length == 0;

    /// <summary>The accelerator count as a whole number, or null when absent or fractional.</summary>
    public int? WholeAcceleratorCount =>
        AcceleratorCount is { } c && c >= 1 && c == decimal.Truncate(c) && c <= int.MaxValue ? (int)c : null;
}
