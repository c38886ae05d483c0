using Sky.Pricing.Reconciliation;

namespace Sky.Pricing.Tests.Reconciliation;

/// <summary>Quote lines and billed usages priced by the one <see cref="UsageRater"/>, as placement and accounting make them.</summary>
internal static class Usages
{
    public static readonly UsageRater Rater = new();

    public static readonly EgressRoute AwsToGcp = new("aws", "us-east-1", "gcp", "us-central1");

    public static QuotedLine ComputeLine(string id, string offer, decimal hourly, decimal nodeSeconds, int nodes = 1, bool spot = false, long revision = 1,
        LineKind kind = LineKind.Compute)
    {
        var price = new ComputePrice(hourly, spot, revision);
        return new QuotedLine
        {
            LineId = id, Description = $"{id} on {offer}", Kind = kind, OfferId = offer, Quantity = nodeSeconds, Nodes = nodes, Price = price,
            Amount = price.Rate(Rater, PeeringState.None, nodeSeconds, nodes).Amount,
        };
    }

    public static BilledUsage ComputeUsage(string id, string? line, string offer, decimal hourly, decimal nodeSeconds, int nodes = 1, bool spot = false,
        long revision = 1, bool late = false, string reference = "")
    {
        var price = new ComputePrice(hourly, spot, revision);
        return new BilledUsage
        {
            UsageId = id, LineId = line, OfferId = offer, Quantity = nodeSeconds, Nodes = nodes, Price = price, Late = late, Reference = reference,
            Amount = price.Rate(Rater, PeeringState.None, nodeSeconds, nodes).Amount,
        };
    }

    public static QuotedLine EgressLine(string id, string offer, EgressTiers tiers, decimal gb, IEgressAdjuster? peering = null, long revision = 1,
        EgressRoute? route = null)
    {
        var price = new EgressPrice(tiers, route ?? AwsToGcp, revision);
        var state = new PeeringState(peering);
        return new QuotedLine
        {
            LineId = id, Description = $"{id} {price.Route}", Kind = LineKind.Egress, OfferId = offer, Quantity = gb, Price = price, Peering = state,
            Amount = price.Rate(Rater, state, gb, 1).Amount,
        };
    }

    public static BilledUsage EgressUsage(string id, string? line, string offer, EgressTiers tiers, decimal gb, IEgressAdjuster? peering = null,
        long revision = 1, EgressRoute? route = null, bool late = false, string reference = "")
    {
        var price = new EgressPrice(tiers, route ?? AwsToGcp, revision);
        var state = new PeeringState(peering);
        return new BilledUsage
        {
            UsageId = id, LineId = line, OfferId = offer, Quantity = gb, Price = price, Peering = state, Late = late, Reference = reference,
            Amount = price.Rate(Rater, state, gb, 1).Amount,
        };
    }
}
