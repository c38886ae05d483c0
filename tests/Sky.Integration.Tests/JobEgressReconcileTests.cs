using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Testing;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Integration.Tests;

/// <summary>
/// Egress between a job's tasks end to end: the plan moves prep's outputs from AWS to GCP, the quote prices that move
/// as a line, the runner meters it when train's nodes come up, accounting bills it, and reconciliation finds the line
/// billed exactly as quoted, every price confirmed by the directory's price book.
/// </summary>
public sealed class JobEgressReconcileTests
{
    private const string Pipeline = """
        name: prep
        resources:
          infra: aws/us-east-1
          cpus: 2+
        outputs:
          /data: 50
        run: echo prep
        ---
        name: train
        resources:
          infra: gcp/us-central1
          cpus: 2+
        run: echo train
        """;

    [Fact]
    public async Task Data_moved_between_tasks_across_clouds_is_quoted_metered_and_billed_as_quoted()
    {
        await using var mesh = await TestMesh.StartAsync("all", configure: b => b.Services.AddSingleton(new SimOptions { Faults = SimFaults.None }));
        var placement = mesh.Client<PlacementClient>();
        var plan = await placement.PlanAsync(new PlanRequest { Spec = new JobSpec { TaskYaml = Pipeline, FileName = "pipeline.yaml", TenantId = "acme" } });
        var edge = Assert.Single(plan.Egress);
        Assert.Equal(("prep", "train", 50_000_000_000L), (edge.SourceTask, edge.DestinationTask, edge.Bytes));

        var launched = await placement.LaunchAsync(new LaunchRequest { PlanId = plan.PlanId });
        Assert.Equal(JobState.Succeeded, (await placement.FinishedAsync(launched.JobId)).State);

        var accounting = mesh.Client<AccountingClient>();
        ReconcileResponse r;
        for (var until = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            r = await accounting.ReconcileAsync(new ReconcileRequest { JobId = launched.JobId });
            if (r.Final) break;
            Assert.True(DateTime.UtcNow < until, "reconciliation was not final within 30 s");
        }
        var quote = (await accounting.GetQuoteAsync(new GetQuoteRequest { QuoteId = r.QuoteId })).Quote;
        var quoted = Assert.Single(quote.Lines, l => l.Service == "egress");
        Assert.Equal(("egress:prep->train", "50000000000"), (quoted.LineId, quoted.Quantity));
        var line = Assert.Single(r.Lines, l => l.QuoteLineId == "egress:prep->train");
        Assert.True(line.Quoted.ToDecimal() > 0);
        Assert.Equal(line.Quoted, line.Billed);
        Assert.DoesNotContain(r.Causes, c => c.QuoteLineId == "egress:prep->train");
        Assert.Equal(r.Difference.ToDecimal(), r.Causes.Sum(c => c.Amount.ToDecimal()));
        Assert.True(r.PriceBook.Checked, r.PriceBook.Reason);
        Assert.Empty(r.PriceBook.Mismatches);

        var usage = (await accounting.ListUsageAsync(new ListUsageRequest { SubjectId = launched.JobId })).Usage.Single(u => u.Service == "egress");
        Assert.Equal(("aws", "us-east-1", "gcp", "us-central1"), (usage.Location.Provider, usage.Location.Region, usage.Destination.Provider, usage.Destination.Region));
        Assert.Equal($"placement:{launched.JobId}:egress:prep:train:1", usage.IdempotencyKey);
    }
}
