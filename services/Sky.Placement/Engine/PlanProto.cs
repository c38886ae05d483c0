using Google.Protobuf.WellKnownTypes;
using Sky.Common.V1;
using Sky.Placement.Optimizer;
using Sky.Placement.V1;
using TaskPlacementProto = Sky.Placement.V1.TaskPlacement;

namespace Sky.Placement.Engine;

/// <summary>A plan in the contract's terms (sky.placement.v1.PlanResponse and its parts).</summary>
public static class PlanProto
{
    public const string Currency = "USD";

    /// <summary>Money from an exact amount, rounded to the nano (Money's precision) by the pricing engine's rule.</summary>
    public static Money Usd(decimal amount) => Sky.Pricing.Rounding.ToMoney(amount, Currency);

    public static Objective ToProto(PlacementObjective objective) => objective switch
    {
        PlacementObjective.Time => Objective.Time,
        PlacementObjective.CostUnderDeadline => Objective.CostUnderDeadline,
        _ => Objective.Cost,
    };

    public static Location LocationOf(Candidate c) => new() { Provider = c.Provider, Region = c.Region, Zone = c.Zone ?? "" };

    public static TaskPlacementProto Placement(string task, Candidate c, decimal computeCost, decimal hours)
    {
        var placement = new TaskPlacementProto
        {
            Task = task,
            Location = LocationOf(c),
            InstanceType = c.InstanceType,
            UseSpot = c.UseSpot,
            NumNodes = c.NumNodes,
            HourlyCost = Usd(c.HourlyCost),
            ComputeCost = Usd(computeCost),
            EstimatedDuration = Duration.FromTimeSpan(TimeSpan.FromHours((double)hours)),
            OfferId = c.OfferId,
        };
        if (Sky.Placement.Providers.NodeRequest.ParseAccelerators(c.Accelerators) is (string name, var count))
            placement.Accelerators.Add(new Sky.Common.V1.Accelerator { Name = name, Count = count });
        return placement;
    }

    /// <summary>The response for <paramref name="job"/>: tasks in dependency order with alternatives, egress, totals.</summary>
    public static PlanResponse Response(JobPlan job, string planId, long priceBookRevision, DateTimeOffset expiresAt)
    {
        var plan = job.Plan;
        var response = new PlanResponse
        {
            PlanId = planId,
            QuoteId = PlanQuotes.IdOf(planId),
            PriceBookRevision = priceBookRevision,
            Objective = ToProto(plan.Objective),
            OptimizeTime = Duration.FromTimeSpan(plan.SolveTime),
            Optimal = plan.Optimal,
            OptimalityGap = plan.Optimal ? "0" : ((decimal)plan.Gap).ToString("0.######", System.Globalization.CultureInfo.InvariantCulture),
            ExpiresAt = Timestamp.FromDateTimeOffset(expiresAt),
            Cost = new CostBreakdown
            {
                Hourly = Usd(plan.HourlyCost),
                Compute = Usd(plan.ComputeCost),
                Egress = Usd(plan.EgressCost),
                Total = Usd(plan.TotalCost),
            },
        };
        if (plan.Makespan is { } makespan) response.EstimatedDuration = Duration.FromTimeSpan(makespan);
        foreach (var placed in job.TaskPlacements)
        {
            var spec = job.Graph[placed.Task.Name];
            var task = new TaskPlan
            {
                Task = placed.Task.Name,
                Chosen = Placement(placed.Task.Name, placed.Chosen, placed.ComputeCost, placed.Task.DurationHours),
            };
            task.DependsOn.AddRange(spec.DependsOn);
            task.Requested.AddRange(spec.Candidates.Select(c => c.ToProto()));
            foreach (var a in placed.Alternatives)
            {
                var alternative = Placement(placed.Task.Name, a.Candidate, a.ComputeCost, placed.Task.DurationHours);
                alternative.PlanTotal = Usd(a.TotalCost);
                if (a.Makespan is { } whole) alternative.PlanDuration = Duration.FromTimeSpan(whole);
                task.Alternatives.Add(alternative);
            }
            response.Tasks.Add(task);
        }
        var tasks = job.Problem.Tasks;
        foreach (var edge in plan.Edges)
        {
            var from = plan.Tasks.First(t => t.Task.Index == edge.Edge.From).Chosen;
            var to = plan.Tasks.First(t => t.Task.Index == edge.Edge.To).Chosen;
            var planned = new PlannedEgress
            {
                SourceTask = tasks[edge.Edge.From].Name,
                DestinationTask = tasks[edge.Edge.To].Name,
                Bytes = (long)(edge.Edge.Gb * 1_000_000_000m),
                Source = LocationOf(from),
                Destination = LocationOf(to),
                Cost = Usd(edge.EgressCost),
            };
            if (edge.TransferTime is { } transfer) planned.TransferTime = Duration.FromTimeSpan(transfer);
            response.Egress.Add(planned);
        }
        response.IgnoredFields.AddRange(job.Graph.IgnoredFields.Select(f => f.ToProto()));
        return response;
    }
}
