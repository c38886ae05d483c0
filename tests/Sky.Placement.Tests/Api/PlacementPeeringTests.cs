using Sky.Hosting.Peering;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Catalog;
using Sky.Placement.V1;
using Sky.Testing;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Api;

/// <summary>Peering agreements announced by accounting (`peering.*` events) change the egress placement prices, and with it the plan.</summary>
public sealed class PlacementPeeringTests
{
    // A big dataset made in AWS: without peering the GPU stage stays in AWS, since moving 5 TB out costs more than
    // the cheaper GPU elsewhere saves.
    private const string Pipeline = """
        name: prep
        resources:
          infra: aws/us-east-1
          cpus: 4+
        outputs:
          /data: 5000
        run: echo prep
        ---
        name: train
        resources:
          accelerators: L4:1
        run: echo train
        """;

    private static PlanRequest Request() => new()
    {
        Spec = new JobSpec { TaskYaml = Pipeline, FileName = "pipeline.yaml", TenantId = "acme", Policy = new PlacementPolicy { AllowedProviders = { "aws", "gcp" } } },
    };

    private static PeeringAgreement Free(DateTimeOffset from, DateTimeOffset? until = null)
    {
        var agreement = new PeeringAgreement
        {
            AgreementId = "aws-gcp", ProviderA = "aws", ProviderB = "gcp", Terms = PeeringTerms.Free, EffectiveFrom = Timestamp.FromDateTimeOffset(from),
        };
        if (until is { } u) agreement.EffectiveUntil = Timestamp.FromDateTimeOffset(u);
        return agreement;
    }

    private static async Task<PlanResponse> PlanWhenAsync(PlacementClient client, Func<PlanResponse, bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var plan = await client.PlanAsync(Request());
            if (done(plan) || DateTime.UtcNow > until) return plan;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_free_agreement_moves_the_gpu_stage_across_clouds_and_its_end_moves_it_back()
    {
        await using var mesh = await TestMesh.StartAsync("all");
        var client = mesh.Client<PlacementClient>();
        var bus = mesh.Services.GetRequiredService<IEventBus>();

        var before = await client.PlanAsync(Request());
        Assert.Equal("aws", before.Tasks[1].Chosen.Location.Provider);
        Assert.Equal(0m, before.Cost.Egress.ToDecimal());

        var now = DateTimeOffset.UtcNow;
        await bus.PublishAsync(Topics.Peering, "peering.agreement.created", new PeeringAgreementCreated { Agreement = Free(now.AddMinutes(-1)) }, "aws-gcp");
        var peered = await PlanWhenAsync(client, p => p.Tasks[1].Chosen.Location.Provider == "gcp");
        Assert.Equal("gcp", peered.Tasks[1].Chosen.Location.Provider);
        var moved = Assert.Single(peered.Egress);
        Assert.Equal(("aws", "gcp"), (moved.Source.Provider, moved.Destination.Provider));
        Assert.Equal(0m, moved.Cost.ToDecimal());
        Assert.True(peered.Cost.Total.ToDecimal() < before.Cost.Total.ToDecimal());

        await bus.PublishAsync(Topics.Peering, "peering.agreement.ended", new PeeringAgreementEnded { Agreement = Free(now.AddMinutes(-1), now) }, "aws-gcp");
        var after = await PlanWhenAsync(client, p => p.Tasks[1].Chosen.Location.Provider == "aws");
        Assert.Equal(before.Cost.Total, after.Cost.Total);
    }

    [Fact]
    public void Versions_of_an_agreement_never_go_back_whatever_order_they_arrive_in()
    {
        var feed = new PeeringFeed(null!, new InProcEventBus(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<InProcEventBus>.Instance), TimeProvider.System, null!, Microsoft.Extensions.Logging.Abstractions.NullLogger<PeeringFeed>.Instance, Sky.Hosting.Options.MeshService.Placement);
        var from = DateTimeOffset.UtcNow.AddDays(-1);
        feed.Apply(Free(from, from.AddHours(1)));   // the end arrives first
        feed.Apply(Free(from));                     // then the creation, late
        Assert.NotNull(Assert.Single(feed.Book.All).EffectiveUntil);
        Assert.False(feed.InForce().Covers("aws", "us-east-1", "gcp", "us-central1"));

        feed.Apply(Free(from), removed: true);
        feed.Apply(Free(from));
        Assert.Empty(feed.Book.All);

        var bad = Free(from);
        bad.AgreementId = "capped-without-a-cap";
        bad.Terms = PeeringTerms.Capped;
        feed.Apply(bad);
        Assert.Empty(feed.Book.All);
    }
}
