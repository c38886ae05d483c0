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

    /// <summary>examples/pipeline.yaml of this checkout, found from this source file (test binaries may be built elsewhere).</summary>
    private static string Pipeline([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "examples", "pipeline.yaml"));

    private static decimal Money(JsonElement money) =>
        (money.TryGetProperty("units", out var u) ? decimal.Parse(u.GetString() ?? u.GetRawText(), System.Globalization.CultureInfo.InvariantCulture) : 0m)
        + (money.TryGetProperty("nanos", out var n) ? n.GetInt32() / 1_000_000_000m : 0m);

    [GeneratedRegex(@"launched (job-[0-9a-f]+)")]
    private static partial Regex JobId();
}
