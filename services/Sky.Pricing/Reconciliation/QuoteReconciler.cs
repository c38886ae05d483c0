namespace Sky.Pricing.Reconciliation;

/// <summary>
/// Explains billed - quoted for one quote, assigning every nano of the difference to a cause. For each quote line and
/// its on-time usages it re-rates the usage with the one <see cref="UsageRater"/>, changing one input at a time
/// (telescoping, so the steps sum exactly to the bill):
/// quoted amount -> the usage at the quote's prices and peering (the run was longer or shorter)
/// -> at the usage's prices (spot change or new price book revision) -> with the usage's peering (agreement started or
/// ended) = what was billed. Usage no line quoted, or on another offer than its line quoted, is a failover; late usage is
/// a cause of its own. Pure and deterministic: same input, same causes in the same order.
/// </summary>
public sealed class QuoteReconciler(UsageRater rater)
{
    private readonly UsageRater _rater = rater ?? throw new ArgumentNullException(nameof(rater));

    /// <summary>Reconciles <paramref name="usages"/> (everything billed for the quote so far) against <paramref name="quote"/>'s lines.</summary>
    /// <exception cref="ArgumentException">A line or usage is malformed: a duplicate or empty id, an unknown line, a price of the wrong kind.</exception>
    /// <exception cref="InvalidOperationException">
    /// A line's or usage's amount is not what its recorded inputs rate to: it was not priced by this engine (or with inputs
    /// the record does not carry), so the difference cannot be explained.
    /// </exception>
    public QuoteReconciliation Reconcile(IEnumerable<QuotedLine> quote, IEnumerable<BilledUsage> usages)
    {
        ArgumentNullException.ThrowIfNull(quote);
        ArgumentNullException.ThrowIfNull(usages);
        List<QuotedLine> lines = [.. quote];
        List<BilledUsage> billed = [.. usages];
        var byId = CheckLines(lines);
        CheckUsages(billed, byId);

        var rows = new List<ReconciledLine>();
        var causes = new List<ReconciledCause>();
        foreach (var line in lines)
        {
            var onLine = billed.Where(u => u.HasLine && u.LineId == line.LineId).ToList();
            rows.Add(new ReconciledLine(line.LineId, line.Description, line.Amount, onLine.Sum(u => u.Amount), [.. onLine.Select(u => u.UsageId)]));
            causes.AddRange(Explain(line, onLine));
        }
        foreach (var usage in billed.Where(u => !u.HasLine))
        {
            rows.Add(new ReconciledLine("", $"{KindOf(usage.Price)} on offer {usage.OfferId} outside the quote ({usage.ReferenceOrId})", 0m, usage.Amount, [usage.UsageId]));
            if (usage.Amount == 0) continue;
            causes.Add(usage.Late
                ? LateCause(usage, "")
                : new ReconciledCause(CauseKind.Failover, usage.Amount, "",
                    $"{Quantity(usage.Price, usage.Quantity, usage.Nodes)} on offer {usage.OfferId}, which no quote line priced (a failed attempt or a failover)",
                    usage.ReferenceOrId));
        }

        var result = new QuoteReconciliation(lines.Sum(l => l.Amount), billed.Sum(u => u.Amount), rows, causes);
        var explained = causes.Sum(c => c.Amount);
        if (explained != result.Difference)
            throw new InvalidOperationException($"reconciliation: causes sum to {explained} but billed - quoted is {result.Difference}");
        return result;
    }

    /// <summary>The causes of one line, runtime first, then per usage in input order; zero amounts left out.</summary>
    private IEnumerable<ReconciledCause> Explain(QuotedLine line, List<BilledUsage> onLine)
    {
        var onTime = onLine.Where(u => !u.Late).ToList();
        var atQuote = onTime.Select(u => line.Price.Rate(_rater, line.Peering, u.Quantity, u.Nodes)).ToList();
        var causes = new CauseList(line.LineId);

        var runtime = atQuote.Sum(c => c.Amount) - line.Amount;
        var used = onTime.Count == 0
            ? "no usage billed against the line"
            : $"used {Quantity(line.Price, onTime.Sum(u => u.Quantity))} instead of the {Quantity(line.Price, line.Quantity)} quoted";
        causes.Add(runtime > 0 ? CauseKind.LongerRun : CauseKind.ShorterRun, runtime, used, string.Join(", ", onTime.Select(u => u.ReferenceOrId)));

        for (var i = 0; i < onTime.Count; i++)
        {
            var usage = onTime[i];
            var s1 = atQuote[i];
            if (!OnQuotedOffer(usage, line))
            {
                causes.Add(CauseKind.Failover, usage.Amount - s1.Amount, Moved(usage, line), usage.ReferenceOrId);
                continue;
            }

            var s2 = usage.Price.Rate(_rater, line.Peering, usage.Quantity, usage.Nodes);
            if (usage.Price.IsSpot)
                causes.Add(CauseKind.SpotPriceChange, s2.Amount - s1.Amount,
                    $"spot price {usage.Price.Describe()} at use, {line.Price.Describe()} quoted", usage.ReferenceOrId);
            else
                causes.Add(CauseKind.PriceBookRevision, s2.Amount - s1.Amount,
                    $"price book revision {usage.Price.Revision} ({usage.Price.Describe()}) at use, revision {line.Price.Revision} ({line.Price.Describe()}) quoted",
                    usage.Price.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // s3 is the billed amount (CheckUsages made sure of it).
            var s3 = usage.Price.Rate(_rater, usage.Peering, usage.Quantity, usage.Nodes);
            var peering = s3.Amount - s2.Amount;
            if (s3.PeeringDiscount != 0)
            {
                var id = s3.AgreementId ?? "";
                var instead = s2.PeeringDiscount == 0 ? "none applied at quote time"
                    : s2.AgreementId == s3.AgreementId ? "on other terms at quote time" : $"instead of {s2.AgreementId} quoted";
                causes.Add(CauseKind.PeeringStarted, peering, $"peering agreement {id} applied at use, {instead}", id);
            }
            else
            {
                var id = s2.AgreementId ?? "";
                causes.Add(CauseKind.PeeringEnded, peering, $"peering agreement {id} the quote applied no longer applied at use", id);
            }
        }

        foreach (var usage in onLine.Where(u => u.Late))
            if (usage.Amount != 0) causes.Add(LateCause(usage, line.LineId));
        return causes.NonZero();
    }

    private static ReconciledCause LateCause(BilledUsage usage, string lineId) =>
        new(CauseKind.LateUsage, usage.Amount, lineId,
            $"{Quantity(usage.Price, usage.Quantity, usage.Nodes)} posted after its period closed, billed as an adjustment", usage.ReferenceOrId);

    /// <summary>Same offer, and for egress the same region pair: otherwise the usage ran where the line did not quote.</summary>
    private static bool OnQuotedOffer(BilledUsage usage, QuotedLine line) =>
        string.Equals(usage.OfferId, line.OfferId, StringComparison.Ordinal)
        && (usage.Price is not EgressPrice used || line.Price is not EgressPrice quoted || used.Route == quoted.Route);

    private static string Moved(BilledUsage usage, QuotedLine line) =>
        usage.Price is EgressPrice used && line.Price is EgressPrice quoted && used.Route != quoted.Route
            ? $"sent {used.Route} on offer {usage.OfferId} instead of {quoted.Route} on {line.OfferId} ({used.Describe()})"
            : $"ran on offer {usage.OfferId} ({usage.Price.Describe()}) instead of {line.OfferId} ({line.Price.Describe()})";

    private static string KindOf(PriceInputs price) => price is EgressPrice ? "egress" : "compute";

    private static string Quantity(PriceInputs price, decimal quantity, int? nodes = null) =>
        price is EgressPrice ? $"{PriceInputs.Text(quantity)} GB"
        : $"{PriceInputs.Text(quantity)} node-seconds{(nodes is { } n ? $" on {n} node{(n == 1 ? "" : "s")}" : "")}";

    private Dictionary<string, QuotedLine> CheckLines(List<QuotedLine> lines)
    {
        var byId = new Dictionary<string, QuotedLine>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            ArgumentNullException.ThrowIfNull(line, nameof(lines));
            if (string.IsNullOrEmpty(line.LineId)) throw new ArgumentException("quote line: line id is required", nameof(lines));
            if (!byId.TryAdd(line.LineId, line)) throw new ArgumentException($"quote line {line.LineId} is listed twice", nameof(lines));
            var what = $"quote line {line.LineId}";
            CheckShape(what, line.Price, line.Peering, line.Quantity, line.Nodes, nameof(lines));
            var wantsEgress = line.Kind == LineKind.Egress;
            if (wantsEgress != line.Price is EgressPrice)
                throw new ArgumentException($"{what}: a {line.Kind} line needs {(wantsEgress ? "an egress" : "a compute")} price, found {KindOf(line.Price)}", nameof(lines));
            CheckRated(what, line.Price, line.Peering, line.Quantity, line.Nodes, line.Amount);
        }
        return byId;
    }

    private void CheckUsages(List<BilledUsage> usages, Dictionary<string, QuotedLine> lines)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var usage in usages)
        {
            ArgumentNullException.ThrowIfNull(usage, nameof(usages));
            if (string.IsNullOrEmpty(usage.UsageId)) throw new ArgumentException("usage: usage id is required", nameof(usages));
            if (!ids.Add(usage.UsageId)) throw new ArgumentException($"usage {usage.UsageId} is listed twice", nameof(usages));
            var what = $"usage {usage.UsageId}";
            CheckShape(what, usage.Price, usage.Peering, usage.Quantity, usage.Nodes, nameof(usages));
            if (usage.HasLine)
            {
                if (!lines.TryGetValue(usage.LineId!, out var line))
                    throw new ArgumentException($"{what} is billed against line {usage.LineId}, which the quote does not have", nameof(usages));
                if (usage.Price.GetType() != line.Price.GetType())
                    throw new ArgumentException($"{what}: {KindOf(usage.Price)} usage billed against {KindOf(line.Price)} line {line.LineId}", nameof(usages));
            }
            CheckRated(what, usage.Price, usage.Peering, usage.Quantity, usage.Nodes, usage.Amount);
        }
    }

    private static void CheckShape(string what, PriceInputs? price, PeeringState? peering, decimal quantity, int nodes, string param)
    {
        if (price is null) throw new ArgumentException($"{what}: price inputs are required", param);
        if (peering is null) throw new ArgumentException($"{what}: peering state is required (PeeringState.None for none)", param);
        if (quantity < 0) throw new ArgumentException($"{what}: quantity {quantity} is negative", param);
        if (nodes < 1) throw new ArgumentException($"{what}: nodes {nodes} must be at least 1", param);
    }

    private void CheckRated(string what, PriceInputs price, PeeringState peering, decimal quantity, int nodes, decimal amount)
    {
        var rated = price.Rate(_rater, peering, quantity, nodes).Amount;
        if (rated != amount)
            throw new InvalidOperationException(
                $"{what}: amount {amount} is not what its inputs rate to ({rated} for {Quantity(price, quantity, nodes)} at {price.Describe()}, " +
                $"revision {price.Revision}): it was not rated by this engine or with inputs the record does not carry");
    }

    /// <summary>Causes of one line, merged by kind and reference in first-seen order.</summary>
    private sealed class CauseList(string lineId)
    {
        private readonly List<ReconciledCause> _causes = [];

        public void Add(ReconciledCause cause)
        {
            var at = _causes.FindIndex(c => c.Kind == cause.Kind && c.Reference == cause.Reference);
            if (at < 0) _causes.Add(cause);
            else _causes[at] = _causes[at] with { Amount = _causes[at].Amount + cause.Amount };
        }

        public void Add(CauseKind kind, decimal amount, string description, string reference) =>
            Add(new ReconciledCause(kind, amount, lineId, description, reference));

        public IEnumerable<ReconciledCause> NonZero() => _causes.Where(c => c.Amount != 0);
    }
}
