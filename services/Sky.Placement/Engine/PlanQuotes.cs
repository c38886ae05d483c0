using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Pricing;
using Sky.Placement.V1;

namespace Sky.Placement.Engine;

/// <summary>
/// The quote of a plan: one compute line per task, priced by the same <see cref="UsageRater"/> accounting rates the job's
/// usage with, at the inputs that usage will carry (the per-node hourly price of the chosen placement as the contract
/// carries it, node-seconds, nodes), so a job that runs as estimated is billed exactly its quote; and one egress line
/// per edge that moves data across regions (a task's outputs to a task that depends on it, or an input bucket to its
/// task), in bytes at the pair's tiers with the peering agreements the plan was priced with, as the runner meters it
/// when the receiving task starts.
/// </summary>
public sealed class PlanQuotes(UsageRater rater)
{
    public const string Compute = "compute";
    public const string Egress = "egress";
    private const decimal BytesPerGb = 1_000_000_000m;

    /// <summary>The quote of plan <paramref name="planId"/>: one quote per plan.</summary>
    public static string IdOf(string planId) => "q-" + planId;

    /// <summary>The line that quotes <paramref name="task"/>'s compute; its usage names it when it runs on the quoted offer.</summary>
    public static string ComputeLineId(string task) => Compute + ":" + task;

    /// <summary>The line that quotes the data <paramref name="from"/> (a task or an input bucket) sends to <paramref name="to"/>.</summary>
    public static string EgressLineId(string from, string to) => $"{Egress}:{from}->{to}";

    /// <summary>The egress "offer" of a source region, as transfer names it: egress is priced per region pair, not per instance.</summary>
    public static string EgressOfferId(Sky.Common.V1.Location from) => $"{Egress}:{from.Provider}/{from.Region}";

    /// <summary>True when moving data from <paramref name="from"/> to <paramref name="to"/> leaves a region (and so is egress).</summary>
    public static bool CrossesRegions(Sky.Common.V1.Location? from, Sky.Common.V1.Location? to) =>
        from is not null && to is not null
        && !(string.Equals(from.Provider, to.Provider, StringComparison.OrdinalIgnoreCase) && string.Equals(from.Region, to.Region, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Prices <paramref name="plan"/> (its <c>quote_id</c>, price book revision and chosen placements) for the tasks'
    /// expected run times, issued to <paramref name="tenantId"/> at <paramref name="at"/>.
    /// </summary>
    /// <param name="egress">The plan's egress prices and peering (its problem's pricer); null for a plan with no edges.</param>
    /// <exception cref="ArgumentException">A task has no chosen placement, no nodes or a negative duration; an edge has no egress price.</exception>
    public Quote Issue(PlanResponse plan, string tenantId, Func<string, TimeSpan> durationOf, DateTimeOffset at, EgressPricer? egress = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(durationOf);
        var quote = new Quote
        {
            QuoteId = plan.QuoteId.Length > 0 ? plan.QuoteId : IdOf(plan.PlanId),
            TenantId = tenantId,
            SubjectKind = QuoteSubjectKind.Job,
            PlanId = plan.PlanId,
            PriceBookRevision = plan.PriceBookRevision,
            CreatedAt = Timestamp.FromDateTimeOffset(at),
        };
        var total = 0m;
        foreach (var task in plan.Tasks)
        {
            var line = ComputeLine(task.Task, task.Chosen ?? throw new ArgumentException($"task {task.Task} has no chosen placement", nameof(plan)), durationOf(task.Task));
            total += line.Amount.ToDecimal();
            quote.Lines.Add(line);
        }
        foreach (var edge in plan.Egress)
        {
            if (edge.Bytes <= 0 || !CrossesRegions(edge.Source, edge.Destination)) continue;
            var line = EgressLine(edge, egress ?? throw new ArgumentException($"egress {edge.SourceTask} -> {edge.DestinationTask}: no egress prices given", nameof(egress)));
            total += line.Amount.ToDecimal();
            quote.Lines.Add(line);
        }
        quote.Total = PlanProto.Usd(total);
        return quote;
    }

    private QuoteLine ComputeLine(string task, TaskPlacement placed, TimeSpan duration)
    {
        if (placed.NumNodes < 1) throw new ArgumentException($"task {task}: {placed.NumNodes} nodes", nameof(placed));
        if (duration < TimeSpan.Zero) throw new ArgumentException($"task {task}: negative duration {duration}", nameof(duration));
        // The runner publishes usage at this per-node price (the plan's all-node hourly cost over the nodes, as Money),
        // and accounting rates that Money: the quote must start from the same rounded value.
        var hourlyPerNode = PerNodeHourly(placed);
        var nodeSeconds = placed.NumNodes * (decimal)duration.Ticks / TimeSpan.TicksPerSecond;
        var charge = rater.Compute(hourlyPerNode, nodeSeconds, placed.NumNodes);
        return new QuoteLine
        {
            LineId = ComputeLineId(task),
            Service = Compute,
            Description = $"{task}: {placed.NumNodes} x {placed.InstanceType}{(placed.UseSpot ? " (spot)" : "")}, {Where(placed.Location)}, {Text(duration)}",
            Task = task,
            Location = placed.Location?.Clone(),
            OfferId = placed.OfferId,
            Sku = placed.InstanceType,
            Quantity = nodeSeconds.ToString(CultureInfo.InvariantCulture),
            Unit = "second",
            UnitPrice = PlanProto.Usd(hourlyPerNode),
            PriceUnit = "hour",
            PeeringDiscount = PlanProto.Usd(charge.PeeringDiscount),
            PeeringAgreementId = charge.AgreementId ?? "",
            Amount = PlanProto.Usd(charge.Amount),
            Nodes = placed.NumNodes,
            Spot = placed.UseSpot,
        };
    }

    private QuoteLine EgressLine(PlannedEgress edge, EgressPricer pricer)
    {
        var (from, to) = (edge.Source, edge.Destination);
        var rate = pricer.Grid.Lookup(from.Provider, from.Region, to.Provider, to.Region);
        if (rate.Tiers is not { } tiers) throw new ArgumentException($"egress {edge.SourceTask} -> {edge.DestinationTask}: no price from {Where(from)} to {Where(to)}", nameof(edge));
        var charge = rater.Egress(tiers, pricer.Adjuster, from.Provider, from.Region, to.Provider, to.Region, edge.Bytes / BytesPerGb);
        var line = new QuoteLine
        {
            LineId = EgressLineId(edge.SourceTask, edge.DestinationTask),
            Service = Egress,
            Description = $"{edge.SourceTask} -> {edge.DestinationTask}: {edge.Bytes} bytes, {Where(from)} -> {Where(to)}",
            Task = edge.DestinationTask,
            Location = new Sky.Common.V1.Location { Provider = from.Provider, Region = from.Region },
            Destination = new Sky.Common.V1.Location { Provider = to.Provider, Region = to.Region },
            OfferId = EgressOfferId(from),
            Sku = Egress,
            Quantity = edge.Bytes.ToString(CultureInfo.InvariantCulture),
            Unit = "byte",
            UnitPrice = PlanProto.Usd(tiers[0].PricePerGb),
            PriceUnit = "gb",
            PeeringDiscount = PlanProto.Usd(charge.PeeringDiscount),
            PeeringAgreementId = charge.AgreementId ?? "",
            Amount = PlanProto.Usd(charge.Amount),
        };
        line.Tiers.Add(tiers.ToProto());
        return line;
    }

    /// <summary>The per-node hourly price usage of <paramref name="placed"/> is published at (and rated at).</summary>
    public static decimal PerNodeHourly(TaskPlacement placed) => PerNodeHourly(placed.HourlyCost.ToDecimal(), placed.NumNodes);

    /// <summary>The per-node hourly price of <paramref name="nodes"/> nodes costing <paramref name="allNodesHourly"/>: the total as Money, over the nodes, as Money.</summary>
    public static decimal PerNodeHourly(decimal allNodesHourly, int nodes) => PlanProto.Usd(PlanProto.Usd(allNodesHourly).ToDecimal() / nodes).ToDecimal();

    private static string Where(Sky.Common.V1.Location? at) =>
        at is null ? "" : at.Zone.Length > 0 ? $"{at.Provider}/{at.Region}/{at.Zone}" : $"{at.Provider}/{at.Region}";

    /// <summary>A duration as people write it: "1h", "1h30m", "45s", "2.5s".</summary>
    public static string Text(TimeSpan d)
    {
        if (d == TimeSpan.Zero) return "0s";
        var hours = (long)d.TotalHours;
        var seconds = (decimal)(d - TimeSpan.FromHours(hours) - TimeSpan.FromMinutes(d.Minutes)).Ticks / TimeSpan.TicksPerSecond;
        return (hours > 0 ? $"{hours}h" : "") + (d.Minutes > 0 ? $"{d.Minutes}m" : "")
            + (seconds > 0 ? seconds.ToString("0.#######", CultureInfo.InvariantCulture) + "s" : "");
    }
}
