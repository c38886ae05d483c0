using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sky.Integration.Tests;

/// <summary><c>sky launch</c> then <c>sky bill usage</c> against a real host: the job's run time is rated and posted by accounting.</summary>
public sealed partial class CliBillTests(CliHost host) : IClassFixture<CliHost>
{
    [Fact]
    public async Task A_launched_pipeline_shows_up_as_rated_usage_per_task()
    {
        var state = host.NewStateDir();
        var launch = await host.RunAsync(state, "launch", Pipeline(), "--tenant", "acme");
        Assert.True(launch.Exit == 0, $"exit {launch.Exit}: {launch.Err}\n{launch.Out}");
        var job = JobId().Match(launch.Out).Groups[1].Value;
        Assert.StartsWith("job-", job);

        JsonElement usage = default;
        for (var i = 0; i < 100; i++)
        {
            var listed = await host.RunAsync(state, "bill", "usage", "--job", job, "--json");
            Assert.True(listed.Exit == 0, listed.Err);
            usage = JsonDocument.Parse(listed.Out).RootElement;
            if (usage.TryGetProperty("usage", out var rows) && rows.GetArrayLength() == 2) break;
            await Task.Delay(100);
        }
        var records = usage.GetProperty("usage").EnumerateArray().ToList();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("compute", r.GetProperty("service").GetString()));
        Assert.Equal(["finetune", "prep"], records.Select(r => r.GetProperty("idempotency_key").GetString()!.Split(':')[2]).Order());

        var table = await host.RunAsync(state, "bill", "usage", "--job", job);
        Assert.Contains("g6.xlarge", table.Out);
    }

    [Fact]
    public async Task After_a_launch_the_period_closes_into_an_invoice_and_settlements_and_exports_as_focus()
    {
        var state = host.NewStateDir();
        var launch = await host.RunAsync(state, "launch", Pipeline(), "--tenant", "acme");
        Assert.True(launch.Exit == 0, $"exit {launch.Exit}: {launch.Err}\n{launch.Out}");
        var job = JobId().Match(launch.Out).Groups[1].Value;
        for (var i = 0; i < 100; i++)
        {
            var listed = await host.RunAsync(state, "bill", "usage", "--job", job, "--json");
            if (JsonDocument.Parse(listed.Out).RootElement.TryGetProperty("usage", out var rows) && rows.GetArrayLength() == 2) break;
            await Task.Delay(100);
        }

        var drafts = JsonDocument.Parse((await host.RunAsync(state, "bill", "invoice", "--tenant", "acme", "--json")).Out).RootElement.GetProperty("invoices");
        var draft = drafts.EnumerateArray().First();
        Assert.Equal("INVOICE_STATUS_DRAFT", draft.GetProperty("status").GetString());
        var period = draft.GetProperty("period").GetProperty("period_id").GetString()!;
        var id = draft.GetProperty("invoice_id").GetString()!;

        var early = await host.RunAsync(state, "bill", "close", period);
        Assert.NotEqual(0, early.Exit);
        Assert.Contains("force", early.Err);
        var close = await host.RunAsync(state, "bill", "close", period, "--force", "--json");
        Assert.True(close.Exit == 0, close.Err);
        var closed = JsonDocument.Parse(close.Out).RootElement;
        Assert.Equal(1, closed.GetProperty("invoices_issued").GetInt32());

        var invoice = JsonDocument.Parse((await host.RunAsync(state, "bill", "invoice", id, "--json")).Out).RootElement;
        Assert.Equal("INVOICE_STATUS_ISSUED", invoice.GetProperty("status").GetString());
        var table = await host.RunAsync(state, "bill", "invoice", id);
        Assert.Contains("g6.xlarge", table.Out);
        var settlements = JsonDocument.Parse((await host.RunAsync(state, "bill", "settlements", "--period", period, "--json")).Out).RootElement;
        Assert.NotEmpty(settlements.GetProperty("settlements").EnumerateArray());

        var file = Path.Combine(state, "acme.csv");
        var export = await host.RunAsync(state, "bill", "export", "--focus", "--tenant", "acme", "--period", period, "-o", file, "--json");
        Assert.True(export.Exit == 0, export.Err);
        Assert.Equal(new FileInfo(file).Length, JsonDocument.Parse(export.Out).RootElement.GetProperty("bytes").GetInt64());
        var lines = File.ReadAllLines(file);
        var header = lines[0].Split(',');
        var billed = Array.IndexOf(header, "BilledCost");
        Assert.True(billed >= 0, lines[0]);
        Assert.Equal(2, lines.Length - 1);
        var total = lines.Skip(1).Sum(l => decimal.Parse(l.Split(',')[billed], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Money(invoice.GetProperty("total")), total);
    }

    [Fact]
    public async Task A_launched_job_ends_with_its_quote_reconciled_against_its_bill_to_the_nano()
    {
        var state = host.NewStateDir();
        var launch = await host.RunAsync(state, "launch", Pipeline(), "--tenant", "acme", "--json");
        Assert.True(launch.Exit == 0, $"exit {launch.Exit}: {launch.Err}\n{launch.Out}");
        var launched = JsonDocument.Parse(launch.Out).RootElement;
        var job = launched.GetProperty("job").GetProperty("job_id").GetString()!;
        var quoteId = launched.GetProperty("job").GetProperty("quote_id").GetString()!;
        Assert.StartsWith("q-plan-", quoteId);
        Assert.True(launched.TryGetProperty("reconciliation", out var atLaunch), launch.Out);
        Assert.Equal(job, atLaunch.GetProperty("subject_id").GetString());

        JsonElement r = default;
        for (var i = 0; i < 100; i++)
        {
            var reconciled = await host.RunAsync(state, "bill", "reconcile", job, "--json");
            Assert.True(reconciled.Exit == 0, reconciled.Err);
            r = JsonDocument.Parse(reconciled.Out).RootElement;
            if (r.GetProperty("final").GetBoolean()) break;
            await Task.Delay(100);
        }
        Assert.True(r.GetProperty("final").GetBoolean());
        Assert.Equal(quoteId, r.GetProperty("quote_id").GetString());
        var (quoted, billed) = (r.GetProperty("quoted_usd").GetDecimal(), r.GetProperty("billed_usd").GetDecimal());
        Assert.True(quoted > 0 && billed > 0, r.ToString());
        var causes = r.GetProperty("causes").EnumerateArray().ToList();
        // Every difference is itemized, exactly: the pipeline ran for well under the hour quoted per task.
        Assert.Equal(billed - quoted, causes.Sum(c => c.GetProperty("amount_usd").GetDecimal()));
        Assert.Equal(billed - quoted, r.GetProperty("difference_usd").GetDecimal());
        Assert.Contains(causes, c => c.GetProperty("kind").GetString() == "shorter_run");
        Assert.All(causes, c => Assert.Contains(c.GetProperty("kind").GetString(),
            new[] { "longer_run", "shorter_run", "failover", "spot_price_change", "price_book_revision", "peering_started", "peering_ended", "late_usage" }));
        Assert.Equal(billed, r.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("billed_usd").GetDecimal()));

        var text = await host.RunAsync(state, "bill", "reconcile", job);
        Assert.True(text.Exit == 0, text.Err);
        Assert.Contains("shorter_run", text.Out);
        Assert.Contains(quoteId, text.Out);

        var unknown = await host.RunAsync(state, "bill", "reconcile", "job-0000", "--json");
        Assert.NotEqual(0, unknown.Exit);
    }

    /// <summary>examples/pipeline.yaml of this checkout, found from this source file (test binaries may be built elsewhere).</summary>
    private static string Pipeline([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "examples", "pipeline.yaml"));

    private static decimal Money(JsonElement money) =>
        (money.TryGetProperty("units", out var u) ? decimal.Parse(u.GetString() ?? u.GetRawText(), System.Globalization.CultureInfo.InvariantCulture) : 0m)
        + (money.TryGetProperty("nanos", out var n) ? n.GetInt32() / 1_000_000_000m : 0m);

    [GeneratedRegex(@"launched (job-[0-9a-f]+)")]
    private static partial Regex JobId();
}
