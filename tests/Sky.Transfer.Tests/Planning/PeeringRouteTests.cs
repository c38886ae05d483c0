using Sky.Pricing;
using Sky.Transfer.Planning;
using static Sky.Transfer.Tests.Planning.Networks;
using Proto = Sky.Accounting.V1;

namespace Sky.Transfer.Tests.Planning;

/// <summary>Peering agreements change what a route costs, and so which route the cheapest plan takes.</summary>
public sealed class PeeringRouteTests
{
    private const long Terabyte = 1_000_000_000_000;
    private static readonly TransferPlanner Planner = new();
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Free egress both ways between two providers, as accounting books it.</summary>
    private static PeeringAgreements Free(params (string A, string B)[] pairs) =>
        new PeeringBook(pairs.Select((p, i) => new Proto.PeeringAgreement
        {
            AgreementId = $"peer-{i}",
            ProviderA = p.A,
            ProviderB = p.B,
            Terms = Proto.PeeringTerms.Free,
        })).InForce(Now);

    [SkippableFact]
    public void On_the_real_grid_free_peering_through_azure_moves_the_cheapest_route_off_the_direct_path()
    {
        var network = Skyplane();
        var request = new TransferPlanRequest { Source = Region("aws/us-east-1"), Destination = Region("gcp/us-east1"), Bytes = Terabyte };

        var listed = Planner.Plan(request, network, ListPrice);
        Assert.True(listed.Plan.IsDirect, listed.Plan.ToString());

        var peered = Planner.Plan(request, network, ListPrice, Free(("aws", "azure"), ("azure", "gcp")));
        var plan = peered.Plan;
        Assert.False(plan.IsDirect, plan.ToString());
        Assert.All(plan.Routes, r => Assert.Contains(r.Hops.Skip(1).SkipLast(1), h => h.Provider == "azure"));
        Assert.Equal(0m, plan.EgressCost);
        Assert.True(plan.PeeringDiscount > 0);
        Assert.All(plan.Hops, h => Assert.StartsWith("peer-", h.AgreementId));
        Assert.True(plan.TotalCost < listed.Plan.TotalCost, $"{plan.TotalCost} vs {listed.Plan.TotalCost}");

        // The direct route beside it pays list price: no agreement covers aws -> gcp.
        var direct = Assert.IsType<RoutePlan>(peered.Direct);
        Assert.True(direct.IsDirect);
        Assert.Equal(listed.Plan.EgressCost, direct.EgressCost);
        SkyplaneGridPlanTests.AssertConsistent(plan, Terabyte);
    }

    /// <summary>
    /// A 10%-off agreement on the direct pair is not enough to beat a free detour; a free agreement on the
    /// direct pair brings the plan back to direct (one hop needs a third fewer VMs).
    /// </summary>
    [Fact]
    public void The_cheapest_route_follows_the_agreements()
    {
        var network = Triangle();
        var request = new TransferPlanRequest { Source = Region("aws/east"), Destination = Region("gcp/east"), Bytes = Terabyte };

        var none = Planner.Plan(request, network, ListPrice);
        Assert.True(none.Plan.IsDirect);
        Assert.Equal(90m, none.Plan.EgressCost);

        var detour = Planner.Plan(request, network, ListPrice, Free(("aws", "azure"), ("azure", "gcp")));
        Assert.Equal([Region("aws/east"), Region("azure/east"), Region("gcp/east")], Assert.Single(detour.Plan.Routes).Hops);
        Assert.Equal(0m, detour.Plan.EgressCost);
        Assert.Equal(20m + 87.5m, detour.Plan.PeeringDiscount);

        var both = new PeeringAgreements([.. Free(("aws", "azure"), ("azure", "gcp")).All, PeeringAgreement.Discount("tenth", "aws", "", "gcp", "", 10)]);
        Assert.False(Planner.Plan(request, network, ListPrice, both).Plan.IsDirect);

        var directFree = new PeeringAgreements([.. Free(("aws", "azure"), ("azure", "gcp")).All, PeeringAgreement.Free("direct", "aws", "", "gcp", "")]);
        var back = Planner.Plan(request, network, ListPrice, directFree);
        Assert.True(back.Plan.IsDirect, back.Plan.ToString());
        Assert.Equal(0m, back.Plan.EgressCost);
        Assert.Equal(90m, back.Plan.PeeringDiscount);
        Assert.Equal("direct", Assert.Single(back.Plan.Hops).AgreementId);
    }

    /// <summary>
    /// aws/east -> gcp/east direct at 5 Gbit/s per VM pair and $0.09/GB; through azure/east at 5 Gbit/s on each hop,
    /// $0.02 + $0.0875/GB (so the detour needs a third group of VMs).
    /// </summary>
    internal static TransferNetwork Triangle() => Build(
        [("aws/east", "gcp/east", 5), ("aws/east", "azure/east", 5), ("azure/east", "gcp/east", 5)],
        [("aws/east", "gcp/east", 0.09m), ("aws/east", "azure/east", 0.02m), ("azure/east", "gcp/east", 0.0875m)]);
}
