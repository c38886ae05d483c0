using System.Globalization;
using Google.OrTools.LinearSolver;
using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;

namespace Sky.Transfer.Tests.Planning;

/// <summary>
/// On small random networks (a source, two relays and a destination of random providers, random rates, flat
/// prices, VM prices and VM limits), the planner's plan for each goal scores what enumerating every VM count per
/// region finds. For fixed VM counts the program is linear, so each count is solved on its own with GLOP: maximum
/// throughput directly, least cost per GB through the Charnes-Cooper change of variables (y = flow / T, t = 1 / T),
/// a different road from the planner's integer program and Dinkelbach steps. Seeded: a failure names its case.
/// </summary>
public sealed class BruteForcePlanTests
{
    private const int Batches = 6;
    private const int PerBatch = 8;
    private static readonly TransferPlanner Planner = new();
    private static readonly string[] Providers = ["aws", "gcp", "azure"];

    public static TheoryData<int> BatchNumbers() => [.. Enumerable.Range(0, Batches)];

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Every_goal_matches_enumerating_the_vm_counts(int batch)
    {
        for (var seed = batch * PerBatch; seed < (batch + 1) * PerBatch; seed++)
        {
            var problem = RandomProblem.Create(new Random(seed));
            try
            {
                Check(seed, problem);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed} ({problem}): {e}");
            }
        }
    }

    private static void Check(int seed, RandomProblem problem)
    {
        {
            var brute = new BruteForce(problem);
            var request = new TransferPlanRequest { Source = problem.Nodes[0], Destination = problem.Nodes[^1], Bytes = problem.Bytes, MaxVmsPerRegion = problem.MaxVms };
            var gb = problem.Bytes / 1e9;
            var name = $"seed {seed} ({problem})";

            var topGbps = brute.MaxThroughput(double.PositiveInfinity);
            if (topGbps is null)
            {
                // No path: either an end has no measured pair at all (unknown to the grid) or none leads through.
                var network = problem.Network;
                if (!network.Contains(request.Source) || !network.Contains(request.Destination))
                    Assert.Throws<ArgumentException>(() => Planner.Plan(request, network, problem.Offer));
                else
                    Assert.Equal(NoPlanReason.NoRoute, Assert.Throws<NoTransferPlanException>(() => Planner.Plan(request, network, problem.Offer)).Reason);
                return;
            }

            // Fastest: the highest throughput, then the least cost at it.
            var fastest = Planner.Plan(request with { Goal = PlanGoal.Fastest }, problem.Network, problem.Offer).Plan;
            Near(topGbps.Value, fastest.ThroughputBps / 1e9, 1e-6, $"{name}: fastest throughput");
            Near(brute.MinCostPerGb(topGbps.Value * (1 - 1e-9))!.Value * gb, (double)fastest.TotalCost, 1e-5, $"{name}: fastest cost");

            // Cheapest: the least cost per GB, then the highest throughput at it.
            var cheapest = Planner.Plan(request, problem.Network, problem.Offer).Plan;
            var leastPerGb = brute.MinCostPerGb(1e-3)!.Value;
            Near(leastPerGb * gb, (double)cheapest.TotalCost, 1e-5, $"{name}: cheapest cost");
            Near(brute.MaxThroughput(leastPerGb * (1 + 1e-7))!.Value, cheapest.ThroughputBps / 1e9, 1e-5, $"{name}: cheapest throughput");

            // A deadline and a budget between the two.
            var share = 0.2 + 0.6 * new Random(seed).NextDouble();
            var deadline = TimeSpan.FromMilliseconds(Math.Ceiling((fastest.Duration + share * (cheapest.Duration - fastest.Duration)).TotalMilliseconds));
            var byDeadline = Planner.Plan(request with { Goal = PlanGoal.CheapestByDeadline, Deadline = deadline }, problem.Network, problem.Offer).Plan;
            Assert.True(byDeadline.Duration <= deadline, $"{name}: {byDeadline.Duration} past the deadline {deadline}");
            var required = problem.Bytes * 8 / deadline.TotalSeconds / 1e9;
            Near(brute.MinCostPerGb(required)!.Value * gb, (double)byDeadline.TotalCost, 1e-5, $"{name}: cost by the deadline {deadline}");

            var budget = decimal.Round(cheapest.TotalCost + (decimal)share * (fastest.TotalCost - cheapest.TotalCost), 6, MidpointRounding.ToPositiveInfinity);
            {
                var underBudget = Planner.Plan(request with { Goal = PlanGoal.FastestUnderBudget, Budget = budget }, problem.Network, problem.Offer).Plan;
                Assert.True(underBudget.TotalCost <= budget, $"{name}: {underBudget.TotalCost} over the budget {budget}");
                Near(brute.MaxThroughput((double)budget / gb)!.Value, underBudget.ThroughputBps / 1e9, 1e-5, $"{name}: throughput under the budget {budget}");
            }
            foreach (var plan in new[] { fastest, cheapest, byDeadline }) SkyplaneGridPlanTests.AssertConsistent(plan, problem.Bytes);
        }
    }

    private static void Near(double expected, double actual, double relative, string what) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Max(Math.Abs(expected), 1e-9) + 1e-9, $"{what}: expected {expected}, planner {actual}");

    /// <summary>A source, two relays and a destination with random providers, rates, flat prices and VM prices.</summary>
    private sealed record RandomProblem(CloudRegion[] Nodes, (int From, int To, double Gbps, decimal PerGb)[] Edges, decimal[] Hourly, int MaxVms, long Bytes)
    {
        public static RandomProblem Create(Random random)
        {
            var nodes = Enumerable.Range(0, 4).Select(i => new CloudRegion(Providers[random.Next(Providers.Length)], $"n{i}")).ToArray();
            var edges = new List<(int, int, double, decimal)>();
            for (var from = 0; from < 3; from++)
                for (var to = 1; to < 4; to++)
                    if (from != to && random.NextDouble() < 0.8)
                        edges.Add((from, to, Math.Round(0.5 + 11.5 * random.NextDouble(), 3), Math.Round((decimal)random.NextDouble() * 0.2m, 3)));
            var hourly = nodes.Select(_ => Math.Round(0.5m + 2.5m * (decimal)random.NextDouble(), 3)).ToArray();
            return new RandomProblem(nodes, [.. edges], hourly, random.Next(1, 4), (long)Math.Round(Math.Pow(10, 9 + 4 * random.NextDouble())));
        }

        public TransferNetwork Network => Build(
            Edges.Select(e => (Nodes[e.From].ToString(), Nodes[e.To].ToString(), e.Gbps)),
            Edges.Select(e => (Nodes[e.From].ToString(), Nodes[e.To].ToString(), e.PerGb)));

        public GatewayOffer? Offer(string provider, string region)
        {
            var at = Array.FindIndex(Nodes, n => n.Provider == provider && n.Region == region);
            return at < 0 ? null : new GatewayOffer("vm", $"offer-{region}", Hourly[at]);
        }

        public VmNetworkLimits Limits(int node) => GatewayLimits.Skyplane.For(Nodes[node].Provider)!.Value;

        public override string ToString() =>
            $"{string.Join(" ", Nodes)}; max {MaxVms} VMs; {Bytes} B; "
            + string.Join(", ", Edges.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.From}>{e.To} {e.Gbps}G ${e.PerGb}")));
    }

    /// <summary>Every VM count per region (source and destination at least 1), each a linear program.</summary>
    private sealed class BruteForce(RandomProblem problem)
    {
        private const double VmCostFactor = 8.0 / 3600;

        private IEnumerable<int[]> Counts()
        {
            var m = problem.MaxVms;
            for (var s = 1; s <= m; s++)
                for (var a = 0; a <= m; a++)
                    for (var b = 0; b <= m; b++)
                        for (var d = 1; d <= m; d++)
                            yield return [s, a, b, d];
        }

        /// <summary>The highest throughput (Gbit/s) costing at most <paramref name="maxPerGb"/> per GB; null when none.</summary>
        public double? MaxThroughput(double maxPerGb)
        {
            double? best = null;
            foreach (var vms in Counts())
            {
                using var lp = Solver.CreateSolver("GLOP");
                var flow = problem.Edges.Select(_ => lp.MakeNumVar(0, double.PositiveInfinity, "")).ToArray();
                var t = lp.MakeNumVar(0, double.PositiveInfinity, "T");
                Network(lp, flow, vms, t, 1, bound: null);
                if (double.IsFinite(maxPerGb))
                {
                    var cost = lp.MakeConstraint(double.NegativeInfinity, -VmCost(vms), "");
                    for (var e = 0; e < flow.Length; e++) cost.SetCoefficient(flow[e], (double)problem.Edges[e].PerGb);
                    cost.SetCoefficient(t, -maxPerGb);
                }
                lp.Objective().SetCoefficient(t, 1);
                lp.Objective().SetMaximization();
                if (lp.Solve() == Solver.ResultStatus.OPTIMAL && t.SolutionValue() > 1e-9) best = Math.Max(best ?? 0, t.SolutionValue());
            }
            return best;
        }

        /// <summary>
        /// The least cost per GB at a throughput of at least <paramref name="minGbps"/>; null when none. In y = f / T and
        /// t = 1 / T the ratio (egress + VMs) / T is linear: sum p_e y_e + VM cost x t, with sum y out of the source = 1.
        /// </summary>
        public double? MinCostPerGb(double minGbps)
        {
            double? best = null;
            foreach (var vms in Counts())
            {
                using var lp = Solver.CreateSolver("GLOP");
                var y = problem.Edges.Select(_ => lp.MakeNumVar(0, double.PositiveInfinity, "")).ToArray();
                var t = lp.MakeNumVar(0, 1 / minGbps, "t");
                Network(lp, y, vms, null, 1, bound: t);
                for (var e = 0; e < y.Length; e++) lp.Objective().SetCoefficient(y[e], (double)problem.Edges[e].PerGb);
                lp.Objective().SetCoefficient(t, VmCost(vms));
                lp.Objective().SetMinimization();
                if (lp.Solve() == Solver.ResultStatus.OPTIMAL) best = Math.Min(best ?? double.PositiveInfinity, lp.Objective().Value());
            }
            return best;
        }

        private double VmCost(int[] vms) => VmCostFactor * vms.Select((n, v) => n * (double)problem.Hourly[v]).Sum();

        /// <summary>
        /// Conservation and capacity rows. With <paramref name="throughput"/>, flow out of the source equals it; with
        /// <paramref name="bound"/> (Charnes-Cooper), flow out of the source is 1 and capacities scale by t.
        /// </summary>
        private void Network(Solver lp, Variable[] flow, int[] vms, Variable? throughput, double unit, Variable? bound)
        {
            var source = lp.MakeConstraint(bound is null ? 0 : unit, bound is null ? 0 : unit, "");
            if (throughput is not null) source.SetCoefficient(throughput, -1);
            for (var v = 1; v < 3; v++)
            {
                var conserve = lp.MakeConstraint(0, 0, "");
                for (var e = 0; e < flow.Length; e++)
                {
                    if (problem.Edges[e].To == v) conserve.SetCoefficient(flow[e], 1);
                    if (problem.Edges[e].From == v) conserve.SetCoefficient(flow[e], -1);
                }
            }
            for (var v = 0; v < 4; v++)
            {
                var limits = problem.Limits(v);
                (bool Outgoing, double PerVm, bool Connections)[] rows = [(true, 1.0, true), (false, 1.0, true), (true, limits.EgressGbps, false), (false, limits.IngressGbps, false)];
                foreach (var (outgoing, perVm, connections) in rows)
                {
                    // sum <= perVm x vms (x t under Charnes-Cooper)
                    var row = lp.MakeConstraint(double.NegativeInfinity, bound is null ? perVm * vms[v] : 0, "");
                    if (bound is not null) row.SetCoefficient(bound, -perVm * vms[v]);
                    for (var e = 0; e < flow.Length; e++)
                    {
                        var edge = problem.Edges[e];
                        if ((outgoing ? edge.From : edge.To) == v) row.SetCoefficient(flow[e], connections ? 1 / edge.Gbps : 1);
                    }
                }
            }
            for (var e = 0; e < flow.Length; e++)
                if (problem.Edges[e].From == 0) source.SetCoefficient(flow[e], 1);
        }
    }
}
