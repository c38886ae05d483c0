using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Placement.Engine;
using Sky.Placement.V1;
using Sky.Pricing;

namespace Sky.Placement.Tests.Engine;

/// <summary>A plan's quote has an egress line for each edge that moves data across regions, priced at the pair's tiers.</summary>
public sealed class PlanQuoteEgressTests
{
    private static readonly Location UsEast = new() { Provider = "aws", Region = "us-east-1", Zone = "us-east-1a" };
    private static readonly Location Central = new() { Provider = "gcp", Region = "us-central1", Zone = "us-central1-a" };

    private static readonly EgressPricer Prices = new(new EgressGrid([
        new Directory.V1.EgressPrice
        {
            Src = new Location { Provider = "aws", Region = "us-east-1" }, Dst = new Location { Provider = "gcp" },
            Tiers = { new EgressTier { UpToGb = 10_240, PricePerGb = Money.FromDecimal(0.09m, "USD") }, new EgressTier { PricePerGb = Money.FromDecimal(0.085m, "USD") } },
        },
    ]));

    private static PlanResponse Plan(params PlannedEgress[] edges)
    {
        var plan = new PlanResponse { PlanId = "plan-1", PriceBookRevision = 7 };
        foreach (var (task, at) in new[] { ("a", UsEast), ("b", Central) })
            plan.Tasks.Add(new TaskPlan
            {
                Task = task,
                Chosen = new Placement.V1.TaskPlacement { Task = task, OfferId = "o-" + task, InstanceType = "m9.large", NumNodes = 1, HourlyCost = Money.FromDecimal(1m, "USD"), Location = at },
            });
        plan.Egress.Add(edges);
        return plan;
    }

    private static PlannedEgress Edge(string from, string to, long bytes, Location src, Location dst) =>
        new() { SourceTask = from, DestinationTask = to, Bytes = bytes, Source = src, Destination = dst };

    [Fact]
    public void Cross_region_edges_are_quoted_in_bytes_at_the_pairs_tiers_and_edges_within_a_region_or_of_no_bytes_are_not()
    {
        var rater = new UsageRater(new RatingPolicy { MarginRate = 0.05m });
        var quote = new PlanQuotes(rater).Issue(Plan(
                Edge("a", "b", 12_000_000_000_000, UsEast, Central),          // 12,000 GB: across the 10,240 GB edge
                Edge("s3://data/x", "a", 5_000_000_000, new Location { Provider = "aws", Region = "us-east-1" }, UsEast),   // same region: free, not quoted
                Edge("a", "b", 0, UsEast, Central)),
            "acme", _ => TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch, Prices);

        var egress = Assert.Single(quote.Lines, l => l.Service == "egress");
        Assert.Equal(("egress:a->b", "egress:aws/us-east-1", "b"), (egress.LineId, egress.OfferId, egress.Task));
        Assert.Equal(("12000000000000", "byte", "gb", 0.09m), (egress.Quantity, egress.Unit, egress.PriceUnit, egress.UnitPrice.ToDecimal()));
        Assert.Equal((new Location { Provider = "aws", Region = "us-east-1" }, new Location { Provider = "gcp", Region = "us-central1" }), (egress.Location, egress.Destination));
        Assert.Equal([(10_240L, 0.09m), (0L, 0.085m)], egress.Tiers.Select(t => (t.UpToGb, t.PricePerGb.ToDecimal())));
        Assert.Equal((10_240m * 0.09m + 1_760m * 0.085m) * 1.05m, egress.Amount.ToDecimal());
        Assert.Equal(quote.Lines.Sum(l => l.Amount.ToDecimal()), quote.Total.ToDecimal());
        Assert.Equal(3, quote.Lines.Count);
    }

    [Fact]
    public void An_edge_without_an_egress_price_or_without_prices_at_all_cannot_be_quoted()
    {
        var quotes = new PlanQuotes(new UsageRater());
        var azure = new Location { Provider = "azure", Region = "eastus" };
        Assert.Contains("no price from", Assert.Throws<ArgumentException>(() =>
            quotes.Issue(Plan(Edge("a", "b", 1_000_000_000, UsEast, azure)), "acme", _ => TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch, Prices)).Message);
        Assert.Throws<ArgumentException>(() => quotes.Issue(Plan(Edge("a", "b", 1_000_000_000, UsEast, Central)), "acme", _ => TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch));
    }
}
