using Google.OrTools.LinearSolver;

namespace Sky.Transfer.Planning;

/// <summary>A solution of the flow program: Gbit/s per edge, VMs per node, throughput and model cost per GB.</summary>
internal sealed record FlowSolution(double[] Flow, int[] Vms, double Gbps, double CostPerGb, bool Optimal);

/// <summary>
/// Skyplane's integer program over a <see cref="PlanningGraph"/>, solved with OR-Tools' mixed-integer solver wrapper:
/// flows are continuous and VM counts integer, which suits a branch-and-cut solver; CP-SAT would need flows scaled to
/// integers (tried through the same wrapper: an order of magnitude slower). Of the bundled ones, CBC solved these programs
/// (12 relays on Skyplane's grid) in about half SCIP's time and a little under HiGHS's.
/// <para>
/// Variables: flow f_e &gt;= 0 per edge (Gbit/s), VMs n_v in 0..max per region, throughput T = flow out of the
/// source. Rows: flow conservation at relays; the grid's 64-connection semantics (a rate was measured with 64
/// connections from one VM to one VM, and a VM has 64 to spread over its hops, sending and receiving apart), so
/// sum over v's outgoing hops of f_e / rate_e &lt;= n_v and the same over incoming hops; per-VM egress and ingress
/// limits, sum out &lt;= egress x n_v and sum in &lt;= ingress x n_v.
/// </para>
/// <para>
/// Money per GB moved: (sum p_e f_e + 8/3600 sum h_v n_v) / T with p_e the hop's $/GB and h_v the VM's $/h, since
/// a fraction f_e/T of the data crosses e and a GB takes 8/T seconds. That is independent of the transfer's size,
/// and "cost per GB &lt;= C" is linear: sum p_e f_e + 8/3600 sum h_v n_v - C T &lt;= 0. So both directions are
/// integer programs: <see cref="MaxThroughput"/> under a cost ceiling, and <see cref="MinCost"/> at a required
/// throughput, a ratio minimized exactly by Dinkelbach's method (each step one program: min cost - lambda T).
/// Minimizing the ratio rather than fixing T, as Skyplane does, lets a plan run faster than required when its
/// whole VMs allow it, which is cheaper.
/// </para>
/// Not thread-safe; one per plan.
/// </summary>
internal sealed class FlowProgram : IDisposable
{
    /// <summary>Seconds per hour over bits per byte: a VM-hour's price times this times VMs / T is its cost per GB.</summary>
    private const double VmCostFactor = 8.0 / 3600;
    private const int MaxDinkelbachSteps = 30;

    private readonly PlanningGraph graph;
    private readonly Solver solver;
    private readonly Variable[] flow;
    private readonly Variable[] vms;
    private readonly Variable throughput;
    private readonly Constraint costCap;
    private readonly PlanClock clock;
    private readonly MPSolverParameters parameters = new();

    public FlowProgram(PlanningGraph graph, PlanClock clock)
    {
        this.graph = graph;
        this.clock = clock;
        solver = Solver.CreateSolver("CBC") ?? throw new InvalidOperationException("OR-Tools was built without CBC");
        solver.SetNumThreads(1);
        // Dinkelbach's steps stop near an objective of 0, where a relative gap means nothing: prove each step.
        parameters.SetDoubleParam(MPSolverParameters.DoubleParam.RELATIVE_MIP_GAP, 1e-9);

        var nodes = graph.Nodes.Length;
        vms = new Variable[nodes];
        for (var v = 0; v < nodes; v++) vms[v] = solver.MakeIntVar(0, graph.MaxVms, $"n{v}");
        flow = new Variable[graph.Edges.Length];
        for (var e = 0; e < flow.Length; e++) flow[e] = solver.MakeNumVar(0, graph.Edges[e].Gbps * graph.MaxVms, $"f{e}");
        throughput = solver.MakeNumVar(0, double.PositiveInfinity, "T");

        var connectionsOut = new Constraint[nodes];
        var connectionsIn = new Constraint[nodes];
        var egress = new Constraint[nodes];
        var ingress = new Constraint[nodes];
        for (var v = 0; v < nodes; v++)
        {
            connectionsOut[v] = AtMostVms(v, 1);
            connectionsIn[v] = AtMostVms(v, 1);
            egress[v] = AtMostVms(v, graph.Limits[v].EgressGbps);
            ingress[v] = AtMostVms(v, graph.Limits[v].IngressGbps);
        }
        var conservation = new Constraint[nodes];
        for (var v = 1; v < nodes - 1; v++) conservation[v] = solver.MakeConstraint(0, 0, $"conserve{v}");
        var sourceOut = solver.MakeConstraint(0, 0, "T");
        sourceOut.SetCoefficient(throughput, -1);
        costCap = solver.MakeConstraint(double.NegativeInfinity, double.PositiveInfinity, "cost");

        for (var e = 0; e < flow.Length; e++)
        {
            var edge = graph.Edges[e];
            var f = flow[e];
            connectionsOut[edge.From].SetCoefficient(f, 1 / edge.Gbps);
            connectionsIn[edge.To].SetCoefficient(f, 1 / edge.Gbps);
            egress[edge.From].SetCoefficient(f, 1);
            ingress[edge.To].SetCoefficient(f, 1);
            conservation[edge.From]?.SetCoefficient(f, -1);
            conservation[edge.To]?.SetCoefficient(f, 1);
            if (edge.From == graph.Source) sourceOut.SetCoefficient(f, 1);
            costCap.SetCoefficient(f, edge.PricePerGb);
        }
        for (var v = 0; v < nodes; v++) costCap.SetCoefficient(vms[v], VmCostFactor * (double)graph.Offers[v].HourlyPrice);
    }

    /// <summary>The highest throughput of at least <paramref name="minGbps"/> costing at most <paramref name="maxCostPerGb"/>; null when none does.</summary>
    /// <exception cref="TimeoutException">The time limit passed before any solution was found.</exception>
    public FlowSolution? MaxThroughput(double minGbps, double maxCostPerGb = double.PositiveInfinity)
    {
        Limit(minGbps, maxCostPerGb);
        var objective = solver.Objective();
        objective.Clear();
        objective.SetCoefficient(throughput, 1);
        objective.SetMaximization();
        if (double.IsFinite(maxCostPerGb)) return Solve();
        // Without a cost limit more VMs never slow a plan: every region gets the most, and what is left is a linear program.
        foreach (var n in vms) n.SetLb(graph.MaxVms);
        try
        {
            return Solve();
        }
        finally
        {
            foreach (var n in vms) n.SetLb(0);
        }
    }

    /// <summary>
    /// The least cost per GB at a throughput of at least <paramref name="minGbps"/> and a cost of at most
    /// <paramref name="maxCostPerGb"/>; null when no plan meets both. <paramref name="upperCostPerGb"/>, the cost
    /// of some plan known to meet them (in this graph or a smaller one), saves Dinkelbach steps.
    /// </summary>
    /// <exception cref="TimeoutException">The time limit passed before any solution was found.</exception>
    public FlowSolution? MinCost(double minGbps, double maxCostPerGb = double.PositiveInfinity, double? upperCostPerGb = null)
    {
        Limit(minGbps, maxCostPerGb);
        FlowSolution? best = null;
        // Without a start, lambda 0 gives a first plan whose cost per GB starts the descent.
        var lambda = upperCostPerGb;
        var optimal = false;
        var proven = true;
        for (var step = 0; step < MaxDinkelbachSteps && !clock.Expired; step++)
        {
            var objective = solver.Objective();
            objective.Clear();
            for (var e = 0; e < flow.Length; e++) objective.SetCoefficient(flow[e], graph.Edges[e].PricePerGb);
            for (var v = 0; v < vms.Length; v++) objective.SetCoefficient(vms[v], VmCostFactor * (double)graph.Offers[v].HourlyPrice);
            objective.SetCoefficient(throughput, -(lambda ?? 0));
            objective.SetMinimization();
            FlowSolution? next;
            try
            {
                next = Solve();
            }
            catch (TimeoutException) when (best is not null)
            {
                break;
            }
            if (next is null) return best;
            proven &= next.Optimal;
            if (best is null || next.CostPerGb < best.CostPerGb) best = next;
            // min(cost - lambda T) = 0, reached by a plan costing lambda per GB: no plan costs less, lambda is the optimum.
            if (lambda is { } known && Math.Abs(next.CostPerGb - known) <= 1e-9 * known)
            {
                optimal = proven;
                break;
            }
            lambda = next.CostPerGb;
        }
        return best is null ? null : best with { Optimal = optimal };
    }

    private Constraint AtMostVms(int v, double perVm)
    {
        var row = solver.MakeConstraint(double.NegativeInfinity, 0, "");
        row.SetCoefficient(vms[v], -perVm);
        return row;
    }

    private void Limit(double minGbps, double maxCostPerGb)
    {
        throughput.SetLb(minGbps);
        var capped = double.IsFinite(maxCostPerGb);
        costCap.SetCoefficient(throughput, capped ? -maxCostPerGb : 0);
        costCap.SetUb(capped ? 0 : double.PositiveInfinity);
    }

    private FlowSolution? Solve()
    {
        var remaining = clock.Remaining;
        if (remaining <= TimeSpan.Zero) throw new TimeoutException($"transfer plan: no solution within the time limit of {clock.Limit}");
        solver.SetTimeLimit((long)Math.Ceiling(remaining.TotalMilliseconds));
        using var registration = clock.Token.Register(() => solver.InterruptSolve());
        var status = solver.Solve(parameters);
        clock.Token.ThrowIfCancellationRequested();
        switch (status)
        {
            case Solver.ResultStatus.OPTIMAL or Solver.ResultStatus.FEASIBLE:
                break;
            case Solver.ResultStatus.INFEASIBLE:
                return null;
            case Solver.ResultStatus.NOT_SOLVED when clock.Expired:
                throw new TimeoutException($"transfer plan: no solution within the time limit of {clock.Limit}");
            default:
                throw new InvalidOperationException($"transfer plan: the solver ended with {status}");
        }
        var flows = new double[flow.Length];
        for (var e = 0; e < flows.Length; e++) flows[e] = Math.Max(0, flow[e].SolutionValue());
        var counts = new int[vms.Length];
        for (var v = 0; v < counts.Length; v++) counts[v] = (int)Math.Round(vms[v].SolutionValue());
        var gbps = throughput.SolutionValue();
        return new FlowSolution(flows, counts, gbps, CostPerGb(flows, counts, gbps), status == Solver.ResultStatus.OPTIMAL);
    }

    private double CostPerGb(double[] flows, int[] counts, double gbps)
    {
        var cost = 0d;
        for (var e = 0; e < flows.Length; e++) cost += graph.Edges[e].PricePerGb * flows[e];
        for (var v = 0; v < counts.Length; v++) cost += VmCostFactor * (double)graph.Offers[v].HourlyPrice * counts[v];
        return gbps > 0 ? cost / gbps : double.PositiveInfinity;
    }

    public void Dispose()
    {
        parameters.Dispose();
        solver.Dispose();
    }
}

/// <summary>The wall-time budget and cancellation shared by every solve of one plan.</summary>
internal sealed class PlanClock(TimeProvider time, TimeSpan limit, CancellationToken token)
{
    private readonly long started = time.GetTimestamp();

    public TimeSpan Limit { get; } = limit;
    public CancellationToken Token { get; } = token;
    public TimeSpan Elapsed => time.GetElapsedTime(started);
    public TimeSpan Remaining => Limit - Elapsed;
    public bool Expired => Remaining <= TimeSpan.Zero;
}
