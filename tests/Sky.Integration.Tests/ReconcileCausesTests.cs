using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Pricing;
using Sky.Testing;
using Sky.Transfer.V1;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;
using TransferClient = Sky.Transfer.V1.Transfer.TransferClient;

namespace Sky.Integration.Tests;

/// <summary>
/// Reconciliation's causes end to end, through the real services of one in-process mesh: a job is planned (and quoted),
/// the world changes (the directory's price of its offer, a peering agreement, a closed billing period), the job or
/// transfer runs, and Reconcile names the change as the cause of exactly the difference it made, every cause summing
/// to billed - quoted.
/// </summary>
public sealed class ReconcileCausesTests : IDisposable
{
    private const string Type = "rc9.large";
    private const string TaskName = "train";
    private const string Line = "compute:" + TaskName;

    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("sky-reconcile-causes-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    private static Task<TestMesh> StartAsync() =>
        TestMesh.StartAsync("all", configure: b => b.Services.AddSingleton(new SimOptions { Faults = SimFaults.None }));

    // ---- jobs ---------------------------------------------------------------------------------------

    private static JobSpec Job(bool spot, int nodes, string run = "echo trained") => new()
    {
        TaskYaml = $"name: {TaskName}\nnum_nodes: {nodes}\nresources:\n  instance_type: {Type}\n  use_spot: {(spot ? "true" : "false")}\nrun: {run}\n",
        FileName = "train.yaml",
        TenantId = "acme",
    };

    /// <summary>Registers, or (same key) updates, the one <see cref="Type"/> offer the jobs here can run on.</summary>
    private static async Task<Offer> OfferAsync(TestMesh mesh, decimal onDemand, decimal spot) =>
        (await mesh.Client<DirectoryClient>().RegisterAsync(new RegisterRequest
        {
            Offer = new Offer
            {
                Key = Type + "/us-east-1", Kind = OfferKind.Compute, InstanceType = Type, Location = new Location { Provider = "aws", Region = "us-east-1" },
                Hardware = new Hardware { Vcpus = 4, MemoryGib = 16, Arch = "x86_64" },
                Price = new Sky.Directory.V1.Price { OnDemandHourly = Money.FromDecimal(onDemand, "USD"), SpotHourly = Money.FromDecimal(spot, "USD") },
            },
            Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)),
        })).Offer;

    /// <summary>Reconciles until the answer is final: the subject has ended and all its usage is rated (both arrive as events).</summary>
    private static async Task<ReconcileResponse> FinalAsync(AccountingClient accounting, ReconcileRequest request)
    {
        for (var until = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            try
            {
                var response = await accounting.ReconcileAsync(request);
                if (response.Final) return response;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && DateTime.UtcNow < until) { }
            if (DateTime.UtcNow > until) throw new TimeoutException($"reconciliation of {request} was not final within 30 s");
        }
    }

    private static async Task<List<RatedUsage>> UsageAsync(AccountingClient accounting, string subject) =>
        [.. (await accounting.ListUsageAsync(new ListUsageRequest { SubjectId = subject })).Usage];

    private static decimal Quantity(RatedUsage usage) => decimal.Parse(usage.Quantity, CultureInfo.InvariantCulture);

    private static void AssertExplained(ReconcileResponse r)
    {
        Assert.Equal(r.Billed.ToDecimal() - r.Quoted.ToDecimal(), r.Difference.ToDecimal());
        Assert.Equal(r.Difference.ToDecimal(), r.Causes.Sum(c => c.Amount.ToDecimal()));
        Assert.All(r.Causes, c => Assert.NotEqual(0m, c.Amount.ToDecimal()));
        // Every price, quoted or billed, is the directory's at the revision it names.
        Assert.True(r.PriceBook.Checked, r.PriceBook.Reason);
        Assert.True(r.PriceBook.Mismatches.Count == 0, string.Join("; ", r.PriceBook.Mismatches));
        Assert.True(r.PriceBook.Confirmed >= r.Lines.Count, $"{r.PriceBook.Confirmed} prices confirmed for {r.Lines.Count} lines");
    }

    /// <summary>
    /// Plans a job on the offer at <paramref name="before"/> (spot or on demand), changes that price in the directory to
    /// <paramref name="after"/>, launches the plan and reconciles it once it has ended.
    /// </summary>
    private static async Task<(ReconcileResponse Reconciled, Offer Changed, RatedUsage Usage, UsageRater Rater)> RunRepricedAsync(
        TestMesh mesh, bool spot, decimal before, decimal after, int nodes)
    {
        const decimal Other = 5m;   // the price of the other kind of capacity, unchanged
        await OfferAsync(mesh, spot ? Other : before, spot ? before : Other);
        var placement = mesh.Client<PlacementClient>();
        var plan = await placement.PlanAsync(new PlanRequest { Spec = Job(spot, nodes) });
        Assert.Equal((before * nodes, spot), (plan.Tasks.Single().Chosen.HourlyCost.ToDecimal(), plan.Tasks.Single().Chosen.UseSpot));

        var changed = await OfferAsync(mesh, spot ? Other : after, spot ? after : Other);
        Assert.True(changed.Revision > plan.PriceBookRevision, $"the change is revision {changed.Revision}, the plan's {plan.PriceBookRevision}");
        var launched = await placement.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(JobState.Succeeded, (await placement.FinishedAsync(launched.JobId)).State);

        var accounting = mesh.Client<AccountingClient>();
        var reconciled = await FinalAsync(accounting, new ReconcileRequest { JobId = launched.JobId });
        var usage = Assert.Single(await UsageAsync(accounting, launched.JobId));
        Assert.Equal((Line, after, changed.Revision, nodes), (usage.QuoteLineId, usage.UnitPrice.ToDecimal(), usage.PriceBookRevision, usage.Nodes));
        return (reconciled, changed, usage, mesh.Services.GetRequiredService<UsageRater>());
    }

    [Fact]
    public async Task A_spot_price_changed_between_plan_and_launch_is_a_spot_price_change_of_exactly_the_rerated_difference()
    {
        await using var mesh = await StartAsync();
        var (r, _, usage, rater) = await RunRepricedAsync(mesh, spot: true, before: 0.32m, after: 0.47m, nodes: 2);

        // The quote priced an hour at $0.32 per node; the run took seconds (billed at the per-node minimum) at $0.47.
        var quoted = rater.Compute(0.32m, 2 * 3600m, 2).Amount;
        var atQuotedPrice = rater.Compute(0.32m, Quantity(usage), 2).Amount;
        var billed = rater.Compute(0.47m, Quantity(usage), 2).Amount;
        Assert.Equal((quoted, billed, billed), (r.Quoted.ToDecimal(), r.Billed.ToDecimal(), usage.Amount.ToDecimal()));
        Assert.Equal(
            [(CauseKind.ShorterRun, atQuotedPrice - quoted), (CauseKind.SpotPriceChange, billed - atQuotedPrice)],
            r.Causes.Select(c => (c.Kind, c.Amount.ToDecimal())));
        Assert.All(r.Causes, c => Assert.Equal(Line, c.QuoteLineId));
        Assert.True(billed - atQuotedPrice > 0);
        AssertExplained(r);
    }

    [Fact]
    public async Task An_on_demand_price_changed_between_plan_and_launch_is_a_price_book_revision_naming_the_revision_billed()
    {
        await using var mesh = await StartAsync();
        var (r, changed, usage, rater) = await RunRepricedAsync(mesh, spot: false, before: 1.2m, after: 0.96m, nodes: 1);

        var quoted = rater.Compute(1.2m, 3600m, 1).Amount;
        var atQuotedPrice = rater.Compute(1.2m, Quantity(usage), 1).Amount;
        var billed = rater.Compute(0.96m, Quantity(usage), 1).Amount;
        Assert.Equal((quoted, billed), (r.Quoted.ToDecimal(), r.Billed.ToDecimal()));
        Assert.Equal(
            [(CauseKind.ShorterRun, atQuotedPrice - quoted), (CauseKind.PriceBookRevision, billed - atQuotedPrice)],
            r.Causes.Select(c => (c.Kind, c.Amount.ToDecimal())));
        var revision = r.Causes.Single(c => c.Kind == CauseKind.PriceBookRevision);
        Assert.Equal(changed.Revision.ToString(CultureInfo.InvariantCulture), revision.Reference);
        Assert.True(revision.Amount.ToDecimal() < 0);   // the price went down
        AssertExplained(r);
    }

    [Fact]
    public async Task Usage_ending_in_a_period_closed_while_the_job_ran_is_late_usage()
    {
        await using var mesh = await StartAsync();
        await OfferAsync(mesh, 0.6m, 0.2m);
        var placement = mesh.Client<PlacementClient>();
        var accounting = mesh.Client<AccountingClient>();
        var plan = await placement.PlanAsync(new PlanRequest { Spec = Job(spot: false, nodes: 1, run: "sleep 2") });
        var launched = await placement.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });

        // The period the run ends in is closed (forced: it has not ended) while the task runs.
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var watch = placement.WatchJob(new WatchJobRequest { JobId = launched.JobId }, cancellationToken: cts.Token))
            await foreach (var change in watch.ResponseStream.ReadAllAsync(cts.Token))
                if (change.Job.State == JobState.Running) break;
        var period = mesh.Services.GetRequiredService<Sky.Accounting.Billing.BillingCalendar>().PeriodOf(DateTimeOffset.UtcNow);
        var closed = await accounting.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { PeriodId = period, Force = true });
        Assert.Equal(BillingPeriodState.Closed, closed.Period.State);
        Assert.Equal(JobState.Succeeded, (await placement.FinishedAsync(launched.JobId)).State);

        var r = await FinalAsync(accounting, new ReconcileRequest { JobId = launched.JobId });
        var usage = Assert.Single(await UsageAsync(accounting, launched.JobId));
        Assert.Equal((period, Line), (usage.AdjustsPeriodId, usage.QuoteLineId));
        Assert.NotEqual(period, usage.PeriodId);
        // Nothing arrived on time against the line (the whole quote a shorter run); all of it came as an adjustment.
        Assert.Equal(
            [(CauseKind.ShorterRun, -r.Quoted.ToDecimal(), Line), (CauseKind.LateUsage, usage.Amount.ToDecimal(), Line)],
            r.Causes.Select(c => (c.Kind, c.Amount.ToDecimal(), c.QuoteLineId)));
        Assert.Equal(usage.Amount, r.Billed);
        AssertExplained(r);
    }

    // ---- transfers and peering ------------------------------------------------------------------

    private static readonly Location UsEast = new() { Provider = "aws", Region = "us-east-1" };
    private static readonly Location EastUs = new() { Provider = "azure", Region = "eastus" };
    private const decimal EgressPerGb = 0.09m;

    /// <summary>Throughput and egress prices between aws/us-east-1 and azure/eastus, and a gateway VM offer in each.</summary>
    private static async Task GridAsync(TestMesh mesh)
    {
        var directory = mesh.Client<DirectoryClient>();
        await directory.PutThroughputGridAsync(new PutThroughputGridRequest
        {
            Entries = { new Throughput { Src = UsEast, Dst = EastUs, BitsPerSecond = 4_000_000_000, Connections = 64 } },
        });
        await directory.PutEgressPriceGridAsync(new PutEgressPriceGridRequest
        {
            Entries = { new EgressPrice { Src = UsEast, Dst = new Location { Provider = "azure" }, Tiers = { new EgressTier { PricePerGb = Money.FromDecimal(EgressPerGb, "USD") } } } },
        });
        foreach (var (at, type) in new[] { (UsEast, "m5.8xlarge"), (EastUs, "Standard_D32_v5") })
            await directory.RegisterAsync(new RegisterRequest
            {
                Offer = new Offer
                {
                    Key = $"{type}/{at.Region}", Kind = OfferKind.Compute, InstanceType = type, Location = at,
                    Hardware = new Hardware { Vcpus = 32, MemoryGib = 128 }, Price = new Sky.Directory.V1.Price { OnDemandHourly = Money.FromDecimal(1.536m, "USD") },
                },
                Ttl = Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            });
    }

    /// <summary>A local folder standing in for a bucket in aws/us-east-1, copied to one standing in for azure/eastus.</summary>
    private TransferSpec CrossCloud()
    {
        var src = System.IO.Directory.CreateDirectory(Path.Combine(_root, "src-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var bytes = new byte[2_000_000];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(src, "data.bin"), bytes);
        var dst = Path.Combine(_root, "dst-" + Guid.NewGuid().ToString("N")[..6]);
        return new TransferSpec
        {
            SourceUri = "file://" + src + "/", DestinationUri = "file://" + System.IO.Directory.CreateDirectory(dst).FullName + "/", TenantId = "acme",
            SourceLocation = UsEast, DestinationLocation = EastUs,
        };
    }

    /// <summary>A 25 % discount on egress between aws and azure, both ways, from now on.</summary>
    private static async Task<Sky.Accounting.V1.PeeringAgreement> AgreementAsync(AccountingClient accounting, string id) =>
        (await accounting.CreatePeeringAgreementAsync(new CreatePeeringAgreementRequest
        {
            AgreementId = id, ProviderA = "aws", ProviderB = "azure", Terms = Sky.Accounting.V1.PeeringTerms.Discounted, DiscountBps = 2500, Description = "reconcile causes test",
        })).Agreement;

    /// <summary>Starts the planned transfer, waits for it to succeed and reconciles it.</summary>
    private static async Task<(ReconcileResponse Reconciled, RatedUsage Egress, QuoteLine Line)> RunTransferAsync(TestMesh mesh, PlanTransferResponse plan)
    {
        var transfer = mesh.Client<TransferClient>();
        var accounting = mesh.Client<AccountingClient>();
        var started = await transfer.StartTransferAsync(new StartTransferRequest { PlanId = plan.PlanId });
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        using (var watch = transfer.WatchTransfer(new WatchTransferRequest { TransferId = started.TransferId }, cancellationToken: cts.Token))
        {
            var state = TransferState.Unspecified;
            await foreach (var update in watch.ResponseStream.ReadAllAsync(cts.Token)) state = update.Progress.State;
            Assert.Equal(TransferState.Succeeded, state);
        }
        var r = await FinalAsync(accounting, new ReconcileRequest { TransferId = started.TransferId });
        var egress = (await UsageAsync(accounting, started.TransferId)).Single(u => u.Service == "egress");
        var quote = (await accounting.GetQuoteAsync(new GetQuoteRequest { QuoteId = plan.QuoteId })).Quote;
        return (r, egress, quote.Lines.Single(l => l.Service == "egress"));
    }

    /// <summary>The egress of <paramref name="usage"/> rated with no peering: what the bill would be had no agreement applied.</summary>
    private static decimal Unpeered(UsageRater rater, RatedUsage usage) =>
        rater.Egress(EgressTiers.Flat(usage.UnitPrice.ToDecimal()), null, UsEast.Provider, UsEast.Region, EastUs.Provider, EastUs.Region, Quantity(usage)).Amount;

    [Fact]
    public async Task A_peering_agreement_made_after_the_quote_is_peering_started_worth_exactly_its_discount()
    {
        await using var mesh = await StartAsync();
        await GridAsync(mesh);
        var accounting = mesh.Client<AccountingClient>();
        var plan = await mesh.Client<TransferClient>().PlanTransferAsync(new PlanTransferRequest { Spec = CrossCloud() });
        Assert.Equal(0m, plan.Plan.PeeringDiscount.ToDecimal());

        var agreement = await AgreementAsync(accounting, "aws-azure-started");
        var (r, egress, line) = await RunTransferAsync(mesh, plan);
        var rater = mesh.Services.GetRequiredService<UsageRater>();

        Assert.Equal((0m, ""), (line.PeeringDiscount.ToDecimal(), line.PeeringAgreementId));
        Assert.Equal(agreement.AgreementId, egress.PeeringAgreementId);
        Assert.True(egress.PeeringDiscount.ToDecimal() > 0);
        // The bytes sent were the bytes quoted, and the gateways ran under their billing minimum: the agreement is the only change.
        Assert.Equal(line.Amount.ToDecimal(), Unpeered(rater, egress));
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.PeeringStarted, line.LineId, egress.PeeringAgreementId), (cause.Kind, cause.QuoteLineId, cause.Reference));
        Assert.Equal(egress.Amount.ToDecimal() - Unpeered(rater, egress), cause.Amount.ToDecimal());
        Assert.True(cause.Amount.ToDecimal() < 0);
        AssertExplained(r);
    }

    [Fact]
    public async Task A_peering_agreement_ended_after_the_quote_is_peering_ended_worth_exactly_the_discount_lost()
    {
        await using var mesh = await StartAsync();
        await GridAsync(mesh);
        var accounting = mesh.Client<AccountingClient>();
        var transfer = mesh.Client<TransferClient>();
        var agreement = await AgreementAsync(accounting, "aws-azure-ended");

        // Transfer learns of the agreement through accounting's peering events: plan until the plan applies it.
        PlanTransferResponse plan;
        var until = DateTime.UtcNow.AddSeconds(15);
        do plan = await transfer.PlanTransferAsync(new PlanTransferRequest { Spec = CrossCloud() });
        while (plan.Plan.PeeringDiscount.ToDecimal() == 0 && DateTime.UtcNow < until && await Delay());
        Assert.True(plan.Plan.PeeringDiscount.ToDecimal() > 0, "the plan never applied the agreement");

        var ended = (await accounting.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = agreement.AgreementId })).Agreement;
        Assert.NotNull(ended.EffectiveUntil);
        var (r, egress, line) = await RunTransferAsync(mesh, plan);
        var rater = mesh.Services.GetRequiredService<UsageRater>();

        Assert.Equal(agreement.AgreementId, line.PeeringAgreementId);
        Assert.Equal((0m, ""), (egress.PeeringDiscount.ToDecimal(), egress.PeeringAgreementId));
        Assert.Equal(Unpeered(rater, egress), egress.Amount.ToDecimal());
        var cause = Assert.Single(r.Causes);
        Assert.Equal((CauseKind.PeeringEnded, line.LineId, line.PeeringAgreementId), (cause.Kind, cause.QuoteLineId, cause.Reference));
        Assert.Equal(egress.Amount.ToDecimal() - line.Amount.ToDecimal(), cause.Amount.ToDecimal());
        Assert.True(cause.Amount.ToDecimal() > 0);
        AssertExplained(r);

        static async Task<bool> Delay()
        {
            await Task.Delay(50);
            return true;
        }
    }
}
