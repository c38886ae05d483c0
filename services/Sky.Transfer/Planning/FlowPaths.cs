namespace Sky.Transfer.Planning;

/// <summary>A source-to-destination path of node indexes and the Gbit/s it carries.</summary>
internal sealed record FlowPath(int[] Nodes, double Gbps);

/// <summary>
/// Splits an edge flow into source-to-destination paths (the routes a plan lists): follow the largest remaining flow
/// from the source; a node met twice closes a cycle, whose flow moves nothing and is cancelled; reaching the
/// destination takes the path's bottleneck off every edge. Flow below <see cref="Noise"/> of the total is solver
/// round-off and is dropped.
/// </summary>
internal static class FlowPaths
{
    /// <summary>Relative flow the solver's tolerances can leave on an edge without meaning it.</summary>
    public const double Noise = 1e-7;

    public static IReadOnlyList<FlowPath> Decompose(PlanningGraph graph, double[] flow)
    {
        var total = 0d;
        foreach (var edge in graph.Edges.Where(e => e.From == graph.Source)) total += flow[graph.EdgeIndex(edge.From, edge.To)];
        var floor = Math.Max(total * Noise, 1e-12);
        var left = flow.Select(f => f < floor ? 0 : f).ToArray();
        var outgoing = new List<int>[graph.Nodes.Length];
        for (var v = 0; v < outgoing.Length; v++) outgoing[v] = [];
        for (var e = 0; e < graph.Edges.Length; e++) outgoing[graph.Edges[e].From].Add(e);

        var paths = new Dictionary<string, FlowPath>(StringComparer.Ordinal);
        var order = new List<string>();
        // Each pass empties at least one edge, so edges + 1 passes always finish.
        for (var pass = 0; pass <= graph.Edges.Length; pass++)
        {
            var nodes = new List<int> { graph.Source };
            var edges = new List<int>();
            var at = new Dictionary<int, int> { [graph.Source] = 0 };
            var node = graph.Source;
            var cycle = false;
            while (node != graph.Destination && !cycle)
            {
                var next = -1;
                foreach (var e in outgoing[node])
                    if (left[e] > 0 && (next < 0 || left[e] > left[next])) next = e;
                if (next < 0) break;
                edges.Add(next);
                node = graph.Edges[next].To;
                if (at.TryGetValue(node, out var first))
                {
                    Take(left, edges.Skip(first), floor);
                    cycle = true;
                }
                else
                {
                    at[node] = nodes.Count;
                    nodes.Add(node);
                }
            }
            if (cycle) continue;
            if (node != graph.Destination)
            {
                // A dead end: round-off broke conservation here. Drop the edge into it and look again.
                if (edges.Count == 0) break;
                left[edges[^1]] = 0;
                continue;
            }
            var carried = Take(left, edges, floor);
            var key = string.Join(">", nodes);
            if (paths.TryGetValue(key, out var known)) paths[key] = known with { Gbps = known.Gbps + carried };
            else
            {
                paths[key] = new FlowPath([.. nodes], carried);
                order.Add(key);
            }
        }
        return [.. order.Select(k => paths[k]).Where(p => p.Gbps >= floor)];
    }

    /// <summary>Takes the smallest flow of <paramref name="edges"/> off each of them and returns it.</summary>
    private static double Take(double[] left, IEnumerable<int> edges, double floor)
    {
        var list = edges.ToList();
        var amount = list.Min(e => left[e]);
        foreach (var e in list) left[e] = left[e] - amount < floor ? 0 : left[e] - amount;
        return amount;
    }
}
