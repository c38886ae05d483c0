using Sky.Common.V1;

namespace Sky.Placement.Tasks;

/// <summary>A numeric requirement: exactly <see cref="Amount"/>, or at least it ("8" or "8+" in task YAML).</summary>
public sealed record QuantityBound(decimal Amount, bool OrMore)
{
    public bool Admits(decimal offered) => OrMore ? offered >= Amount : offered == Amount;

    public override string ToString() => Amount.ToString(System.Globalization.CultureInfo.InvariantCulture) + (OrMore ? "+" : "");
}

/// <summary>
/// Memory per node: <see cref="Amount"/> GiB, or with <see cref="PerVcpu"/> that many GiB for each vCPU of the
/// instance ("4x"); <see cref="OrMore"/> for "at least".
/// </summary>
public sealed record MemoryBound(decimal Amount, bool OrMore, bool PerVcpu)
{
    /// <summary>Whether an instance with <paramref name="memoryGib"/> and <paramref name="vcpus"/> satisfies the bound.</summary>
    public bool Admits(decimal memoryGib, decimal vcpus)
    {
        var wanted = PerVcpu ? Amount * vcpus : Amount;
        return OrMore ? memoryGib >= wanted : memoryGib == wanted;
    }

    public override string ToString() =>
        $"{Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(PerVcpu ? "x" : "")}{(OrMore ? "+" : "")}";
}

/// <summary>
/// An accelerator per node as written ("A10g", 1). SkyPilot matches names case-insensitively against its
/// catalog, so compare with <see cref="Key"/>.
/// </summary>
public sealed record AcceleratorRequest(string Name, int Count)
{
    /// <summary>The name in upper case, for case-insensitive matching against catalogs ("A10G").</summary>
    public string Key => Name.ToUpperInvariant();

    public override string ToString() => $"{Name}:{Count}";
}

/// <summary>
/// One way to run a node of a task: the base `resources` with one `any_of` / `ordered` entry applied over it, as
/// SkyPilot merges them. Unset fields mean "no requirement". <see cref="Accelerators"/> are alternatives (any
/// one of them), in preference order when <see cref="AcceleratorsOrdered"/>, else the cheapest wins.
/// </summary>
public sealed record ResourceCandidate
{
    /// <summary>Lower-case provider ("aws", "gcp", "kubernetes", ...); null means any.</summary>
    public string? Provider { get; init; }

    /// <summary>Region (for Kubernetes, the context); null means any.</summary>
    public string? Region { get; init; }

    /// <summary>Zone; null means any.</summary>
    public string? Zone { get; init; }

    /// <summary>vCPUs per node; null means any.</summary>
    public QuantityBound? Cpus { get; init; }

    /// <summary>Memory per node; null means any.</summary>
    public MemoryBound? MemoryGib { get; init; }

    public IReadOnlyList<AcceleratorRequest> Accelerators { get; init; } = [];
    public bool AcceleratorsOrdered { get; init; }
    public string? InstanceType { get; init; }
    public bool UseSpot { get; init; }

    /// <summary>Boot disk per node in GiB; null means the provider default.</summary>
    public int? DiskSizeGib { get; init; }

    /// <summary>`max_hourly_cost` of this candidate (per node, as SkyPilot applies it); null means no limit.</summary>
    public decimal? MaxHourlyCost { get; init; }

    /// <summary>Where the candidate was declared: its `any_of` / `ordered` entry, else `resources`, else the task.</summary>
    public int Line { get; init; }
    public int Column { get; init; }

    /// <summary>
    /// The contract's form (sky.common.v1.ResourceRequest) for TaskPlan.requested. A per-vCPU memory bound has no
    /// field there, so it is left out (the optimizer reads it from this record).
    /// </summary>
    public ResourceRequest ToProto()
    {
        var request = new ResourceRequest
        {
            AcceleratorsOrdered = AcceleratorsOrdered,
            InstanceType = InstanceType ?? "",
            UseSpot = UseSpot,
            DiskSizeGib = DiskSizeGib ?? 0,
        };
        if (Cpus is not null) request.Cpus = new ResourceBound { Amount = (double)Cpus.Amount, OrMore = Cpus.OrMore };
        if (MemoryGib is { PerVcpu: false })
            request.MemoryGib = new ResourceBound { Amount = (double)MemoryGib.Amount, OrMore = MemoryGib.OrMore };
        request.Accelerators.AddRange(Accelerators.Select(a => new Accelerator { Name = a.Name, Count = a.Count }));
        if (Provider is not null || Region is not null || Zone is not null)
            request.Location = new Location { Provider = Provider ?? "", Region = Region ?? "", Zone = Zone ?? "" };
        return request;
    }
}
