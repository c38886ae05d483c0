using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.V1;
using Sky.Pricing;
using Sky.Testing;
using static Sky.Accounting.Tests.Quotes.QuoteBooks;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests.Quotes;

/// <summary>
/// Egress between a job's tasks: placement quotes it as a line in bytes at the pair's tiers and publishes it as
/// <c>placement.job.usage</c> with service "egress" when the receiving task starts; accounting rates it like a transfer's.
/// </summary>
public sealed class JobEgressTests
{
    private static readonly Location Aws = new() { Provider = "aws", Region = "us-east-1" };
    private static readonly Location Gcp = new() { Provider = "gcp", Region = "us-central1" };
    private static readonly Location GcpEu = new() { Provider = "gcp", Region = "europe-west4" };
    private static readonly EgressTiers Tiers = new([new EgressBand(10_240, 0.09m), new EgressBand(0, 0.085m)]);
    private const long Bytes = 12_000_000_000_000;

    private static PlacementJobUsage Moved(string job, Location to, string lineId, string quoteId) => new()
    {
        IdempotencyKey = $"placement:{job}:egress:prep:train", TenantId = "acme", JobId = job, Task = "prep", Service = "egress",
        OfferId = "egress:aws/us-east-1", Location = Aws, Destination = to, Sku = "egress", UnitPrice = Usd(0.09m), PriceUnit = "gb",
        Quantity = Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), Unit = "byte",
        UsageStart = Timestamp.FromDateTimeOffset(Planned), UsageEnd = Timestamp.FromDateTimeOffset(Planned.AddMinutes(30)),
        QuoteId = quoteId, QuoteLineId = lineId, PriceBookRevision = 7, Tiers = { Tiers.ToProto() },
    };

    private static async Task<ReconcileResponse> RunAsync(TestMesh mesh, Sky.Accounting.V1.Quote quote, PlacementJobUsage usage)
    {
        var bus = mesh.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(Topics.Placement, "placement.quote.issued", new PlacementQuoteIssued { Quote = quote, Time = Timestamp.FromDateTimeOffset(Planned) }, quote.QuoteId);
        await bus.PublishAsync(Topics.Placement, "placement.job.usage", usage, usage.JobId);
        await bus.PublishAsync(Topics.Placement, "placement.job.succeeded", Ended(usage.JobId, "acme", JobState.Succeeded, Planned.AddHours(1)), usage.JobId);
        var client = mesh.Client<AccountingClient>();
        for (var i = 0; i < 600; i++)
        {
            try
            {
                var r = await client.ReconcileAsync(new ReconcileRequest { JobId = usage.JobId });
                if (r.Final && r.Billed.ToDecimal() > 0) return r;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound) { }
            await Task.Delay(25);
        }
        throw new TimeoutException($"{usage.JobId} did not reconcile");
    }

    [Fact]
    public async Task Egress_between_tasks_moved_as_quoted_is_billed_as_quoted_and_a_move_to_another_region_is_a_failover()
    {
        await using var mesh = await TestMesh.StartAsync("accounting");
        var books = new QuoteBooks(mesh);
        var line = books.Egress(Aws, Gcp, "egress:aws/us-east-1", 0.09m, Bytes, Tiers);
        line.LineId = "egress:prep->train";

        var asQuoted = await RunAsync(mesh, Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", line), Moved("job-1", Gcp, "egress:prep->train", "q-plan-1"));
        Assert.Equal((10_240m * 0.09m + 1_760m * 0.085m) * 1.05m, asQuoted.Billed.ToDecimal());
        Assert.Equal(asQuoted.Quoted, asQuoted.Billed);
        Assert.Empty(asQuoted.Causes);
        var usage = (await mesh.Client<AccountingClient>().ListUsageAsync(new ListUsageRequest { TenantId = "acme", SubjectId = "job-1" })).Usage.Single();
        Assert.Equal(("egress", "byte", Gcp), (usage.Service, usage.Unit, usage.Destination));

        // The receiving task failed over to Europe: the data went elsewhere, on no line.
        var moved = await RunAsync(mesh, Quote("plan-2", "acme", QuoteSubjectKind.Job, "job-2", line.Clone()), Moved("job-2", GcpEu, "", "q-plan-2"));
        Assert.Equal(moved.Difference.ToDecimal(), moved.Causes.Sum(c => c.Amount.ToDecimal()));
        Assert.Contains(moved.Causes, c => c.Kind == CauseKind.Failover && c.Amount.ToDecimal() == moved.Billed.ToDecimal());
        Assert.Contains(moved.Causes, c => c.Kind == CauseKind.ShorterRun && c.QuoteLineId == "egress:prep->train");
    }

    [Fact]
    public void Placement_egress_that_cannot_be_rated_says_why()
    {
        var posting = new Sky.Accounting.Usage.UsagePosting(new Sky.Accounting.Ledger.MemoryLedger(TimeProvider.System), new UsageRater(),
            new Sky.Accounting.Billing.BillingCalendar(), TimeProvider.System);
        var book = new PeeringBook([]);
        var noDestination = Moved("job-1", Gcp, "", "");
        noDestination.Destination = null;
        Assert.Contains("destination is missing", Assert.Throws<ArgumentException>(() => posting.Rate(noDestination, book)).Message);
        var gib = Moved("job-1", Gcp, "", "");
        gib.Unit = "gib";
        Assert.Contains("expected bytes at a price per gb", Assert.Throws<ArgumentException>(() => posting.Rate(gib, book)).Message);
        var other = Moved("job-1", Gcp, "", "");
        other.Service = "storage";
        Assert.Contains("compute or egress", Assert.Throws<ArgumentException>(() => posting.Rate(other, book)).Message);
    }
}
