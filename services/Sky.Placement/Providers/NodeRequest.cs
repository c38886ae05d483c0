using System.Globalization;

namespace Sky.Placement.Providers;

/// <summary>
/// What to provision for one attempt of a task: the offer the plan chose (or the failover picked), as the
/// job runner hands it to a provider. Prices are exact (<see cref="decimal"/>), as quoted.
/// </summary>
public sealed record NodeRequest
{
    /// <summary>Task name (the YAML <c>name</c>, or "task-N").</summary>
    public required string TaskName { get; init; }
    /// <summary>Id of the job the task belongs to.</summary>
    public required string JobId { get; init; }
    /// <summary>Provider and region, zone when the offer is zonal.</summary>
    public required CloudLocation Location { get; init; }
    public required string InstanceType { get; init; }
    /// <summary>Accelerators per node as SkyPilot writes them ("A100:8", "L4" = one); null for none.</summary>
    public string? Accelerators { get; init; }
    public bool UseSpot { get; init; }
    public int NumNodes { get; init; } = 1;
    /// <summary>The directory offer this attempt uses.</summary>
    public string OfferId { get; init; } = "";
    /// <summary>Price per hour of all <see cref="NumNodes"/> nodes together, as quoted (spot price when <see cref="UseSpot"/>).</summary>
    public decimal HourlyPrice { get; init; }
    /// <summary>vCPUs per node, from the offer; lets a provider check a vCPU quota. Null when unknown.</summary>
    public double? VcpusPerNode { get; init; }

    /// <summary>Accelerators per node: the count after ':' in <see cref="Accelerators"/>, 1 without one, 0 for none.</summary>
    public int AcceleratorsPerNode => ParseAccelerators(Accelerators).Count;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field a provider cannot act on.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(TaskName)) throw new ArgumentException("node request: task name is empty");
        if (string.IsNullOrWhiteSpace(JobId)) throw new ArgumentException($"node request for task '{TaskName}': job id is empty");
        if (Location.Region is null) throw new ArgumentException($"node request for task '{TaskName}': location {Location} names no region");
        if (string.IsNullOrWhiteSpace(InstanceType)) throw new ArgumentException($"node request for task '{TaskName}': instance type is empty");
        if (NumNodes < 1) throw new ArgumentException($"node request for task '{TaskName}': num_nodes must be at least 1, got {NumNodes}");
        if (HourlyPrice < 0) throw new ArgumentException($"node request for task '{TaskName}': hourly price must not be negative, got {HourlyPrice}");
        if (VcpusPerNode is <= 0 or double.NaN) throw new ArgumentException($"node request for task '{TaskName}': vCPUs per node must be positive, got {VcpusPerNode}");
        ParseAccelerators(Accelerators);
    }

    /// <summary>Splits "A100:8" into model and count; "tpu-v4-8" is one accelerator of that model.</summary>
    public static (string? Name, int Count) ParseAccelerators(string? accelerators)
    {
        if (string.IsNullOrWhiteSpace(accelerators)) return (null, 0);
        var colon = accelerators.LastIndexOf(':');
        if (colon < 0) return (accelerators.Trim(), 1);
        var name = accelerators[..colon].Trim();
        var count = accelerators[(colon + 1)..].Trim();
        if (name.Length == 0 || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            throw new ArgumentException($"accelerators '{accelerators}': expected NAME or NAME:COUNT with COUNT >= 1");
        return (name, n);
    }
}
