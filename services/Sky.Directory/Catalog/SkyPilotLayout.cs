namespace Sky.Directory.Catalog;

/// <summary>
/// The column layout of one cloud's SkyPilot v8 vms.csv (../shared/catalogs/skypilot/SOURCE.md) and where
/// each column sits in a particular file's header. Columns are matched by name, as SkyPilot's pandas reader does.
/// </summary>
internal sealed class SkyPilotLayout
{
    private static readonly Dictionary<string, string[]> Columns = new(StringComparer.Ordinal)
    {
        ["aws"] = ["InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo", "Price", "SpotPrice", "Region", "AvailabilityZone", "Arch"],
        ["gcp"] = ["InstanceType", "vCPUs", "MemoryGiB", "AcceleratorName", "AcceleratorCount", "GpuInfo", "Region", "AvailabilityZone", "Price", "SpotPrice"],
        ["azure"] = ["InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "GpuInfo", "Price", "SpotPrice", "Region", "Generation"],
        ["lambda"] = ["InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB", "Price", "Region", "GpuInfo", "SpotPrice"],
    };

    public static IReadOnlySet<string> Providers { get; } = new HashSet<string>(Columns.Keys, StringComparer.Ordinal);

    public required string Provider { get; init; }
    public required int FieldCount { get; init; }
    public required int InstanceType { get; init; }
    public required int AcceleratorName { get; init; }
    public required int AcceleratorCount { get; init; }
    public required int Vcpus { get; init; }
    public required int MemoryGib { get; init; }
    public required int GpuInfo { get; init; }
    public required int Price { get; init; }
    public required int SpotPrice { get; init; }
    public required int Region { get; init; }
    /// <summary>-1 when the layout has no zone column (Azure, Lambda).</summary>
    public required int Zone { get; init; }
    /// <summary>-1 when the layout has no Arch column (all but AWS).</summary>
    public required int Arch { get; init; }
    /// <summary>-1 when the layout has no Generation column (all but Azure).</summary>
    public required int Generation { get; init; }

    /// <summary>The expected columns, in SkyPilot's order.</summary>
    public static IReadOnlyList<string> ExpectedColumns(string provider) => Columns[provider];

    /// <summary>
    /// The layout of a file whose header is <paramref name="header"/>: the same column names as the provider's
    /// layout, in any order, each once. Throws <see cref="ArgumentException"/> naming the expected columns otherwise.
    /// </summary>
    public static SkyPilotLayout FromHeader(string provider, IReadOnlyList<string> header)
    {
        var expected = Columns[provider];
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim().TrimStart('\uFEFF');
            if (!expected.Contains(name)) problems.Add($"unexpected column '{name}'");
            else if (!positions.TryAdd(name, i)) problems.Add($"column '{name}' appears twice");
        }
        var missing = expected.Where(c => !positions.ContainsKey(c)).ToList();
        if (missing.Count > 0) problems.Add("missing " + string.Join(", ", missing));
        if (problems.Count > 0)
            throw new ArgumentException(
                $"the header does not match SkyPilot's v8 {provider} layout ({string.Join("; ", problems)}); expected columns: {string.Join(",", expected)}");

        int At(string column) => positions[column];
        int Optional(string column) => positions.TryGetValue(column, out var i) ? i : -1;
        return new SkyPilotLayout
        {
            Provider = provider,
            FieldCount = header.Count,
            InstanceType = At("InstanceType"),
            AcceleratorName = At("AcceleratorName"),
            AcceleratorCount = At("AcceleratorCount"),
            Vcpus = At("vCPUs"),
            MemoryGib = At("MemoryGiB"),
            GpuInfo = At("GpuInfo"),
            Price = At("Price"),
            SpotPrice = At("SpotPrice"),
            Region = At("Region"),
            Zone = Optional("AvailabilityZone"),
            Arch = Optional("Arch"),
            Generation = Optional("Generation"),
        };
    }
}
