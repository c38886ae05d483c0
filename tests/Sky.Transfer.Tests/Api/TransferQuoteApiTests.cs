using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Pricing;
using Sky.Testing;
using Sky.Transfer.V1;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using TransferClient = Sky.Transfer.V1.Transfer.TransferClient;

namespace Sky.Transfer.Tests.Api;

/// <summary>
/// Quotes over a real host: PlanTransfer stores and issues the plan's quote (transfer.quote.issued), StartTransfer issues
/// it again naming the transfer, the transfer's usage names the quote's lines, and accounting bills each line its quoted amount.
/// </summary>
public sealed class TransferQuoteApiTests : IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("sky-transfer-quote-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    private string Folder(string name) => System.IO.Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private static string Uri(string folder) => "file://" + folder + "/";

    private string Source()
    {
        var src = Folder("src");
        var bytes = new byte[2_500_000];
        new Random(11).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(src, "data.bin"), bytes);
        return src;
    }

    /// <summary>Local folders standing in for a bucket in aws/us-east-1 and one in azure/eastus.</summary>
    private TransferSpec CrossCloud(string src)
    {
        var spec = new TransferSpec { SourceUri = Uri(src), DestinationUri = Uri(Folder("dst-" + Guid.NewGuid().ToString("N")[..6])), TenantId = "acme" };
        spec.SourceLocation = new Location { Provider = "aws", Region = "us-east-1" };
        spec.DestinationLocation = new Location { Provider = "azure", Region = "eastus" };
        return spec;
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition());
    }

    private static async Task<TransferState> FinishedAsync(TransferClient client, string transferId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = client.WatchTransfer(new WatchTransferRequest { TransferId = transferId }, cancellationToken: cts.Token);
        var state = TransferState.Unspecified;
        await foreach (var update in watch.ResponseStream.ReadAllAsync(cts.Token)) state = update.Progress.State;
        return state;
    }

    private static List<Quote> Issued(ConcurrentQueue<SkyEvent> events, string quoteId) =>
        [.. events.Where(e => e.Type == "transfer.quote.issued" && e.Subject == quoteId).Select(e => ((TransferQuoteIssued)e.Data).Quote)];

    [Fact]
    public async Task A_plan_issues_its_quote_the_start_issues_it_again_and_the_bill_follows_its_lines()
    {
        var src = Source();
        await using var mesh = await TestMesh.StartAsync("all");
        await TransferApiTests.GridAsync(mesh);
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Transfer, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        var client = mesh.Client<TransferClient>();
        var rater = mesh.Services.GetRequiredService<UsageRater>();

        var plan = await client.PlanTransferAsync(new PlanTransferRequest { Spec = CrossCloud(src) });
        Assert.Equal("q-" + plan.PlanId, plan.QuoteId);
        await Until(() => Issued(events, plan.QuoteId).Count == 1);
        var quote = Assert.Single(Issued(events, plan.QuoteId));
        Assert.Equal((plan.PlanId, "acme", "", QuoteSubjectKind.Transfer, plan.PriceBookRevision),
            (quote.PlanId, quote.TenantId, quote.SubjectId, quote.SubjectKind, quote.PriceBookRevision));
        var egress = Assert.Single(quote.Lines, l => l.Service == "egress");
        Assert.Equal(("egress:aws/us-east-1->azure/eastus", plan.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), 0.09m),
            (egress.LineId, egress.Quantity, egress.UnitPrice.ToDecimal()));
        Assert.Equal(rater.Egress(EgressTiers.Flat(0.09m), null, "aws", "us-east-1", "azure", "eastus", plan.Bytes / 1_000_000_000m).Amount, egress.Amount.ToDecimal());
        var gateways = quote.Lines.Where(l => l.Service == "transfer-gateway").ToList();
        Assert.Equal(plan.Plan.Gateways.Select(g => $"gateway:{g.Location.Provider}/{g.Location.Region}/{g.InstanceType}").Order(), gateways.Select(l => l.LineId).Order());
        Assert.All(gateways, l => Assert.Equal(
            rater.Compute(l.UnitPrice.ToDecimal(), (decimal)plan.Plan.PredictedDuration.ToTimeSpan().Ticks * l.Nodes / TimeSpan.TicksPerSecond, l.Nodes).Amount,
            l.Amount.ToDecimal()));
        Assert.Equal(quote.Lines.Sum(l => l.Amount.ToDecimal()), quote.Total.ToDecimal());

        var started = await client.StartTransferAsync(new StartTransferRequest { PlanId = plan.PlanId });
        Assert.Equal(plan.QuoteId, started.QuoteId);
        Assert.Equal(plan.QuoteId, (await client.GetTransferAsync(new GetTransferRequest { TransferId = started.TransferId })).Transfer.QuoteId);
        await Until(() => Issued(events, plan.QuoteId).Count == 2);
        var again = Issued(events, plan.QuoteId)[1];
        Assert.Equal(started.TransferId, again.SubjectId);
        again.SubjectId = "";
        Assert.Equal(quote, again);   // the same quote, now naming its transfer

        Assert.Equal(TransferState.Succeeded, await FinishedAsync(client, started.TransferId));
        await Until(() => events.Any(e => e.Type == "transfer.usage"));
        var usage = (TransferUsage)events.Single(e => e.Type == "transfer.usage").Data;
        Assert.Equal(plan.QuoteId, usage.QuoteId);
        Assert.Equal(egress.LineId, Assert.Single(usage.Egress).QuoteLineId);
        Assert.Equal(gateways.Select(l => l.LineId).Order(), usage.Gateways.Select(g => g.QuoteLineId).Order());

        // Accounting rates each part against its line. The copy sent what was planned, and both the predicted and the
        // actual VM time are under the per-VM billing minimum, so every line is billed exactly what it quoted.
        var accounting = mesh.Client<AccountingClient>();
        ListUsageResponse listed = new();
        for (var i = 0; i < 100 && listed.Usage.Count < quote.Lines.Count; i++)
        {
            await Task.Delay(50);
            listed = await accounting.ListUsageAsync(new ListUsageRequest { TenantId = "acme" });
        }
        Assert.Equal(quote.Lines.Count, listed.Usage.Count);
        foreach (var rated in listed.Usage)
        {
            Assert.Equal((plan.QuoteId, started.TransferId), (rated.QuoteId, rated.SubjectId));
            Assert.Equal(quote.Lines.Single(l => l.LineId == rated.QuoteLineId).Amount.ToDecimal(), rated.Amount.ToDecimal());
        }
        Assert.Equal(quote.Total.ToDecimal(), listed.Usage.Sum(u => u.Amount.ToDecimal()));
    }

    [Fact]
    public async Task A_start_from_a_spec_issues_the_new_plans_quote_then_names_the_transfer()
    {
        var src = Source();
        await using var mesh = await TestMesh.StartAsync("all");
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Transfer, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        var client = mesh.Client<TransferClient>();

        // Folder to folder: nothing a cloud bills, so a quote with no lines and a zero total.
        var spec = new TransferSpec { SourceUri = Uri(src), DestinationUri = Uri(Folder("dst")), TenantId = "acme" };
        var started = await client.StartTransferAsync(new StartTransferRequest { Spec = spec });
        Assert.Equal("q-" + started.PlanId, started.QuoteId);
        await Until(() => Issued(events, started.QuoteId).Count == 2);
        var issued = Issued(events, started.QuoteId);
        Assert.Equal(["", started.TransferId], issued.Select(q => q.SubjectId));
        Assert.All(issued, q => Assert.Equal((0, 0m, "USD"), (q.Lines.Count, q.Total.ToDecimal(), q.Total.CurrencyCode)));
        Assert.Equal(TransferState.Succeeded, await FinishedAsync(client, started.TransferId));

        // A retry with the same request id starts nothing, so it issues nothing either.
        var first = await client.StartTransferAsync(new StartTransferRequest { Spec = new TransferSpec(spec) { DestinationUri = Uri(Folder("dst2")) }, RequestId = "r-1" });
        await Until(() => Issued(events, first.QuoteId).Count == 2);
        var retry = await client.StartTransferAsync(new StartTransferRequest { Spec = new TransferSpec(spec) { DestinationUri = Uri(Folder("dst2")) }, RequestId = "r-1" });
        Assert.Equal((first.TransferId, first.QuoteId), (retry.TransferId, retry.QuoteId));
        await Task.Delay(300);
        var starts = events.Where(e => e.Type == "transfer.quote.issued").Select(e => ((TransferQuoteIssued)e.Data).Quote.SubjectId).Where(s => s.Length > 0);
        Assert.Equal([started.TransferId, first.TransferId], starts);
    }
}
