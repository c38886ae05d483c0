namespace Sky.Pricing.Reconciliation;

/// <summary>What a quote line prices. Gateway VMs of a transfer are compute-priced.</summary>
public enum LineKind
{
    Compute,
    Egress,
    Gateway,
}

/// <summary>
/// One priced item of a quote with everything that priced it, so a usage can be rated at the quote's inputs.
/// <see cref="Amount"/> is what the quote says the tenant pays (<see cref="RatedCharge.Amount"/>: margin included).
/// </summary>
public sealed record QuotedLine
{
    /// <summary>Unique within the quote, e.g. "compute:train".</summary>
    public required string LineId { get; init; }

    public string Description { get; init; } = "";

    public required LineKind Kind { get; init; }

    /// <summary>The directory offer quoted; usage on another offer is a failover.</summary>
    public required string OfferId { get; init; }

    /// <summary>Compute and gateway: node-seconds; egress: GB.</summary>
    public required decimal Quantity { get; init; }

    /// <summary>Nodes (compute and gateway; the per-node minimum depends on it).</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>A <see cref="ComputePrice"/> for compute and gateway lines, an <see cref="EgressPrice"/> for egress.</summary>
    public required PriceInputs Price { get; init; }

    public PeeringState Peering { get; init; } = PeeringState.None;

    public required decimal Amount { get; init; }
}

/// <summary>
/// One rated usage as billed, with the inputs it was rated at (<see cref="Amount"/> = <see cref="RatedCharge.Amount"/>).
/// </summary>
public sealed record BilledUsage
{
    public required string UsageId { get; init; }

    /// <summary>
    /// The quote line it was billed against; null or empty when no line quoted it (time on an attempt that failed, or a
    /// failover run the accounting did not tie to a line). A usage on its line but on another offer (or egress route) than
    /// the line quoted is a failover onto that line.
    /// </summary>
    public string? LineId { get; init; }

    public required string OfferId { get; init; }

    /// <summary>Compute and gateway: node-seconds; egress: GB.</summary>
    public required decimal Quantity { get; init; }

    public int Nodes { get; init; } = 1;

    /// <summary>The prices at the time of use.</summary>
    public required PriceInputs Price { get; init; }

    /// <summary>The agreements in force at the time of use.</summary>
    public PeeringState Peering { get; init; } = PeeringState.None;

    public required decimal Amount { get; init; }

    /// <summary>Posted as an adjustment to a period that had already closed.</summary>
    public bool Late { get; init; }

    /// <summary>The record behind it for a reader: an attempt ("job/task#2") or the usage id.</summary>
    public string Reference { get; init; } = "";

    internal bool HasLine => !string.IsNullOrEmpty(LineId);

    internal string ReferenceOrId => Reference.Length > 0 ? Reference : UsageId;
}
