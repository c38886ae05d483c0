using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.V1;
using Sky.Testing;
using static Sky.Accounting.Tests.Quotes.QuoteBooks;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests.Quotes;

/// <summary>
/// GetQuote and Reconcile over gRPC on an accounting host: quotes and usage arrive as placement and transfer publish
/// them; the answer explains billed - quoted line by line; tenants see only their own.
/// </summary>
public sealed class QuoteApiTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Launched = Planned.AddMinutes(5);

    private sealed class Host : IAsyncDisposable
    {
        private Host(TestMesh mesh) => (Mesh, Books, Bus) = (mesh, new QuoteBooks(mesh), mesh.Services.GetRequiredService<IEventBus>());

        public TestMesh Mesh { get; }
        public QuoteBooks Books { get; }
        public IEventBus Bus { get; }
        public AccountingClient Operator => Mesh.Client<AccountingClient>();

        public static async Task<Host> StartAsync(string store = "memory") => new(await TestMesh.StartAsync("accounting", store));

        public async Task<AccountingClient> TenantAsync(string tenant) => Mesh.Client<AccountingClient>(await Mesh.IssueKeyAsync(PrincipalKind.Tenant, tenant));

        /// <summary>The quote as placement issues it: at plan time, then again with the job id at launch.</summary>
        public async Task IssueJobQuoteAsync(Sky.Accounting.V1.Quote quote)
        {
            var planned = quote.Clone();
            planned.SubjectId = "";
            await Bus.PublishAsync(Topics.Placement, "placement.quote.issued", new PlacementQuoteIssued { Quote = planned, Time = At(Planned) }, quote.QuoteId);
            await Bus.PublishAsync(Topics.Placement, "placement.quote.issued", new PlacementQuoteIssued { Quote = quote, Time = At(Launched) }, quote.QuoteId);
        }

        public Task UsageAsync(PlacementJobUsage usage) => Bus.PublishAsync(Topics.Placement, "placement.job.usage", usage, usage.JobId);

        public Task EndJobAsync(string job, string tenant, DateTimeOffset at) =>
            Bus.PublishAsync(Topics.Placement, "placement.job.succeeded", Ended(job, tenant, JobState.Succeeded, at), job);

        /// <summary>Reconciles until <paramref name="done"/> holds (events are handled in the background).</summary>
        public async Task<ReconcileResponse> ReconcileWhenAsync(ReconcileRequest request, Func<ReconcileResponse, bool> done, AccountingClient? client = null)
        {
            var until = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try
                {
                    var response = await (client ?? Operator).ReconcileAsync(request);
                    if (done(response)) return response;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && DateTime.UtcNow < until) { }
                if (DateTime.UtcNow > until) throw new TimeoutException($"reconciliation of {request} did not settle within 15 s");
                await Task.Delay(25);
            }
        }

        public ValueTask DisposeAsync() => Mesh.DisposeAsync();
    }

    private static Timestamp At(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

    private static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(e.StatusCode == code, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        return e;
    }

    [Fact]
    public async Task A_job_that_ran_as_quoted_is_billed_what_was_quoted_with_no_causes()
    {
        await using var host = await Host.StartAsync();
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", host.Books.Compute("train", "offer-a", 2.4m, 3600));
        await host.IssueJobQuoteAsync(quote);
        await host.UsageAsync(Attempt("job-1", "acme", "train", 1, "offer-a", 2.4m, 3600, "compute:train", Launched, quoteId: quote.QuoteId));
        await host.EndJobAsync("job-1", "acme", Launched.AddHours(1));

        var acme = await host.TenantAsync("acme");
        var reconciled = await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, r => r.Final, acme);
        Assert.Equal(("q-plan-1", "job-1"), (reconciled.QuoteId, reconciled.SubjectId));
        Assert.Equal(2.52m, reconciled.Quoted.ToDecimal());   // $2.40 for the hour + 5 % margin
        Assert.Equal(reconciled.Quoted, reconciled.Billed);
        Assert.Equal(0m, reconciled.Difference.ToDecimal());
        Assert.Empty(reconciled.Causes);
        var line = Assert.Single(reconciled.Lines);
        Assert.Equal(("compute:train", 2.52m, 2.52m), (line.QuoteLineId, line.Quoted.ToDecimal(), line.Billed.ToDecimal()));
        Assert.StartsWith("tx-", Assert.Single(line.UsageIds));

        // The same answer by quote id.
        Assert.Equal(reconciled, await acme.ReconcileAsync(new ReconcileRequest { QuoteId = "q-plan-1" }));
    }

    [Fact]
    public async Task A_job_quoted_for_an_hour_that_ran_seventy_minutes_is_a_longer_run()
    {
        await using var host = await Host.StartAsync();
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", host.Books.Compute("train", "offer-a", 2.4m, 3600));
        await host.IssueJobQuoteAsync(quote);
        await host.UsageAsync(Attempt("job-1", "acme", "train", 1, "offer-a", 2.4m, 4200, "compute:train", Launched, quoteId: quote.QuoteId));

        // Usage in, job still running: the bill so far, not final.
        var partial = await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, r => r.Billed.ToDecimal() > 0);
        Assert.False(partial.Final);
        await host.EndJobAsync("job-1", "acme", Launched.AddMinutes(70));
        var reconciled = await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, r => r.Final);

        Assert.Equal((2.52m, 2.94m, 0.42m), (reconciled.Quoted.ToDecimal(), reconciled.Billed.ToDecimal(), reconciled.Difference.ToDecimal()));
        var cause = Assert.Single(reconciled.Causes);
        Assert.Equal((CauseKind.LongerRun, 0.42m, "compute:train", "job-1/train#1"), (cause.Kind, cause.Amount.ToDecimal(), cause.QuoteLineId, cause.Reference));
    }

    [Fact]
    public async Task Time_on_another_offer_after_a_failover_is_a_failover_cause()
    {
        await using var host = await Host.StartAsync();
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", host.Books.Compute("train", "offer-a", 2.4m, 3600));
        await host.IssueJobQuoteAsync(quote);
        // Attempt 1 ran 10 minutes on offer B (no line quoted it) before it was preempted; attempt 2 ran the hour on A.
        await host.UsageAsync(Attempt("job-1", "acme", "train", 1, "offer-b", 3m, 600, "", Launched, quoteId: quote.QuoteId));
        await host.UsageAsync(Attempt("job-1", "acme", "train", 2, "offer-a", 2.4m, 3600, "compute:train", Launched.AddMinutes(12), quoteId: quote.QuoteId));
        await host.EndJobAsync("job-1", "acme", Launched.AddMinutes(72));

        var reconciled = await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, r => r.Final);
        Assert.Equal((2.52m, 3.045m, 0.525m), (reconciled.Quoted.ToDecimal(), reconciled.Billed.ToDecimal(), reconciled.Difference.ToDecimal()));
        var cause = Assert.Single(reconciled.Causes);
        Assert.Equal((CauseKind.Failover, 0.525m, "", "job-1/train#1"), (cause.Kind, cause.Amount.ToDecimal(), cause.QuoteLineId, cause.Reference));
        Assert.Equal(["compute:train", ""], reconciled.Lines.Select(l => l.QuoteLineId).ToList());
        Assert.Equal(reconciled.Difference.ToDecimal(), reconciled.Causes.Sum(c => c.Amount.ToDecimal()));
    }

    [Fact]
    public async Task A_transfer_that_moved_and_ran_what_was_quoted_reconciles_to_zero_once_its_usage_is_in()
    {
        await using var host = await Host.StartAsync();
        var egress = host.Books.Egress(UsEast, Central, "aws-egress", 0.09m, 250_000_000_000);
        var gateways = host.Books.Gateway(UsEast, "m5.8xlarge", "aws-m5", 1.536m, vms: 2, seconds: 1200);
        var quote = Quote("tplan-1", "acme", QuoteSubjectKind.Transfer, "tr-1", egress, gateways);
        await host.Bus.PublishAsync(Topics.Transfer, "transfer.quote.issued", new TransferQuoteIssued { Quote = quote, Time = At(Launched) }, quote.QuoteId);
        await host.Bus.PublishAsync(Topics.Transfer, "transfer.usage", new TransferUsage
        {
            IdempotencyKey = "transfer:tr-1", TenantId = "acme", TransferId = "tr-1", QuoteId = quote.QuoteId, PriceBookRevision = 7,
            UsageStart = At(Launched), UsageEnd = At(Launched.AddMinutes(20)), Time = At(Launched.AddMinutes(20)),
            Egress = { new TransferEgressUsage { Source = UsEast, Destination = Central, Bytes = 250_000_000_000, OfferId = "aws-egress", UnitPrice = Usd(0.09m), PriceUnit = "gb", QuoteLineId = egress.LineId } },
            Gateways = { new TransferGatewayUsage { Location = UsEast, InstanceType = "m5.8xlarge", OfferId = "aws-m5", VmCount = 2, VmTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(40)), UnitPrice = Usd(1.536m), PriceUnit = "hour", QuoteLineId = gateways.LineId } },
        }, "tr-1");

        var reconciled = await host.ReconcileWhenAsync(new ReconcileRequest { TransferId = "tr-1" }, r => r.Final);
        Assert.Equal(23.625m + 1.0752m, reconciled.Quoted.ToDecimal());
        Assert.Equal((reconciled.Quoted, 0m), (reconciled.Billed, reconciled.Difference.ToDecimal()));
        Assert.Empty(reconciled.Causes);
        Assert.All(reconciled.Lines, l => Assert.Single(l.UsageIds));

        var usage = (await host.Operator.ListUsageAsync(new ListUsageRequest { SubjectId = "tr-1" })).Usage;
        Assert.Equal((2, true), (usage.Single(u => u.Service == "transfer-gateway").Nodes, usage.All(u => !u.Spot)));
        Assert.Equal(0, usage.Single(u => u.Service == "egress").Nodes);
    }

    [Fact]
    public async Task Egress_past_a_tier_edge_is_billed_at_the_tiers_it_was_quoted_with()
    {
        await using var host = await Host.StartAsync();
        // AWS-like tiers: the first 10,240 GB at $0.09, the next 40,960 at $0.085, then $0.07; 20,000 GB crosses the first edge.
        var tiers = new Sky.Pricing.EgressTiers([new(10_240, 0.09m), new(51_200, 0.085m), new(0, 0.07m)]);
        const long Bytes = 20_000_000_000_000;
        var egress = host.Books.Egress(UsEast, Central, "aws-egress", 0.09m, Bytes, tiers);
        var quote = Quote("tplan-t", "acme", QuoteSubjectKind.Transfer, "tr-t", egress);
        await host.Bus.PublishAsync(Topics.Transfer, "transfer.quote.issued", new TransferQuoteIssued { Quote = quote, Time = At(Launched) }, quote.QuoteId);
        await host.Bus.PublishAsync(Topics.Transfer, "transfer.usage", new TransferUsage
        {
            IdempotencyKey = "transfer:tr-t", TenantId = "acme", TransferId = "tr-t", QuoteId = quote.QuoteId, PriceBookRevision = 7,
            UsageStart = At(Launched), UsageEnd = At(Launched.AddHours(3)), Time = At(Launched.AddHours(3)),
            Egress =
            {
                new TransferEgressUsage
                {
                    Source = UsEast, Destination = Central, Bytes = Bytes, OfferId = "aws-egress", UnitPrice = Usd(0.09m), PriceUnit = "gb",
                    QuoteLineId = egress.LineId, Tiers = { tiers.ToProto() },
                },
            },
        }, "tr-t");

        var reconciled = await host.ReconcileWhenAsync(new ReconcileRequest { TransferId = "tr-t" }, r => r.Final);
        // (10,240 x 0.09 + 9,760 x 0.085) x 1.05 margin, not 20,000 x 0.09 x 1.05.
        var expected = (10_240m * 0.09m + 9_760m * 0.085m) * 1.05m;
        Assert.Equal((expected, expected, 0m), (reconciled.Quoted.ToDecimal(), reconciled.Billed.ToDecimal(), reconciled.Difference.ToDecimal()));
        Assert.Empty(reconciled.Causes);
        var usage = (await host.Operator.ListUsageAsync(new ListUsageRequest { SubjectId = "tr-t" })).Usage.Single();
        Assert.Equal(3, usage.Tiers.Count);
        Assert.Equal(10_240m * 0.09m + 9_760m * 0.085m, usage.ListAmount.ToDecimal());
    }

    [Fact]
    public async Task Rated_compute_usage_keeps_its_nodes_and_spot()
    {
        await using var host = await Host.StartAsync();
        var spot = Attempt("job-9", "acme", "train", 1, "offer-a", 0.7m, 600, "", Launched, nodes: 4);
        spot.UseSpot = true;
        await host.UsageAsync(spot);
        RatedUsage? rated = null;
        for (var until = DateTime.UtcNow.AddSeconds(15); rated is null && DateTime.UtcNow < until; await Task.Delay(25))
            rated = (await host.Operator.ListUsageAsync(new ListUsageRequest { SubjectId = "job-9" })).Usage.SingleOrDefault();
        Assert.NotNull(rated);
        Assert.Equal((4, true, "2400"), (rated.Nodes, rated.Spot, rated.Quantity));
    }

    [Fact]
    public async Task Tenants_get_and_reconcile_only_their_own_quotes_and_jobs()
    {
        await using var host = await Host.StartAsync();
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", host.Books.Compute("train", "offer-a", 2.4m, 3600));
        await host.IssueJobQuoteAsync(quote);
        await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, _ => true);   // stored

        var acme = await host.TenantAsync("acme");
        var globex = await host.TenantAsync("globex");
        Assert.Equal(quote, (await acme.GetQuoteAsync(new GetQuoteRequest { QuoteId = "q-plan-1" })).Quote);
        Assert.Equal(quote, (await host.Operator.GetQuoteAsync(new GetQuoteRequest { QuoteId = "q-plan-1" })).Quote);
        // Another tenant's quote and job look exactly like missing ones.
        var hidden = await FailsAsync(StatusCode.NotFound, () => globex.GetQuoteAsync(new GetQuoteRequest { QuoteId = "q-plan-1" }).ResponseAsync);
        var missing = await FailsAsync(StatusCode.NotFound, () => globex.GetQuoteAsync(new GetQuoteRequest { QuoteId = "q-plan-2" }).ResponseAsync);
        Assert.Equal(hidden.Status.Detail.Replace("plan-1", "plan-2"), missing.Status.Detail);
        await FailsAsync(StatusCode.NotFound, () => globex.ReconcileAsync(new ReconcileRequest { JobId = "job-1" }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => globex.ReconcileAsync(new ReconcileRequest { QuoteId = "q-plan-1" }).ResponseAsync);
        // A job id asked for as a transfer is not one.
        await FailsAsync(StatusCode.NotFound, () => acme.ReconcileAsync(new ReconcileRequest { TransferId = "job-1" }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => acme.ReconcileAsync(new ReconcileRequest { JobId = "job-unknown" }).ResponseAsync);

        // Before any usage: nothing billed, the whole quote a shorter run (not final).
        var none = await acme.ReconcileAsync(new ReconcileRequest { JobId = "job-1" });
        Assert.Equal((0m, false), (none.Billed.ToDecimal(), none.Final));
        Assert.Equal(CauseKind.ShorterRun, Assert.Single(none.Causes).Kind);
    }

    [Fact]
    public async Task Empty_ids_are_invalid_arguments_naming_the_field()
    {
        await using var host = await Host.StartAsync();
        var acme = await host.TenantAsync("acme");
        Assert.Equal(["quote_id"], PeeringHarness.ViolatedFields(await FailsAsync(StatusCode.InvalidArgument,
            () => acme.GetQuoteAsync(new GetQuoteRequest()).ResponseAsync)));
        Assert.Equal(["subject"], PeeringHarness.ViolatedFields(await FailsAsync(StatusCode.InvalidArgument,
            () => acme.ReconcileAsync(new ReconcileRequest()).ResponseAsync)));
        Assert.Equal(["job_id"], PeeringHarness.ViolatedFields(await FailsAsync(StatusCode.InvalidArgument,
            () => acme.ReconcileAsync(new ReconcileRequest { JobId = "" }).ResponseAsync)));
        Assert.Equal(["transfer_id"], PeeringHarness.ViolatedFields(await FailsAsync(StatusCode.InvalidArgument,
            () => acme.ReconcileAsync(new ReconcileRequest { TransferId = "" }).ResponseAsync)));
    }

    [Fact]
    public async Task A_quote_amount_the_engine_cannot_explain_is_a_failed_precondition()
    {
        await using var host = await Host.StartAsync();
        var line = host.Books.Compute("train", "offer-a", 2.4m, 3600);
        line.Amount = Usd(line.Amount.ToDecimal() + 0.01m);   // priced with some other rule
        await host.IssueJobQuoteAsync(Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", line));
        RpcException? error = null;
        for (var until = DateTime.UtcNow.AddSeconds(15); error?.StatusCode != StatusCode.FailedPrecondition && DateTime.UtcNow < until; await Task.Delay(25))
            error = await Assert.ThrowsAsync<RpcException>(() => host.Operator.ReconcileAsync(new ReconcileRequest { JobId = "job-1" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, error!.StatusCode);
        Assert.Contains("compute:train", error.Status.Detail);
        Assert.Contains("not what its inputs rate to", error.Status.Detail);
    }

    [SkippableFact]
    public async Task With_redis_quotes_ends_and_reconciliations_survive_a_restart_of_the_host()
    {
        var store = await redis.NewDatabaseAsync();
        ReconcileResponse before;
        Sky.Accounting.V1.Quote quote;
        await using (var host = await Host.StartAsync(store))
        {
            quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", host.Books.Compute("train", "offer-a", 2.4m, 3600));
            await host.IssueJobQuoteAsync(quote);
            await host.UsageAsync(Attempt("job-1", "acme", "train", 1, "offer-a", 2.4m, 4200, "compute:train", Launched, quoteId: quote.QuoteId));
            await host.EndJobAsync("job-1", "acme", Launched.AddMinutes(70));
            before = await host.ReconcileWhenAsync(new ReconcileRequest { JobId = "job-1" }, r => r.Final);
        }
        await using var again = await Host.StartAsync(store);
        var acme = await again.TenantAsync("acme");
        Assert.Equal(quote, (await acme.GetQuoteAsync(new GetQuoteRequest { QuoteId = "q-plan-1" })).Quote);
        var after = await acme.ReconcileAsync(new ReconcileRequest { JobId = "job-1" });
        Assert.Equal(before, after);
        Assert.Equal((true, CauseKind.LongerRun), (after.Final, Assert.Single(after.Causes).Kind));
    }
}
