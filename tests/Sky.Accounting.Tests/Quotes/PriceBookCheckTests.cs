using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.V1;
using Sky.Testing;
using static Sky.Accounting.Tests.Quotes.QuoteBooks;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;

namespace Sky.Accounting.Tests.Quotes;

/// <summary>
/// Reconcile recomputes every price from the directory's price book at the revision it names: a price the directory
/// served then is confirmed, one it never served is a mismatch, and without a directory nothing is vouched for.
/// </summary>
public sealed class PriceBookCheckTests
{
    private static Task<TestMesh> StartAsync(string services) =>
        TestMesh.StartAsync(services, configure: b => b.Services.AddSingleton(new Sky.Directory.Engine.DirectoryOptions { SeedBuiltinCatalog = false }));

    private static Offer G6(decimal onDemand, decimal spot) => new()
    {
        Key = "g6.xlarge/us-east-1/use1-az1", Kind = OfferKind.Compute, Location = UsEast, InstanceType = "g6.xlarge",
        Hardware = new Hardware { Vcpus = 4, MemoryGib = 16 },
        Price = new Price { OnDemandHourly = Usd(onDemand), SpotHourly = Usd(spot) },
    };

    private static async Task<ReconcileResponse> ReconcileWhenFinalAsync(AccountingClient client, string job)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                var r = await client.ReconcileAsync(new ReconcileRequest { JobId = job });
                if (r.Final) return r;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound) { }
            if (DateTime.UtcNow > until) throw new TimeoutException($"job {job} did not reconcile as final within 15 s");
            await Task.Delay(25);
        }
    }

    private static async Task RunJobAsync(TestMesh mesh, Sky.Accounting.V1.Quote quote, params PlacementJobUsage[] usage)
    {
        var bus = mesh.Services.GetRequiredService<IEventBus>();
        await bus.PublishAsync(Topics.Placement, "placement.quote.issued", new PlacementQuoteIssued { Quote = quote, Time = Timestamp.FromDateTimeOffset(Planned) }, quote.QuoteId);
        foreach (var u in usage) await bus.PublishAsync(Topics.Placement, "placement.job.usage", u, u.JobId);
        await bus.PublishAsync(Topics.Placement, "placement.job.succeeded", Ended(quote.SubjectId, quote.TenantId, JobState.Succeeded, Planned.AddHours(2)), quote.SubjectId);
    }

    [Fact]
    public async Task Prices_the_directory_served_at_their_revisions_are_confirmed_and_a_price_it_never_served_is_a_mismatch()
    {
        await using var mesh = await StartAsync("directory,accounting");
        var books = new QuoteBooks(mesh);
        var directory = mesh.Client<DirectoryClient>();
        var ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(10));
        var quoted = (await directory.RegisterAsync(new RegisterRequest { Offer = G6(2.4m, 0.9m), Ttl = ttl })).Offer;
        var repriced = (await directory.RegisterAsync(new RegisterRequest { Offer = G6(3m, 0.9m), Ttl = ttl })).Offer;
        var offer = quoted.OfferId;

        // Quoted at revision R1 ($2.40/h), run at R2 ($3.00/h): a new price book revision, both prices in the book.
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", books.Compute("train", offer, 2.4m, 3600));
        quote.PriceBookRevision = quoted.Revision;
        var ran = Attempt("job-1", "acme", "train", 1, offer, 3m, 3600, "compute:train", Planned, quoteId: quote.QuoteId);
        ran.PriceBookRevision = repriced.Revision;
        await RunJobAsync(mesh, quote, ran);

        var reconciled = await ReconcileWhenFinalAsync(mesh.Client<AccountingClient>(), "job-1");
        Assert.Equal(CauseKind.PriceBookRevision, Assert.Single(reconciled.Causes).Kind);
        Assert.True(reconciled.PriceBook.Checked, reconciled.PriceBook.Reason);
        Assert.Equal(2, reconciled.PriceBook.Confirmed);
        Assert.Empty(reconciled.PriceBook.Mismatches);
        Assert.Equal([quoted.Revision, repriced.Revision], reconciled.PriceBook.Revisions);

        // Usage that claims revision R1 at $3.00: the book had $2.40 then.
        var quote2 = Quote("plan-2", "acme", QuoteSubjectKind.Job, "job-2", books.Compute("train", offer, 2.4m, 3600));
        quote2.PriceBookRevision = quoted.Revision;
        var wrong = Attempt("job-2", "acme", "train", 1, offer, 3m, 3600, "compute:train", Planned, quoteId: quote2.QuoteId);
        wrong.PriceBookRevision = quoted.Revision;
        // And spot usage on an offer id the directory never had.
        var unknown = Attempt("job-2", "acme", "train", 2, "no-such-offer", 1m, 60, "", Planned.AddHours(1), quoteId: quote2.QuoteId);
        unknown.PriceBookRevision = quoted.Revision;
        // And usage that names no revision at all.
        var unversioned = Attempt("job-2", "acme", "train", 3, offer, 2.4m, 60, "", Planned.AddHours(1.5), quoteId: quote2.QuoteId);
        unversioned.PriceBookRevision = 0;
        await RunJobAsync(mesh, quote2, wrong, unknown, unversioned);

        var checkedWrong = (await ReconcileWhenFinalAsync(mesh.Client<AccountingClient>(), "job-2")).PriceBook;
        Assert.True(checkedWrong.Checked);
        Assert.Equal(1, checkedWrong.Confirmed);   // the quote line
        Assert.Equal(3, checkedWrong.Mismatches.Count);
        var price = checkedWrong.Mismatches.Single(m => m.Book.Length > 0);
        Assert.Equal((quoted.Revision, "3/h per node", "2.4/h per node", "the price differs"), (price.Revision, price.Recorded, price.Book, price.Reason));
        Assert.StartsWith("tx-", price.UsageId);
        var missing = checkedWrong.Mismatches.Single(m => m.Reason == "no price at that revision");
        Assert.Equal(("", ""), (missing.QuoteLineId, missing.Book));
        Assert.Equal(0, checkedWrong.Mismatches.Single(m => m.Reason == "no price book revision recorded").Revision);
    }

    [Fact]
    public async Task Without_a_directory_the_book_is_reported_as_not_checked_and_the_reconciliation_still_answers()
    {
        await using var mesh = await StartAsync("accounting");
        var quote = Quote("plan-1", "acme", QuoteSubjectKind.Job, "job-1", new QuoteBooks(mesh).Compute("train", "offer-a", 2.4m, 3600));
        await RunJobAsync(mesh, quote, Attempt("job-1", "acme", "train", 1, "offer-a", 2.4m, 3600, "compute:train", Planned, quoteId: quote.QuoteId));

        var reconciled = await ReconcileWhenFinalAsync(mesh.Client<AccountingClient>(), "job-1");
        Assert.Empty(reconciled.Causes);
        Assert.False(reconciled.PriceBook.Checked);
        Assert.Contains("directory", reconciled.PriceBook.Reason);
        Assert.Equal(0, reconciled.PriceBook.Confirmed);
    }
}
