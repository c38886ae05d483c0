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
        var pipeline = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "pipeline.yaml");
        var launch = await host.RunAsync(state, "launch", Path.GetFullPath(pipeline), "--tenant", "acme");
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

    [GeneratedRegex(@"launched (job-[0-9a-f]+)")]
    private static partial Regex JobId();
}
