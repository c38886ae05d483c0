using Sky.Pricing;

namespace Sky.Transfer.Planning;

/// <summary>A usable hop: both ends in the graph, a measured rate (Gbit/s per VM pair) and a model price per GB.</summary>
internal readonly record struct FlowEdge(int From, int To, double Gbps, double PricePerGb);

/// <summary>
/// The integer program's network: node 0 is the source, the last node the destination, relays between. Edges
/// never enter the source or leave the destination. Prices per GB are the egress a hop would cost if the whole
/// transfer crossed it (tiers and peering applied) divided by its GB: exact for a single path, and the plan's
/// money is recomputed exactly from its routes afterwards anyway.
/// </summary>
internal sealed class PlanningGraph
{
    private readonly Dictionary<(int, int), int> edgeAt = [];

    public PlanningGraph(CloudRegion[] nodes, GatewayOffer[] offers, VmNetworkLimits[] limits, FlowEdge[] edges, int maxVms)
    {
        Nodes = nodes;
        Offers = offers;
        Limits = limits;
        Edges = edges;
        MaxVms = maxVms;
        for (var e = 0; e < edges.Length; e++) edgeAt[(edges[e].From, edges[e].To)] = e;
    }

    public CloudRegion[] Nodes { get; }
    public GatewayOffer[] Offers { get; }
    public VmNetworkLimits[] Limits { get; }
    public FlowEdge[] Edges { get; }
    public int MaxVms { get; }
    public int Source => 0;
    public int Destination => Nodes.Length - 1;

    /// <summary>The edge from one node to another, or -1.</summary>
    public int EdgeIndex(int from, int to) => edgeAt.TryGetValue((from, to), out var e) ? e : -1;

    /// <summary>True when some path of edges leads from source to destination.</summary>
    public bool Connected()
    {
        var seen = new bool[Nodes.Length];
        var stack = new Stack<int>([Source]);
        seen[Source] = true;
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node == Destination) return true;
            foreach (var edge in Edges)
                if (edge.From == node && !seen[edge.To])
                {
                    seen[edge.To] = true;
                    stack.Push(edge.To);
                }
        }
        return false;
    }
}

/// <summary>
/// Builds the planning graphs of one request: the direct graph (source and destination) and the relay graph, whose
/// relays are pruned to the fastest and the cheapest single-relay detours so a plan solves in well under a second
/// on a 63-region grid.
/// </summary>
internal sealed class GraphBuilder
{
    private const decimal BytesPerGb = 1_000_000_000m;

    private readonly TransferPlanRequest request;
    private readonly TransferNetwork network;
    private readonly GatewayOffers offers;
    private readonly GatewayLimits limits;
    private readonly EgressPricer pricer;
    private readonly decimal gb;
    private readonly Dictionary<(CloudRegion, CloudRegion), double?> prices = [];
    private readonly Dictionary<CloudRegion, GatewayOffer?> offered = [];

    public GraphBuilder(TransferPlanRequest request, TransferNetwork network, GatewayOffers offers, GatewayLimits limits, EgressPricer pricer)
    {
        this.request = request;
        this.network = network;
        this.offers = offers;
        this.limits = limits;
        this.pricer = pricer;
        gb = request.Bytes / BytesPerGb;
    }

    /// <summary>The graph of source and destination alone.</summary>
    /// <exception cref="NoTransferPlanException">Source or destination has no gateway offer or no per-VM limits.</exception>
    public PlanningGraph Direct() => Build([request.Source, request.Destination]);

    /// <summary>
    /// The graph through the relays, and those relays: every region that can run a gateway when there are at most
    /// <paramref name="fastRelays"/> + <paramref name="cheapRelays"/> of them, else the fastest and the cheapest
    /// single-relay detours (both hops measured and priced).
    /// </summary>
    public (PlanningGraph Graph, IReadOnlyList<CloudRegion> Relays) WithRelays(int fastRelays, int cheapRelays)
    {
        var src = request.Source;
        var dst = request.Destination;
        var (_, srcLimits) = Gateway(src, "source");
        var (_, dstLimits) = Gateway(dst, "destination");
        var eligible = new List<(CloudRegion Region, GatewayOffer Offer, VmNetworkLimits Limits)>();
        foreach (var relay in network.Regions)
            if (!relay.Equals(src) && !relay.Equals(dst) && Offer(relay) is { } offer && limits.For(relay.Provider) is { } relayLimits)
                eligible.Add((relay, offer, relayLimits));
        if (eligible.Count <= fastRelays + cheapRelays)
        {
            var all = eligible.Select(r => r.Region).ToArray();
            return (Build([src, .. all, dst]), all);
        }

        var scored = new List<(CloudRegion Region, int Order, double Gbps, double PerGb)>();
        for (var i = 0; i < eligible.Count; i++)
        {
            var (relay, offer, relayLimits) = eligible[i];
            if (network.Gbps(src, relay) is not { } inbound || network.Gbps(relay, dst) is not { } outbound) continue;
            if (Price(src, relay) is not { } first || Price(relay, dst) is not { } second) continue;
            var bottleneck = Min(inbound, outbound, srcLimits.EgressGbps, relayLimits.IngressGbps, relayLimits.EgressGbps, dstLimits.IngressGbps);
            // A relay VM's time per GB: 8 Gbit over the bottleneck, at its hourly price.
            var perGb = first + second + (double)offer.HourlyPrice * 8 / 3600 / bottleneck;
            scored.Add((relay, i, bottleneck, perGb));
        }
        var fast = scored.OrderByDescending(s => s.Gbps).ThenBy(s => s.Order).Take(fastRelays);
        var cheap = scored.OrderBy(s => s.PerGb).ThenBy(s => s.Order).Take(cheapRelays);
        var relays = fast.Concat(cheap).DistinctBy(s => s.Region).OrderBy(s => s.Order).Select(s => s.Region).ToArray();
        return (Build([src, .. relays, dst]), relays);
    }

    private PlanningGraph Build(CloudRegion[] nodes)
    {
        var nodeOffers = new GatewayOffer[nodes.Length];
        var nodeLimits = new VmNetworkLimits[nodes.Length];
        for (var n = 0; n < nodes.Length; n++)
        {
            var role = n == 0 ? "source" : n == nodes.Length - 1 ? "destination" : "relay";
            (nodeOffers[n], nodeLimits[n]) = Gateway(nodes[n], role);
        }
        var edges = new List<FlowEdge>();
        var destination = nodes.Length - 1;
        for (var from = 0; from < destination; from++)
            for (var to = 1; to < nodes.Length; to++)
            {
                if (from == to) continue;
                if (network.Gbps(nodes[from], nodes[to]) is not { } gbps || Price(nodes[from], nodes[to]) is not { } price) continue;
                edges.Add(new FlowEdge(from, to, gbps, price));
            }
        return new PlanningGraph(nodes, nodeOffers, nodeLimits, [.. edges], request.MaxVmsPerRegion);
    }

    private (GatewayOffer Offer, VmNetworkLimits Limits) Gateway(CloudRegion region, string role)
    {
        var offer = Offer(region)
            ?? throw new NoTransferPlanException(NoPlanReason.NoGateway,
                $"no gateway offer in the {role} region {region} (instance type {GatewayInstanceTypes.For(region.Provider) ?? "unknown for this provider"})");
        offer.Validate(region);
        var vm = limits.For(region.Provider)
            ?? throw new NoTransferPlanException(NoPlanReason.NoGateway, $"no per-VM network limits are known for provider {region.Provider} ({role} region {region})");
        return (offer, vm);
    }

    /// <summary>The region's gateway offer, asked of the lookup once per plan (it may query the directory).</summary>
    private GatewayOffer? Offer(CloudRegion region)
    {
        if (!offered.TryGetValue(region, out var offer)) offered[region] = offer = offers(region.Provider, region.Region);
        return offer;
    }

    /// <summary>The model's price per GB of a hop, or null when the grid has no price for it (never read as free).</summary>
    private double? Price(CloudRegion from, CloudRegion to)
    {
        if (prices.TryGetValue((from, to), out var known)) return known;
        var quote = pricer.Quote(from.Provider, from.Region, to.Provider, to.Region, gb);
        double? price = quote.HasPrice ? (double)(quote.Cost / gb) : null;
        prices[(from, to)] = price;
        return price;
    }

    private static double Min(params ReadOnlySpan<double> values)
    {
        var min = double.PositiveInfinity;
        foreach (var value in values) min = Math.Min(min, value);
        return min;
    }
}
