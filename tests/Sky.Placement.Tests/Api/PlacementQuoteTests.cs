using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Engine;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Pricing;
using Sky.Testing;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Api;

/// <summary>
/// Issue #8 on placement's side: every plan has a stored quote priced by the one <see cref="UsageRater"/>, announced at
/// plan time and again naming the job at launch, and the job's usage names the quote line it belongs to (none after a
/// failover).
/// </summary>
public sealed class PlacementQuoteTests
{
    // prep on two AWS nodes for 90 minutes, then train on one GPU for 20 s (under the 60 s billing minimum per node).
    private const string Pipeline = """
        name: prep
        num_nodes: 2
        resources:
          infra: aws
          cpus: 2+
        outputs:
          /data: 20
        run: echo prep
        ---
        name: train
        resources:
          accelerators: L4:1
        run: echo train
        """;

    private static readonly Dictionary<string, TimeSpan> Durations = new() { ["prep"] = TimeSpan.FromMinutes(90), ["train"] = TimeSpan.FromSeconds(20) };

    private const decimal Margin = 0.1m;

    private static Task<TestMesh> StartAsync(string faults = "") => TestMesh.StartAsync("all", configure: b =>
    {
        b.Configuration["Pricing:MarginRate"] = Margin.ToString(CultureInfo.InvariantCulture);
        b.Services.AddSingleton(new SimOptions { Faults = faults.Length == 0 ? SimFaults.None : SimFaults.Parse(faults) });
    });

    private static JobSpec Spec()
    {
        var spec = new JobSpec { TaskYaml = Pipeline, FileName = "pipeline.yaml", TenantId = "acme" };
        foreach (var (task, d) in Durations) spec.EstimatedDurations[task] = Duration.FromTimeSpan(d);
        return spec;
    }

    /// <summary>Records the placement topic from now on.</summary>
    private static (ConcurrentQueue<SkyEvent> Events, IAsyncDisposable Subscription) Record(TestMesh mesh)
    {
        var events = new ConcurrentQueue<SkyEvent>();
        var subscription = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Placement, "quote-test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        return (events, subscription);
    }

    private static async Task<List<SkyEvent>> UntilAsync(ConcurrentQueue<SkyEvent> events, Func<List<SkyEvent>, bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!done([.. events]) && DateTime.UtcNow < until) await Task.Delay(20);
        var seen = events.ToList();
        Assert.True(done(seen), "events: " + string.Join(", ", seen.Select(e => e.Type)));
        return seen;
    }

    private static List<Quote> Quotes(IEnumerable<SkyEvent> events) =>
        [.. events.Where(e => e.Type == "placement.quote.issued").Select(e => ((PlacementQuoteIssued)e.Data).Quote)];

    private static List<PlacementJobUsage> Usage(IEnumerable<SkyEvent> events) =>
        [.. events.Where(e => e.Type == "placement.job.usage").Select(e => (PlacementJobUsage)e.Data)];

    [Fact]
    public async Task A_plan_has_a_stored_quote_whose_lines_are_what_the_UsageRater_bills_for_the_quoted_quantities()
    {
        await using var mesh = await StartAsync();
        var (events, subscription) = Record(mesh);
        await using var _ = subscription;
        var plan = await mesh.Client<PlacementClient>().PlanAsync(new PlanRequest { Spec = Spec() });

        Assert.Equal("q-" + plan.PlanId, plan.QuoteId);
        var quote = Assert.Single(Quotes(await UntilAsync(events, e => Quotes(e).Count > 0)));
        Assert.Equal(quote, (await mesh.Services.GetRequiredService<IPlanStore>().GetAsync(plan.PlanId, default))!.Quote);
        Assert.Equal((plan.QuoteId, "acme", QuoteSubjectKind.Job, plan.PlanId, "", plan.PriceBookRevision),
            (quote.QuoteId, quote.TenantId, quote.SubjectKind, quote.PlanId, quote.SubjectId, quote.PriceBookRevision));
        Assert.NotEmpty(plan.Egress);   // priced by the plan, but no usage carries it: not quoted
        Assert.Equal(["compute:prep", "compute:train"], quote.Lines.Select(l => l.LineId));

        // An independent rater with the mesh's configured policy: the quote must be exactly what it bills.
        var rater = new UsageRater(new RatingPolicy { MarginRate = Margin });
        foreach (var line in quote.Lines)
        {
            var chosen = plan.Tasks.Single(t => t.Task == line.Task).Chosen;
            var perNode = Rounding.ToNanos(chosen.HourlyCost.ToDecimal() / chosen.NumNodes);
            var nodeSeconds = chosen.NumNodes * (decimal)Durations[line.Task].TotalSeconds;
            Assert.Equal(("compute", chosen.OfferId, chosen.InstanceType, chosen.Location, chosen.NumNodes, chosen.UseSpot),
                (line.Service, line.OfferId, line.Sku, line.Location, line.Nodes, line.Spot));
            Assert.Equal((nodeSeconds, "second", perNode, "hour"), (decimal.Parse(line.Quantity, CultureInfo.InvariantCulture), line.Unit, line.UnitPrice.ToDecimal(), line.PriceUnit));
            Assert.Equal(rater.Compute(perNode, nodeSeconds, chosen.NumNodes).Amount, line.Amount.ToDecimal());
            Assert.Equal(0m, line.PeeringDiscount.ToDecimal());
        }
        Assert.Equal(2, quote.Lines.Single(l => l.Task == "prep").Nodes);
        // train ran 20 s on one node: billed (and so quoted) at the 60 s minimum, margin included.
        var train = quote.Lines.Single(l => l.Task == "train");
        var list = Rounding.ToNanos(train.UnitPrice.ToDecimal() * 60m / 3600m);
        Assert.Equal(list + Rounding.ToNanos(list * Margin), train.Amount.ToDecimal());
        Assert.Equal(quote.Lines.Sum(l => l.Amount.ToDecimal()), quote.Total.ToDecimal());
    }

    [Fact]
    public async Task The_quote_is_issued_at_plan_time_and_again_naming_the_job_before_the_job_uses_anything()
    {
        await using var mesh = await StartAsync();
        var (events, subscription) = Record(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec() });
        var launched = await client.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(plan.QuoteId, launched.QuoteId);
        var job = await client.FinishedAsync(launched.JobId);
        Assert.Equal((JobState.Succeeded, plan.QuoteId), (job.State, job.QuoteId));

        var seen = await UntilAsync(events, e => Usage(e).Count == 2);
        var issued = seen.Where(e => e.Type == "placement.quote.issued").ToList();
        Assert.Equal(2, issued.Count);
        Assert.All(issued, e => Assert.Equal(plan.QuoteId, e.Subject));
        var (atPlan, atLaunch) = (((PlacementQuoteIssued)issued[0].Data).Quote, ((PlacementQuoteIssued)issued[1].Data).Quote);
        Assert.Equal(("", launched.JobId), (atPlan.SubjectId, atLaunch.SubjectId));
        Assert.Equal(atPlan, atLaunch.Clone().Apply(q => q.SubjectId = ""));   // the same quote, now naming its job
        Assert.True(seen.IndexOf(issued[1]) < seen.FindIndex(e => e.Type == "placement.job.usage"));

        // Every task ran where quoted: each usage names its line.
        foreach (var usage in Usage(seen))
        {
            var line = atLaunch.Lines.Single(l => l.Task == usage.Task);
            Assert.Equal((plan.QuoteId, line.LineId, line.OfferId, line.Nodes, line.Spot), (usage.QuoteId, usage.QuoteLineId, usage.OfferId, usage.NumNodes, usage.UseSpot));
        }
    }

    [Fact]
    public async Task A_task_that_fails_over_bills_the_other_offer_against_no_line_and_the_task_that_ran_as_quoted_against_its_line()
    {
        // The first provisioning (prep's) fails for lack of capacity; prep moves, train runs where quoted.
        await using var mesh = await StartAsync("capacity:*:1");
        var (events, subscription) = Record(mesh);
        await using var _ = subscription;
        var client = mesh.Client<PlacementClient>();
        var launched = await client.LaunchAsync(new LaunchRequest { Spec = Spec() });
        var job = await client.FinishedAsync(launched.JobId);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal([AttemptOutcome.CapacityError, AttemptOutcome.Success], job.Tasks.Single(t => t.Task == "prep").Attempts.Select(a => a.Outcome));

        var seen = await UntilAsync(events, e => Usage(e).Count == 2);
        var quote = Quotes(seen).Single(q => q.SubjectId == launched.JobId);
        var usage = Usage(seen).ToDictionary(u => u.Task);

        var prep = usage["prep"];
        Assert.NotEqual(quote.Lines.Single(l => l.Task == "prep").OfferId, prep.OfferId);
        Assert.Equal((launched.QuoteId, "", 2, false), (prep.QuoteId, prep.QuoteLineId, prep.NumNodes, prep.UseSpot));
        Assert.Equal($"placement:{launched.JobId}:prep:2:0", prep.IdempotencyKey);

        var train = usage["train"];
        Assert.Equal(quote.Lines.Single(l => l.Task == "train").OfferId, train.OfferId);
        Assert.Equal((launched.QuoteId, "compute:train", 1, false), (train.QuoteId, train.QuoteLineId, train.NumNodes, train.UseSpot));
    }

    [Fact]
    public void A_quote_prices_each_node_at_the_per_node_price_usage_carries_and_needs_a_placement_per_task()
    {
        var quotes = new PlanQuotes(new UsageRater());
        var plan = new PlanResponse { PlanId = "plan-1", PriceBookRevision = 7 };
        plan.Tasks.Add(new TaskPlan
        {
            Task = "a",
            Chosen = new Sky.Placement.V1.TaskPlacement
            {
                Task = "a", OfferId = "o-1", InstanceType = "m9.large", NumNodes = 3, UseSpot = true,
                HourlyCost = Sky.Common.V1.Money.FromDecimal(1m, "USD"), Location = new Sky.Common.V1.Location { Provider = "aws", Region = "us-east-1", Zone = "us-east-1a" },
            },
        });
        var quote = quotes.Issue(plan, "acme", _ => TimeSpan.FromSeconds(20), DateTimeOffset.UnixEpoch);
        var line = Assert.Single(quote.Lines);
        // $1/h for three nodes is 0.333333333 per node (Money's nanos), 60 node-seconds billed at 180 (the minimum per node).
        Assert.Equal((0.333333333m, "60", true), (line.UnitPrice.ToDecimal(), line.Quantity, line.Spot));
        Assert.Equal(new UsageRater().Compute(0.333333333m, 60m, 3).Amount, line.Amount.ToDecimal());
        Assert.Equal(("q-plan-1", 7L, "a: 3 x m9.large (spot), aws/us-east-1/us-east-1a, 20s"), (quote.QuoteId, quote.PriceBookRevision, line.Description));

        plan.Tasks[0].Chosen = null;
        Assert.Throws<ArgumentException>(() => quotes.Issue(plan, "acme", _ => TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(45, "45s")]
    [InlineData(2.5, "2.5s")]
    [InlineData(90061, "25h1m1s")]
    [InlineData(0, "0s")]
    public void Durations_read_as_written(double seconds, string text) => Assert.Equal(text, PlanQuotes.Text(TimeSpan.FromSeconds(seconds)));
}

/// <summary>A quote stored with its plan in Redis is the one another host issues again when it launches the plan.</summary>
public sealed class PlacementQuoteStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static Task<TestMesh> StartAsync(string store) =>
        TestMesh.StartAsync("all", store, configure: b => b.Services.AddSingleton(new SimOptions { Faults = SimFaults.None }));

    [SkippableFact]
    public async Task A_plan_made_on_one_host_is_launched_on_another_under_the_same_quote()
    {
        var store = await redis.NewDatabaseAsync();
        await using var planner = await StartAsync(store);
        await using var launcher = await StartAsync(store);
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = launcher.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Placement, "quote-test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });

        var spec = new JobSpec { TaskYaml = "name: hello\nrun: echo hello\n", FileName = "hello.yaml", TenantId = "acme" };
        var plan = await planner.Client<PlacementClient>().PlanAsync(new PlanRequest { Spec = spec });
        var stored = (await launcher.Services.GetRequiredService<IPlanStore>().GetAsync(plan.PlanId, default))!.Quote!;
        Assert.Equal((plan.QuoteId, "compute:hello"), (stored.QuoteId, stored.Lines.Single().LineId));

        var launched = await launcher.Client<PlacementClient>().LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!events.Any(e => e.Type == "placement.job.usage") && DateTime.UtcNow < until) await Task.Delay(20);
        var issued = ((PlacementQuoteIssued)events.Single(e => e.Type == "placement.quote.issued").Data).Quote;
        Assert.Equal(launched.JobId, issued.SubjectId);
        Assert.Equal(stored.Lines, issued.Lines);
        var usage = (PlacementJobUsage)events.Single(e => e.Type == "placement.job.usage").Data;
        Assert.Equal((plan.QuoteId, "compute:hello"), (usage.QuoteId, usage.QuoteLineId));
    }
}

internal static class QuoteTestExtensions
{
    public static T Apply<T>(this T value, Action<T> change)
    {
        change(value);
        return value;
    }
}
