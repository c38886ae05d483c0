using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sky.Integration.Tests;

/// <summary><c>sky transfer</c> with the real programs: plan, start and follow, status, cancel, bad flags; on a host and in process.</summary>
public sealed partial class CliTransferTests(CliHost host) : IClassFixture<CliHost>, IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("sky-cli-transfer-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    private (string Src, string Dst) Folders()
    {
        var src = System.IO.Directory.CreateDirectory(Path.Combine(_root, Guid.NewGuid().ToString("N"), "src")).FullName;
        var dst = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(src)!, "dst")).FullName;
        var bytes = new byte[3 << 20];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(src, "model.bin"), bytes);
        File.WriteAllText(Path.Combine(src, "README.txt"), "weights\n");
        return (src, dst);
    }

    [Fact]
    public async Task Plan_then_start_copies_the_folder_and_status_lists_it()
    {
        var state = host.NewStateDir();
        var (src, dst) = Folders();
        var plan = await host.RunAsync(state, "transfer", "plan", $"file://{src}/", $"file://{dst}/", "--tenant", "acme", "--json");
        Assert.True(plan.Exit == 0, plan.Err);
        var planned = JsonDocument.Parse(plan.Out).RootElement;
        Assert.Equal((3 << 20) + 8, long.Parse(planned.GetProperty("bytes").GetString()!));
        Assert.StartsWith("tplan-", planned.GetProperty("plan_id").GetString());

        var start = await host.RunAsync(state, "transfer", "start", $"file://{src}/", $"file://{dst}/", "--tenant", "acme");
        Assert.True(start.Exit == 0, $"exit {start.Exit}: {start.Err}\n{start.Out}");
        Assert.Contains("succeeded: 2/2 objects", start.Out);
        Assert.Equal(File.ReadAllBytes(Path.Combine(src, "model.bin")), File.ReadAllBytes(Path.Combine(dst, "model.bin")));
        var id = TransferId().Match(start.Out).Groups[1].Value;

        var status = await host.RunAsync(state, "transfer", "status", id, "--json");
        Assert.True(status.Exit == 0, status.Err);
        Assert.Equal("TRANSFER_STATE_SUCCEEDED", JsonDocument.Parse(status.Out).RootElement.GetProperty("progress").GetProperty("state").GetString());
        Assert.Contains(id, (await host.RunAsync(state, "transfer", "status")).Out);
        Assert.Equal("succeeded", (await host.RunAsync(state, "transfer", "cancel", id)).Out.Trim());
    }

    [Theory]
    [InlineData("--goal", "quickest", "--goal: 'quickest' is not cheapest, fastest, deadline or budget")]
    [InlineData("--bytes", "12 parsecs", "--bytes: '12 parsecs' has an unknown unit")]
    [InlineData("--from", "aws", "--from: 'aws' is not PROVIDER/REGION[/ZONE]")]
    [InlineData("--goal", "deadline", "--goal deadline needs --deadline")]
    public async Task A_bad_flag_is_one_line_and_exit_2(string flag, string value, string message)
    {
        var run = await host.RunAsync(host.NewStateDir(), "transfer", "plan", "file:///tmp/a/", "file:///tmp/b/", flag, value);
        Assert.Equal(2, run.Exit);
        Assert.StartsWith("sky: " + message, run.Err.Trim());
    }

    [Fact]
    public async Task A_missing_source_fails_with_the_field_named_and_nothing_starts()
    {
        var state = host.NewStateDir();
        var (_, dst) = Folders();
        var run = await host.RunAsync(state, "transfer", "start", $"file://{_root}/nope/", $"file://{dst}/", "--tenant", "acme");
        Assert.Equal(1, run.Exit);
        Assert.Contains("FailedPrecondition", run.Err);
        Assert.Contains("spec.source_uri", run.Err);
    }

    [Fact]
    public async Task In_process_the_copy_runs_to_the_end_with_no_host()
    {
        var (src, dst) = Folders();
        var psi = Processes.Dotnet("sky", "transfer", "start", $"file://{src}/", $"file://{dst}/");
        psi.Environment["SKY_STATE_DIR"] = host.NewStateDir();
        var run = await Processes.RunAsync(psi);
        Assert.True(run.Exit == 0, $"exit {run.Exit}: {run.Err}\n{run.Out}");
        Assert.Equal("weights\n", File.ReadAllText(Path.Combine(dst, "README.txt")));
    }

    [GeneratedRegex(@"started (xfer-[0-9a-f]+)")]
    private static partial Regex TransferId();
}
