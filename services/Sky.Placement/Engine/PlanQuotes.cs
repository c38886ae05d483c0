using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;
using Sky.Pricing;
using Sky.Placement.V1;

namespace Sky.Placement.Engine;

/// <summary>
/// The quote of a plan: one compute line per task, priced by the same <see cref="UsageRater"/> accounting rates the job's
/// usage with, at the inputs that usage will carry (the per-node hourly price of the chosen placement as the contract
/// carries it, node-seconds, nodes), so a job that runs as estimated is billed exactly its quote. Egress between tasks
/// is not quoted: the job's usage carries no egress (accounting rates egress from transfers only), and a quote line no
/// usage can ever be billed against would be a difference reconciliation cannot explain.
/// </summary>
public sealed class PlanQuotes(UsageRater rater)
{
    public const string Compute = "compute";

    /// <summary>The quote of plan <paramref name="planId"/>: one quote per plan.</summary>
    public static string IdOf(string planId) => "q-" + planId;

    /// <summary>The line that quotes <paramref name="task"/>'s compute; its usage names it when it runs on the quoted offer.</summary>
    public static string ComputeLineId(string task) => Compute + ":" + task;

    /// <summary>
    /// Prices <paramref name="plan"/> (its <c>quote_id</c>, price book revision and chosen placements) for the tasks'
    /// expected run times, issued to <paramref name="tenantId"/> at <paramref name="at"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A task has no chosen placement, no nodes or a negative duration.</exception>
    public Quote Issue(PlanResponse plan, string tenantId, Func<string, TimeSpan> durationOf, DateTimeOffset at)
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

    /// <summary>The per-node hourly price usage of <paramref name="placed"/> is published at (and rated at).</summary>
    public static decimal PerNodeHourly(TaskPlacement placed) =>
        PlanProto.Usd(placed.HourlyCost.ToDecimal() / placed.NumNodes).ToDecimal();

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
