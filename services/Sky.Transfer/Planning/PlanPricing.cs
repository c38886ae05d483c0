using Sky.Pricing;

namespace Sky.Transfer.Planning;

/// <summary>
/// Turns a solution's paths into a priced <see cref="RoutePlan"/>, exactly: rates in whole bits per second, bytes
/// split between routes in proportion to their rates by largest remainder (so they sum to the request's bytes), VMs
/// per region recounted from the routes, egress priced per region pair by <see cref="EgressPricer"/> with tiers and
/// peering, and VM time at the predicted duration.
/// </summary>
internal static class PlanPricing
{
    private const decimal BytesPerGb = 1_000_000_000m;
    private const decimal TicksPerHour = TimeSpan.TicksPerHour;
    /// <summary>Connections and Gbit/s within this of a whole VM are that VM (the solver's tolerance).</summary>
    private const double VmTolerance = 1e-6;

    public static RoutePlan Price(PlanningGraph graph, IReadOnlyList<FlowPath> paths, long bytes, EgressPricer pricer, bool optimal)
    {
        // To the nearest bit/s: the solver's tolerances (1e-7 Gbit/s) are coarser than that, and flooring would turn
        // its 19.999999999999996 into 19999999999.
        var rated = paths.Select(p => (p.Nodes, Bps: (long)Math.Round(p.Gbps * 1e9))).Where(p => p.Bps > 0).ToList();
        if (rated.Count == 0) throw new InvalidOperationException("transfer plan: the solution carries no flow");
        var shares = Split(bytes, [.. rated.Select(p => p.Bps)]);
        var routes = new List<(int[] Nodes, long Bytes, long Bps)>();
        for (var i = 0; i < rated.Count; i++)
            if (shares[i] > 0) routes.Add((rated[i].Nodes, shares[i], rated[i].Bps));

        var duration = routes.Max(r => ThroughputGrid.TransferTime(r.Bytes, r.Bps));
        var gateways = Gateways(graph, routes);
        // One division, last: VM-ticks x price is exact, so the cost is as exact as a decimal can hold.
        var vmCost = gateways.Sum(g => g.Count * g.HourlyPrice * duration.Ticks) / TicksPerHour;
        var hops = Hops(graph, routes, pricer);
        var egress = hops.Sum(h => h.Cost);
        return new RoutePlan
        {
            Routes = [.. routes.Select(r => new PlannedRoute([.. r.Nodes.Select(n => graph.Nodes[n])], r.Bytes, r.Bps))],
            Gateways = gateways,
            Hops = hops,
            Duration = duration,
            ThroughputBps = routes.Sum(r => r.Bps),
            EgressCost = egress,
            VmCost = vmCost,
            PeeringDiscount = hops.Sum(h => h.ListCost) - egress,
            Optimal = optimal,
        };
    }

    /// <summary><paramref name="total"/> split in proportion to <paramref name="weights"/>, largest remainder first (ties to the earlier).</summary>
    internal static long[] Split(long total, long[] weights)
    {
        Int128 sum = 0;
        foreach (var w in weights) sum += w;
        var shares = new long[weights.Length];
        var remainders = new Int128[weights.Length];
        long given = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var exact = (Int128)total * weights[i];
            shares[i] = (long)(exact / sum);
            remainders[i] = exact % sum;
            given += shares[i];
        }
        foreach (var i in Enumerable.Range(0, weights.Length).OrderByDescending(i => remainders[i]).ThenBy(i => i).Take((int)(total - given)))
            shares[i]++;
        return shares;
    }

    /// <summary>The fewest VMs per region that carry the routes' rates under the grid and the per-VM limits.</summary>
    private static List<GatewayVms> Gateways(PlanningGraph graph, List<(int[] Nodes, long Bytes, long Bps)> routes)
    {
        var n = graph.Nodes.Length;
        var connectionsOut = new double[n];
        var connectionsIn = new double[n];
        var sent = new double[n];
        var received = new double[n];
        var used = new bool[n];
        foreach (var (nodes, _, bps) in routes)
        {
            var gbps = bps / 1e9;
            for (var h = 0; h + 1 < nodes.Length; h++)
            {
                var edge = graph.Edges[graph.EdgeIndex(nodes[h], nodes[h + 1])];
                connectionsOut[edge.From] += gbps / edge.Gbps;
                connectionsIn[edge.To] += gbps / edge.Gbps;
                sent[edge.From] += gbps;
                received[edge.To] += gbps;
                used[edge.From] = used[edge.To] = true;
            }
        }
        var gateways = new List<GatewayVms>();
        for (var v = 0; v < n; v++)
        {
            if (!used[v]) continue;
            var limits = graph.Limits[v];
            var need = Math.Max(Math.Max(connectionsOut[v], connectionsIn[v]), Math.Max(sent[v] / limits.EgressGbps, received[v] / limits.IngressGbps));
            var count = Math.Clamp((int)Math.Ceiling(need - VmTolerance), 1, graph.MaxVms);
            var offer = graph.Offers[v];
            gateways.Add(new GatewayVms(graph.Nodes[v], count, offer.InstanceType, offer.OfferId, offer.HourlyPrice));
        }
        return gateways;
    }

    /// <summary>Bytes per region pair over all routes, each pair priced on its own from 0 GB.</summary>
    private static List<HopEgress> Hops(PlanningGraph graph, List<(int[] Nodes, long Bytes, long Bps)> routes, EgressPricer pricer)
    {
        var bytes = new Dictionary<(int, int), long>();
        var order = new List<(int, int)>();
        foreach (var (nodes, routeBytes, _) in routes)
            for (var h = 0; h + 1 < nodes.Length; h++)
            {
                var pair = (nodes[h], nodes[h + 1]);
                if (bytes.TryAdd(pair, routeBytes)) order.Add(pair);
                else bytes[pair] += routeBytes;
            }
        var hops = new List<HopEgress>();
        foreach (var (from, to) in order)
        {
            var (a, b) = (graph.Nodes[from], graph.Nodes[to]);
            var quote = pricer.Quote(a.Provider, a.Region, b.Provider, b.Region, bytes[(from, to)] / BytesPerGb);
            hops.Add(new HopEgress(a, b, bytes[(from, to)], quote.ListCost, quote.Cost, quote.AgreementId));
        }
        return hops;
    }
}
