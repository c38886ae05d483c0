namespace Sky.Directory.Catalog;

/// <summary>
/// What a SkyPilot GpuInfo cell says about one accelerator. AWS and Lambda write a Python dict
/// (<c>{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}</c>),
/// GCP a dict with MemoryInfo only, Azure and GCP TPU rows the bare accelerator name.
/// </summary>
/// <param name="Name">Accelerator name as written in the cell, if any.</param>
/// <param name="Manufacturer">Manufacturer ("NVIDIA", "AMD", "Habana", ...), if given.</param>
/// <param name="MemoryGib">Memory of one accelerator in GiB; 0 when the cell does not say.</param>
public sealed record GpuInfo(string? Name, string? Manufacturer, double MemoryGib)
{
    /// <summary>
    /// Reads one cell. <paramref name="count"/> is the row's AcceleratorCount, used only when the cell gives
    /// a total but no per-accelerator size. Returns null with an error when a dict cell is not a valid literal.
    /// </summary>
    public static GpuInfo? Parse(string cell, decimal? count, out string? error)
    {
        error = null;
        var text = cell.Trim();
        if (text.Length == 0) return null;
        if (text[0] is not ('{' or '[')) return new GpuInfo(text, null, 0);
        if (!PythonLiteral.TryParse(text, out var value, out var parseError))
        {
            error = $"GpuInfo is not a Python literal: {parseError}";
            return null;
        }
        if (value is not Dictionary<string, object?> dict)
        {
            error = "GpuInfo is not a dict";
            return null;
        }

        string? name = null, manufacturer = null;
        double perGpuMib = 0, gpuCount = 0;
        if (dict.TryGetValue("Gpus", out var gpus) && gpus is List<object?> { Count: > 0 } list && list[0] is Dictionary<string, object?> first)
        {
            name = first.GetValueOrDefault("Name") as string;
            manufacturer = first.GetValueOrDefault("Manufacturer") as string;
            if (first.GetValueOrDefault("MemoryInfo") is Dictionary<string, object?> memory && memory.GetValueOrDefault("SizeInMiB") is double mib)
                perGpuMib = mib;
            if (first.GetValueOrDefault("Count") is double c) gpuCount = c;
        }
        // Lambda's TotalGpuMemoryInMiB is sometimes one GPU's size, so the per-GPU figure wins when present.
        if (perGpuMib <= 0 && dict.GetValueOrDefault("TotalGpuMemoryInMiB") is double total && total > 0)
        {
            var n = gpuCount > 0 ? gpuCount : (double)(count ?? 0);
            if (n > 0) perGpuMib = total / n;
        }
        return new GpuInfo(string.IsNullOrWhiteSpace(name) ? null : name, string.IsNullOrWhiteSpace(manufacturer) ? null : manufacturer,
            perGpuMib > 0 && double.IsFinite(perGpuMib) ? perGpuMib / 1024.0 : 0);
    }
}
