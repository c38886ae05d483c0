namespace Sky.Pricing.Reconciliation;

/// <summary>Why billed differs from quoted. Same names and numbers as sky.accounting.v1.CauseKind.</summary>
public enum CauseKind
{
    /// <summary>The usage was larger than quoted, at the quote's prices.</summary>
    LongerRun = 1,
    /// <summary>The usage was smaller than quoted (or there was none), at the quote's prices.</summary>
    ShorterRun = 2,
    /// <summary>Usage on another offer than quoted, or on attempts that failed.</summary>
    Failover = 3,
    /// <summary>The spot price at the time of use differed from the quoted one.</summary>
    SpotPriceChange = 4,
    /// <summary>A new price book revision changed a list price between quote and use.</summary>
    PriceBookRevision = 5,
    /// <summary>A peering agreement the quote did not have applied to the usage.</summary>
    PeeringStarted = 6,
    /// <summary>A peering agreement the quote used no longer applied to the usage.</summary>
    PeeringEnded = 7,
    /// <summary>Usage posted as an adjustment to a closed period.</summary>
    LateUsage = 8,
}

/// <summary>Quote and bill of one quote line; or of one usage no line quoted (<see cref="LineId"/> empty, nothing quoted).</summary>
public sealed record ReconciledLine(string LineId, string Description, decimal Quoted, decimal Billed, IReadOnlyList<string> UsageIds);

/// <summary>One explained difference: <see cref="Amount"/> is signed, positive when it made the bill higher.</summary>
/// <param name="LineId">The quote line; empty for usage outside the quote.</param>
/// <param name="Reference">The record behind it: an attempt, a price book revision, an agreement id or a usage id.</param>
public sealed record ReconciledCause(CauseKind Kind, decimal Amount, string LineId, string Description, string Reference);

/// <summary>
/// Billed against quoted for one quote. Amounts are exact (whole nanos, as rated); <see cref="Causes"/> sum exactly to
/// <see cref="Difference"/>. Round only for display (<see cref="Rounding.ToCents"/>).
/// </summary>
public sealed record QuoteReconciliation(decimal Quoted, decimal Billed, IReadOnlyList<ReconciledLine> Lines, IReadOnlyList<ReconciledCause> Causes)
{
    /// <summary>Billed - quoted.</summary>
    public decimal Difference => Billed - Quoted;
}
