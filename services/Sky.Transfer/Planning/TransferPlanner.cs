using System.Globalization;
using Sky.Pricing;

namespace Sky.Transfer.Planning;

/// <summary>
/// Plans a bulk copy between regions like Skyplane: an integer program over the throughput and egress grids
/// (<see cref="FlowProgram"/>) picks routes through relay regions and gateway VMs per region, for one of four goals
/// mapped onto its two directions:
/// <list type="bullet">
/// <item>fastest: the highest throughput, then the least cost at that throughput;</item>
/// <item>cheapest: the least cost per GB, then the highest throughput at that cost;</item>
/// <item>cheapest by deadline: the least cost at throughput &gt;= bytes x 8 / deadline, then the highest throughput at that cost;</item>
/// <item>fastest under budget: the highest throughput at cost &lt;= budget, then the least cost at that throughput.</item>
/// </list>
/// Every amount in the answer is recomputed exactly from the chosen routes (<see cref="PlanPricing"/>); a deadline
/// or budget is checked against those exact figures, and the program re-solved with a tighter limit when rounding or
/// tiered prices put a plan past it. Thread-safe: each call builds its own programs.
/// </summary>
public sealed class TransferPlanner(TransferPlannerOptions? options = null)
{
    /// <summary>Throughput floor of the cheapest goal (1 Mbit/s): a plan must move, however cheaply.</summary>
    private const double FloorGbps = 1e-3;
    /// <summary>Slack on a cost limit carried from one phase to the next, for the solver's tolerances.</summary>
    private const double Slack = 1e-7;
    /// <summary>Re-solves with a tighter limit when an exact figure misses the deadline or budget.</summary>
    private const int Retries = 4;

    public TransferPlannerOptions Options { get; } = options ?? new TransferPlannerOptions();

    /// <summary>The plan for <paramref name="request"/> and, beside it, the direct route's.</summary>
    /// <param name="gateways">The gateway offer (instance type, offer id, hourly price) per region.</param>
    /// <param name="peering">Peering agreements in force (e.g. <see cref="PeeringBook.InForce"/> at planning time); null for none.</param>
    /// <exception cref="ArgumentException">The request is malformed, or names a region the grids do not know.</exception>
    /// <exception cref="NoTransferPlanException">No route, no gateway at an end, or no plan meets the deadline or budget.</exception>
    /// <exception cref="TimeoutException">The time limit passed before any plan was found.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public TransferPlanResult Plan(TransferPlanRequest request, TransferNetwork network, GatewayOffers gateways,
        IEgressAdjuster? peering = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(gateways);
        ct.ThrowIfCancellationRequested();
        var clock = new PlanClock(Options.TimeProvider, Options.TimeLimit, ct);
        request.Validate();
        // From here on regions are spelled as the grid spells them, which is how gateway offers are looked up.
        request = request with { Source = Known(network, request.Source, "source"), Destination = Known(network, request.Destination, "destination") };
        var pricer = new EgressPricer(network.Egress, peering);

        if (request.Source.Equals(request.Destination))
        {
            var local = WithinRegion(request, network, pricer);
            return new TransferPlanResult { Goal = request.Goal, Bytes = request.Bytes, Plan = local, Direct = local, RelaysConsidered = [], PlanTime = clock.Elapsed };
        }

        var builder = new GraphBuilder(request, network, gateways, Options.Limits, pricer);
        var directGraph = builder.Direct();
        RoutePlan? direct = null;
        if (directGraph.Edges.Length > 0)
        {
            try
            {
                direct = Solve(directGraph, request, pricer, clock);
            }
            catch (NoTransferPlanException e) when (e.Closest is not null && !request.DirectOnly)
            {
                direct = e.Closest with { MeetsGoal = false };
            }
        }
        if (request.DirectOnly)
        {
            var only = direct ?? throw NoRoute(request, "the grids have no rate or no egress price for the direct route");
            return new TransferPlanResult { Goal = request.Goal, Bytes = request.Bytes, Plan = only, Direct = only, RelaysConsidered = [], PlanTime = clock.Elapsed };
        }

        var (graph, relays) = builder.WithRelays(Options.FastRelays, Options.CheapRelays);
        if (!graph.Connected()) throw NoRoute(request, $"no route with a rate and an egress price on every hop, direct or through {relays.Count} relay candidates");
        var plan = Solve(graph, request, pricer, clock);
        if (plan.IsDirect && direct is not null && direct.MeetsGoal) plan = direct;
        return new TransferPlanResult { Goal = request.Goal, Bytes = request.Bytes, Plan = plan, Direct = direct, RelaysConsidered = relays, PlanTime = clock.Elapsed };
    }

    /// <summary>The plan for the request's goal over <paramref name="graph"/>.</summary>
    private static RoutePlan Solve(PlanningGraph graph, TransferPlanRequest request, EgressPricer pricer, PlanClock clock)
    {
        using var program = new FlowProgram(graph, clock);
        RoutePlan Build(FlowSolution solution) =>
            PlanPricing.Price(graph, FlowPaths.Decompose(graph, solution.Flow), request.Bytes, pricer, solution.Optimal);

        // Every VM everywhere: the highest throughput, and its cost per GB bounds every cheaper search from above.
        var top = program.MaxThroughput(FloorGbps) ?? throw NoRoute(request, "no route can carry flow within the VM limits");
        // The cost pass keeps the throughput exactly: any slack would be spent, since a slower plan is cheaper per GB.
        FlowSolution Fastest() => program.MinCost(top.Gbps, upperCostPerGb: top.CostPerGb) ?? top;
        FlowSolution Cheapest(double minGbps)
        {
            var cheapest = program.MinCost(minGbps, upperCostPerGb: top.CostPerGb) ?? top;
            try
            {
                var fastest = program.MaxThroughput(cheapest.Gbps, cheapest.CostPerGb * (1 + Slack));
                return fastest is null ? cheapest : fastest with { Optimal = fastest.Optimal && cheapest.Optimal };
            }
            catch (TimeoutException)
            {
                // Out of time for the tie-break: the cheapest plan stands, maybe not the fastest of its price.
                return cheapest with { Optimal = false };
            }
        }

        switch (request.Goal)
        {
            case PlanGoal.Fastest:
                return Build(Fastest());

            case PlanGoal.Cheapest:
                return Build(Cheapest(FloorGbps));

            case PlanGoal.CheapestByDeadline:
            {
                var deadline = request.Deadline!.Value;
                var required = request.Bytes * 8 / deadline.TotalSeconds / 1e9;
                var margin = 0d;
                for (var attempt = 0; attempt < Retries && top.Gbps >= required * (1 + margin); attempt++)
                {
                    var plan = Build(Cheapest(required * (1 + margin)));
                    if (plan.Duration <= deadline) return plan;
                    // Whole bits per second and ticks put the plan a hair past the deadline: ask for a little more speed.
                    margin = Math.Max(Math.Max(margin * 10, Slack), plan.Duration / deadline - 1 + margin);
                }
                // Only the fastest plan can make it, if any can.
                var fastest = Build(Fastest());
                if (fastest.Duration <= deadline) return fastest;
                throw new NoTransferPlanException(NoPlanReason.Deadline,
                    $"no plan from {request.Source} to {request.Destination} copies {request.Bytes} bytes within {deadline}: "
                    + $"the fastest takes {fastest.Duration} at {Gbps(fastest.ThroughputBps)} Gbit/s with at most {request.MaxVmsPerRegion} VMs per region",
                    fastest);
            }

            case PlanGoal.FastestUnderBudget:
            {
                var budget = request.Budget!.Value;
                var perGb = (double)(budget / (request.Bytes / 1e9m));
                var margin = 0d;
                for (var attempt = 0; attempt < Retries; attempt++)
                {
                    var cap = perGb * (1 - margin);
                    if (program.MaxThroughput(FloorGbps, cap) is not { } best) break;
                    var plan = Build(program.MinCost(best.Gbps, cap, best.CostPerGb) ?? best);
                    if (plan.TotalCost <= budget) return plan;
                    // Tiered prices over a split flow, or rounding, put the exact cost past the budget: ask for less.
                    margin = Math.Max(Math.Max(margin * 10, Slack), (double)(plan.TotalCost / budget) - 1 + margin);
                }
                // Only the cheapest plan can make it, if any can.
                var cheapest = Build(Cheapest(FloorGbps));
                if (cheapest.TotalCost <= budget) return cheapest;
                throw new NoTransferPlanException(NoPlanReason.Budget,
                    $"no plan from {request.Source} to {request.Destination} copies {request.Bytes} bytes for at most {Money(budget)}: "
                    + $"the cheapest costs {MoneyUp(cheapest.TotalCost)} (egress {MoneyUp(cheapest.EgressCost)}, VMs {MoneyUp(cheapest.VmCost)})",
                    cheapest);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Goal, "unknown goal");
        }
    }

    /// <summary>
    /// A copy inside one region needs no gateways and no relay: one route at the grid's intra-region rate, egress as
    /// the grid prices it (free unless an entry says otherwise).
    /// </summary>
    private static RoutePlan WithinRegion(TransferPlanRequest request, TransferNetwork network, EgressPricer pricer)
    {
        var (src, dst) = (request.Source, request.Destination);
        var bps = network.Throughput.IntraRegionBitsPerSecond;
        var quote = pricer.Quote(src.Provider, src.Region, dst.Provider, dst.Region, request.Bytes / 1_000_000_000m);
        if (!quote.HasPrice) throw NoRoute(request, "the egress grid prices nothing within the region");
        var plan = new RoutePlan
        {
            Routes = [new PlannedRoute([src, dst], request.Bytes, bps)],
            Gateways = [],
            Hops = [new HopEgress(src, dst, request.Bytes, quote.ListCost, quote.Cost, quote.AgreementId)],
            Duration = ThroughputGrid.TransferTime(request.Bytes, bps),
            ThroughputBps = bps,
            EgressCost = quote.Cost,
            VmCost = 0,
            PeeringDiscount = quote.ListCost - quote.Cost,
        };
        if (request.Goal == PlanGoal.CheapestByDeadline && plan.Duration > request.Deadline)
            throw new NoTransferPlanException(NoPlanReason.Deadline,
                $"a copy within {src} takes {plan.Duration} at {Gbps(bps)} Gbit/s, past the deadline of {request.Deadline}", plan);
        if (request.Goal == PlanGoal.FastestUnderBudget && plan.TotalCost > request.Budget)
            throw new NoTransferPlanException(NoPlanReason.Budget,
                $"a copy within {src} costs {MoneyUp(plan.TotalCost)}, over the budget of {Money(request.Budget!.Value)}", plan);
        return plan;
    }

    private static CloudRegion Known(TransferNetwork network, CloudRegion region, string role) =>
        network.Find(region) ?? throw new ArgumentException($"transfer plan: unknown {role} region {region}: the throughput grid has no measurements from or to it", role);

    private static NoTransferPlanException NoRoute(TransferPlanRequest request, string why) =>
        new(NoPlanReason.NoRoute, $"no route from {request.Source} to {request.Destination}: {why}");

    private static string Money(decimal amount) => Rounding.ToCents(amount).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Rounded up to the cent, so a cost over a budget never reads as equal to it.</summary>
    private static string MoneyUp(decimal amount) => (decimal.Ceiling(amount * 100) / 100).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Gbps(long bps) => (bps / 1e9).ToString("0.###", CultureInfo.InvariantCulture);
}
