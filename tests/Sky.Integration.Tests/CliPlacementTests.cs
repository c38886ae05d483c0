using System.Text.Json;

namespace Sky.Integration.Tests;

/// <summary>
/// <c>sky plan</c> and <c>sky launch</c> as the README runs them: the real program on an embedded mesh (no Redis, no
/// Dapr, no cloud account) with the pipeline in <c>examples/</c>.
/// </summary>
public sealed class CliPlacementTests
{
    private static readonly string Pipeline = Path.Combine(RepoRoot(), "examples", "pipeline.yaml");

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sky.Mesh.sln not found above " + AppContext.BaseDirectory);
    }

    private static Task<(int Exit, string Out, string Err)> SkyAsync(params string[] args)
    {
        var psi = Processes.Dotnet("sky", args);
        psi.Environment["SKY_STATE_DIR"] = System.IO.Directory.CreateTempSubdirectory("sky-cli-state-").FullName;
        return Processes.RunAsync(psi);
    }

    [Fact]
    public async Task Plan_json_has_the_documented_shape_and_every_alternative_says_what_the_whole_plan_would_cost()
    {
        var (exit, stdout, stderr) = await SkyAsync("plan", Pipeline, "--json");
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var json = JsonDocument.Parse(stdout).RootElement;
        var plan = json.GetProperty("plan").EnumerateArray().ToList();
        Assert.Equal(["prep", "finetune"], plan.Select(t => t.GetProperty("task").GetString()));
        foreach (var task in plan)
            foreach (var field in new[] { "cloud", "region", "zone", "instance_type", "accelerators", "use_spot", "num_nodes", "hourly_cost_usd" })
                Assert.True(task.TryGetProperty(field, out _), $"plan entry lacks {field}: {task}");
        Assert.Equal(("aws", "us-east-1"), (plan[0].GetProperty("cloud").GetString(), plan[0].GetProperty("region").GetString()));
        Assert.Equal("L4:1", plan[1].GetProperty("accelerators").GetString());
        Assert.Equal(JsonValueKind.Null, plan[0].GetProperty("accelerators").ValueKind);
        Assert.Equal("cost", json.GetProperty("objective").GetString());
        Assert.True(json.GetProperty("optimize_ms").GetDouble() >= 0);
        var hourly = plan.Sum(t => t.GetProperty("hourly_cost_usd").GetDecimal());
        Assert.Equal(hourly, json.GetProperty("total_hourly_cost_usd").GetDecimal());
        var total = json.GetProperty("total_cost_usd").GetDecimal();
        Assert.Equal(json.GetProperty("compute_cost_usd").GetDecimal() + json.GetProperty("egress_cost_usd").GetDecimal(), total);

        var alternatives = json.GetProperty("alternatives").GetProperty("finetune").EnumerateArray().ToList();
        Assert.NotEmpty(alternatives);
        foreach (var a in alternatives)
        {
            Assert.True(a.GetProperty("plan_total_cost_usd").GetDecimal() >= total, a.ToString());
            Assert.Equal(a.GetProperty("plan_total_cost_usd").GetDecimal() - total, a.GetProperty("plan_delta_usd").GetDecimal());
        }
    }

    [Fact]
    public async Task A_bad_yaml_is_refused_with_its_file_line_and_column()
    {
        var bad = Path.Combine(System.IO.Directory.CreateTempSubdirectory("sky-yaml-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(bad, "name: train\nresources:\n  cpus: 8++\n");
        var (exit, _, stderr) = await SkyAsync("plan", bad);
        Assert.NotEqual(0, exit);
        Assert.Contains("bad.yaml:3:9", stderr);
        Assert.DoesNotContain("   at ", stderr);   // a message, not a stack trace
    }

    [Fact]
    public async Task The_readme_main_job_fails_over_once_and_runs_the_pipeline_to_the_end()
    {
        var (exit, stdout, stderr) = await SkyAsync("launch", Pipeline);
        Assert.True(exit == 0, $"exit {exit}: {stderr}\n{stdout}");
        Assert.Contains("CapacityError", stdout);
        Assert.Contains("planned again", stdout);
        Assert.Contains("saved checkpoint", stdout);
        Assert.Contains("job succeeded", stdout);
    }
}
