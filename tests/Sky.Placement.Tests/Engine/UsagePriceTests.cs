using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Catalog;
using Sky.Placement.Engine;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Testing;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Engine;

/// <summary>
/// The price a job's usage carries: the offer's price in force (in placement's copy of the directory) when the attempt's
/// nodes came up, labelled with the directory revision it was read at; the plan's price and revision only when the offer
/// is gone. The quote keeps the plan's price, so a change between planning and running is what reconciliation explains.
/// </summary>
public sealed class UsagePriceTests
{
    private const string Type = "rt9.large";

    private static Task<TestMesh> StartAsync(string faults = "", TimeSpan? backoff = null) => TestMesh.StartAsync("all", configure: b =>
    {
        b.Services.AddSingleton(new SimOptions { Faults = faults.Length == 0 ? SimFaults.None : SimFaults.Parse(faults) });
        if (backoff is { } wait) b.Services.AddSingleton(new PlacementOptions { RetryBackoff = wait, RetryBackoffCap = wait });
    });

    private static JobSpec Spec(bool spot, int nodes = 1) => new()
    {
        TaskYaml = $"name: train\nnum_nodes: {nodes}\nresources:\n  instance_type: {Type}\n  use_spot: {(spot ? "true" : "false")}\nrun: echo trained\n",
        FileName = "train.yaml",
        TenantId = "acme",
    };

    /// <summary>Registers (or, for a key already registered, updates) an <see cref="Type"/> offer in aws/<paramref name="region"/>.</summary>
    private static async Task<Offer> OfferAsync(TestMesh mesh, string region, decimal onDemand, decimal spot) =>
        (await mesh.Client<DirectoryClient>().RegisterAsync(new RegisterRequest
        {
            Offer = new Offer
            {
                Key = $"{Type}/{region}", Kind = OfferKind.Compute, InstanceType = Type, Location = new Location { Provider = "aws", Region = region },
                Hardware = new Hardware { Vcpus = 2, MemoryGib = 8, Arch = "x86_64" },
                Price = new Price { OnDemandHourly = Money.FromDecimal(onDemand, "USD"), SpotHourly = Money.FromDecimal(spot, "USD") },
            },
            Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
        })).Offer;

    private static (ConcurrentQueue<PlacementJobUsage> Usage, IAsyncDisposable Subscription) RecordUsage(TestMesh mesh)
    {
        var usage = new ConcurrentQueue<PlacementJobUsage>();
        var subscription = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Placement, "usage-price-test", (e, _) =>
        {
            if (e.Data is PlacementJobUsage u) usage.Enqueue(u);
            return Task.CompletedTask;
        });
        return (usage, subscription);
    }

    private static async Task<PlacementJobUsage> SingleUsageAsync(ConcurrentQueue<PlacementJobUsage> usage, string jobId, int attempt = 1)
    {
        for (var until = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < until; await Task.Delay(20))
            if (usage.SingleOrDefault(u => u.JobId == jobId && u.Attempt == attempt) is { } found) return found;
        throw new TimeoutException($"no usage of {jobId} attempt {attempt}: {string.Join(", ", usage.Select(u => u.IdempotencyKey))}");
    }

    /// <summary>Waits until placement's copy of the directory reflects <paramref name="revision"/>.</summary>
    private static Task<CatalogSnapshot> CaughtUpAsync(TestMesh mesh, long revision) =>
        mesh.Services.GetRequiredService<DirectoryFeed>().AtLeastAsync(revision, TimeSpan.FromSeconds(10), CancellationToken.None);

    [Fact]
    public async Task A_job_run_at_the_planned_prices_carries_the_quotes_unit_price_and_revision()
    {
        await using var mesh = await StartAsync();
        // Three nodes at $0.333333333/h: the plan's all-node price over the nodes must come back to the offer's, to the nano.
        await OfferAsync(mesh, "us-east-1", 2m, 0.333333333m);
        var (usage, subscription) = RecordUsage(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(spot: true, nodes: 3) });
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(JobState.Succeeded, (await client.FinishedAsync(launched.JobId)).State);

        var used = await SingleUsageAsync(usage, launched.JobId);
        var line = (await mesh.Services.GetRequiredService<IPlanStore>().GetAsync(plan.PlanId, default))!.Quote!.Lines.Single();
        Assert.Equal((line.LineId, line.UnitPrice, 3, true), (used.QuoteLineId, used.UnitPrice, used.NumNodes, used.UseSpot));
        Assert.Equal((0.333333333m, PlanQuotes.PerNodeHourly(plan.Tasks.Single().Chosen)), (used.UnitPrice.ToDecimal(), used.UnitPrice.ToDecimal()));
        Assert.Equal(plan.PriceBookRevision, used.PriceBookRevision);
    }

    [Theory]
    [InlineData(true, 0.3, 0.45)]    // the spot price went up
    [InlineData(false, 1.2, 0.96)]   // the on-demand price went down (a new price book revision)
    public async Task A_price_changed_after_planning_is_billed_at_the_new_price_under_the_revision_it_was_read_at(bool spot, double before, double after)
    {
        await using var mesh = await StartAsync();
        var (old, @new) = ((decimal)before, (decimal)after);
        await OfferAsync(mesh, "us-east-1", spot ? 2m : old, spot ? old : 0.1m);
        var (usage, subscription) = RecordUsage(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(spot, nodes: 2) });
        Assert.Equal(old * 2, plan.Tasks.Single().Chosen.HourlyCost.ToDecimal());

        var changed = await OfferAsync(mesh, "us-east-1", spot ? 2m : @new, spot ? @new : 0.1m);
        Assert.Equal(plan.Tasks.Single().Chosen.OfferId, changed.OfferId);
        Assert.True(changed.Revision > plan.PriceBookRevision);
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(JobState.Succeeded, (await client.FinishedAsync(launched.JobId)).State);

        var used = await SingleUsageAsync(usage, launched.JobId);
        // Still the quoted offer and kind of capacity, so still billed against the quote's line.
        Assert.Equal(("compute:train", changed.OfferId, spot, 2), (used.QuoteLineId, used.OfferId, used.UseSpot, used.NumNodes));
        Assert.Equal(@new, used.UnitPrice.ToDecimal());
        Assert.Equal(changed.Revision, used.PriceBookRevision);
    }

    [Fact]
    public async Task An_offer_gone_from_the_directory_is_billed_at_the_planned_price_under_the_plans_revision()
    {
        await using var mesh = await StartAsync();
        var offer = await OfferAsync(mesh, "us-east-1", 0.8m, 0.25m);
        var (usage, subscription) = RecordUsage(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(spot: true) });

        var removed = await mesh.Client<DirectoryClient>().DeregisterAsync(new DeregisterRequest { OfferId = offer.OfferId });
        Assert.True(removed.Deregistered);
        Assert.Null((await CaughtUpAsync(mesh, removed.Revision)).Get(offer.OfferId));
        // The plan is launched as planned: its placement does not need the offer to be listed any more.
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(JobState.Succeeded, (await client.FinishedAsync(launched.JobId)).State);

        var used = await SingleUsageAsync(usage, launched.JobId);
        Assert.Equal(("compute:train", 0.25m, plan.PriceBookRevision), (used.QuoteLineId, used.UnitPrice.ToDecimal(), used.PriceBookRevision));
    }

    [Fact]
    public async Task A_failover_planned_on_a_newer_snapshot_is_billed_at_that_snapshots_price_and_revision()
    {
        // us-east-1 (the cheaper) has no capacity for the first try; the task moves to us-west-2.
        await using var mesh = await StartAsync("capacity:aws/us-east-1:1");
        await OfferAsync(mesh, "us-east-1", 1m, 0.2m);
        await OfferAsync(mesh, "us-west-2", 1m, 0.3m);
        var (usage, subscription) = RecordUsage(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(spot: true) });
        Assert.Equal("us-east-1", plan.Tasks.Single().Chosen.Location.Region);

        // us-west-2's spot price changes after the plan: the failover is planned, and billed, on the newer snapshot.
        var west = await OfferAsync(mesh, "us-west-2", 1m, 0.35m);
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        var job = await client.FinishedAsync(launched.JobId);
        Assert.Equal([AttemptOutcome.CapacityError, AttemptOutcome.Success], job.Tasks.Single().Attempts.Select(a => a.Outcome));

        var used = await SingleUsageAsync(usage, launched.JobId, attempt: 2);
        Assert.Equal(("", west.OfferId, 0.35m, west.Revision), (used.QuoteLineId, used.OfferId, used.UnitPrice.ToDecimal(), used.PriceBookRevision));
    }

    [Fact]
    public async Task A_failover_offer_gone_before_its_nodes_came_up_keeps_its_planned_price_under_the_revision_it_was_planned_on()
    {
        // A long back-off leaves time to remove the offer the task was planned again on before it is tried.
        await using var mesh = await StartAsync("capacity:aws/us-east-1:1", backoff: TimeSpan.FromSeconds(2));
        await OfferAsync(mesh, "us-east-1", 1m, 0.2m);
        var west = await OfferAsync(mesh, "us-west-2", 1m, 0.3m);
        var (usage, subscription) = RecordUsage(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(spot: true) });
        west = await OfferAsync(mesh, "us-west-2", 1m, 0.4m);
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var logs = client.StreamJobLogs(new StreamJobLogsRequest { JobId = launched.JobId, Follow = true }, cancellationToken: cts.Token))
            await foreach (var line in logs.ResponseStream.ReadAllAsync(cts.Token))
                if (line.Text.Contains("planned again", StringComparison.Ordinal)) break;
        var removed = await mesh.Client<DirectoryClient>().DeregisterAsync(new DeregisterRequest { OfferId = west.OfferId });
        Assert.Null((await CaughtUpAsync(mesh, removed.Revision)).Get(west.OfferId));

        var job = await client.FinishedAsync(launched.JobId);
        Assert.Equal([AttemptOutcome.CapacityError, AttemptOutcome.Success], job.Tasks.Single().Attempts.Select(a => a.Outcome));
        var used = await SingleUsageAsync(usage, launched.JobId, attempt: 2);
        Assert.Equal((west.OfferId, 0.4m), (used.OfferId, used.UnitPrice.ToDecimal()));
        Assert.Equal(west.Revision, used.PriceBookRevision);   // the snapshot the failover was planned on, not the plan's
        Assert.True(used.PriceBookRevision > plan.PriceBookRevision && used.PriceBookRevision < removed.Revision);
    }
}
