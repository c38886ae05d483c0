using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using static Sky.Placement.Tests.Providers.ProviderTestKit;

namespace Sky.Placement.Tests.Providers;

/// <summary>Real processes under bash: streaming, exit codes, environment, several nodes, cancellation, line caps.</summary>
public sealed class LocalRunnerTests : TempDirectoryTest
{
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private LocalRunner Runner(LocalRunnerOptions? options = null) => new(_time, options);

    [Fact]
    public async Task Stdout_and_stderr_lines_arrive_in_order_on_their_streams_stamped_by_the_time_provider()
    {
        var log = new LogCollector();
        var code = await Runner().RunAsync(LocalNodes(Root), Commands("echo one; echo two >&2; echo three; printf 'four'; echo five >&2"), log, default);

        Assert.Equal(0, code);
        Assert.Equal(["one", "three", "four"], log.Text(LogStream.Stdout));
        Assert.Equal(["two", "five"], log.Text(LogStream.Stderr));
        Assert.All(log.Lines, line => Assert.Equal((0, Start), (line.NodeRank, line.Time)));
    }

    [Fact]
    public async Task Lines_are_delivered_while_the_process_still_runs()
    {
        var log = new LogCollector();
        using var cts = new CancellationTokenSource();
        var run = Runner().RunAsync(LocalNodes(Root), Commands("echo first; sleep 30; echo never"), log, cts.Token);

        await log.WaitForAsync(l => l.Text == "first");
        Assert.False(run.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.DoesNotContain("never", log.Text(LogStream.Stdout));
    }

    [Fact]
    public async Task The_exit_code_of_run_is_returned()
    {
        Assert.Equal(3, await Runner().RunAsync(LocalNodes(Root), Commands("echo x; exit 3"), new LogCollector(), default));
        Assert.Equal(0, await Runner().RunAsync(LocalNodes(Root), Commands(""), new LogCollector(), default));
    }

    [Fact]
    public async Task Setup_runs_before_run_and_a_failing_setup_skips_run_and_returns_its_code()
    {
        var log = new LogCollector();
        Assert.Equal(0, await Runner().RunAsync(LocalNodes(Root), Commands("cat prepared", setup: "echo ready > prepared"), log, default));
        Assert.Equal(["ready"], log.Text(LogStream.Stdout));

        var failed = new LogCollector();
        var code = await Runner().RunAsync(LocalNodes(Root), Commands("echo ran", setup: "echo preparing; exit 7"), failed, default);
        Assert.Equal(7, code);
        Assert.Equal(["preparing"], failed.Text(LogStream.Stdout));
        Assert.Contains(failed.Text(LogStream.System), t => t.Contains("setup exited with code 7; run skipped"));
    }

    [Fact]
    public async Task SkyPilot_variables_and_the_task_envs_are_set_the_later_duplicate_and_SkyPilot_winning()
    {
        var log = new LogCollector();
        var nodes = LocalNodes(Root, count: 2, accelerators: "A100:8");
        var script = """
            echo "rank=$SKYPILOT_NODE_RANK num=$SKYPILOT_NUM_NODES a=$A b=$B gpus=$SKYPILOT_NUM_GPUS_PER_NODE id=$SKYPILOT_TASK_ID"
            echo "ips=$(echo "$SKYPILOT_NODE_IPS" | tr '\n' ,)"
            echo "$SKYPILOT_CLUSTER_INFO" >&2
            """;
        var code = await Runner().RunAsync(nodes, Commands(script, "", new("A", "1"), new("B", "two words"), new("A", "3"), new("SKYPILOT_NODE_RANK", "99")), log, default);

        Assert.Equal(0, code);
        foreach (var rank in new[] { 0, 1 })
        {
            Assert.Equal([$"rank={rank} num=2 a=3 b=two words gpus=8 id=sky-job-7_prep", "ips=127.0.0.1,127.0.0.1,"], log.Text(LogStream.Stdout, rank));
            var info = JsonDocument.Parse(Assert.Single(log.Text(LogStream.Stderr, rank))).RootElement;
            Assert.Equal(("cluster-1", "local", "local"), (info.GetProperty("cluster_name").GetString(), info.GetProperty("cloud").GetString(), info.GetProperty("region").GetString()));
        }
    }

    [Fact]
    public async Task Each_node_is_its_own_process_with_its_rank_in_its_own_directory()
    {
        var log = new LogCollector();
        var nodes = LocalNodes(Root, count: 3);
        Assert.Equal(0, await Runner().RunAsync(nodes, Commands("echo \"$SKYPILOT_NODE_RANK $$ $PWD\""), log, default));

        var lines = log.Lines.Where(l => l.Stream == LogStream.Stdout).Select(l => (l.NodeRank, Parts: l.Text.Split(' '))).OrderBy(l => l.NodeRank).ToList();
        Assert.Equal([0, 1, 2], lines.Select(l => l.NodeRank));
        Assert.Equal(["0", "1", "2"], lines.Select(l => l.Parts[0]));
        Assert.Equal(3, lines.Select(l => l.Parts[1]).Distinct().Count());
        Assert.Equal(nodes.Nodes.Select(n => n.Directory), lines.Select(l => l.Parts[2]));
    }

    [Fact]
    public async Task The_exit_code_is_the_highest_over_nodes()
    {
        var code = await Runner().RunAsync(LocalNodes(Root, count: 2), Commands("exit $((SKYPILOT_NODE_RANK * 4))"), new LogCollector(), default);
        Assert.Equal(4, code);
    }

    [Fact]
    public async Task A_failing_node_stops_the_others()
    {
        var log = new LogCollector();
        var clock = Stopwatch.StartNew();
        var code = await Runner().RunAsync(LocalNodes(Root, count: 3), Commands("if [ \"$SKYPILOT_NODE_RANK\" = 1 ]; then exit 5; fi; sleep 60"), log, default);

        Assert.Equal(5, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains(log.Text(LogStream.System), t => t.Contains("run on node 1 exited with code 5; stopping the other nodes"));
    }

    [Fact]
    public async Task Long_lines_are_cut_at_the_cap_and_the_next_line_is_intact()
    {
        var log = new LogCollector();
        var code = await Runner(new() { MaxLineLength = 1000 }).RunAsync(LocalNodes(Root),
            Commands("head -c 200000 /dev/zero | tr '\\0' x; echo; echo after"), log, default);

        Assert.Equal(0, code);
        var lines = log.Text(LogStream.Stdout);
        Assert.Equal(2, lines.Count);
        Assert.StartsWith(new string('x', 1000) + " [line cut: 199000 more characters dropped]", lines[0]);
        Assert.Equal("after", lines[1]);
    }

    [Fact]
    public async Task Binary_output_is_decoded_with_replacement_characters_and_capped_per_line()
    {
        var log = new LogCollector();
        var code = await Runner().RunAsync(LocalNodes(Root), Commands("printf 'a\\r\\nb\\377\\n'; head -c 400000 /dev/urandom"), log, default);

        Assert.Equal(0, code);
        var lines = log.Text(LogStream.Stdout);
        Assert.Equal(["a", "b\uFFFD"], lines.Take(2));
        Assert.All(lines, line => Assert.True(line.Length <= 64 * 1024 + 64, $"line of {line.Length} characters"));
    }

    [Fact]
    public async Task A_background_child_holding_the_output_open_does_not_hold_the_run()
    {
        var log = new LogCollector();
        var clock = Stopwatch.StartNew();
        var code = await Runner(new() { DrainTimeout = TimeSpan.FromMilliseconds(200) }).RunAsync(LocalNodes(Root), Commands("sleep 5 & echo bye"), log, default);

        Assert.Equal(0, code);
        Assert.Equal(["bye"], log.Text(LogStream.Stdout));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Stdin_is_closed_so_a_command_reading_it_does_not_hang()
    {
        var log = new LogCollector();
        Assert.Equal(0, await Runner().RunAsync(LocalNodes(Root), Commands("cat; echo done"), log, default));
        Assert.Equal(["done"], log.Text(LogStream.Stdout));
    }

    [Fact]
    public async Task The_task_working_directory_is_used_and_a_missing_one_is_an_error()
    {
        var work = System.IO.Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
        var log = new LogCollector();
        await Runner().RunAsync(LocalNodes(Root), Commands("pwd") with { WorkingDirectory = work }, log, default);
        Assert.Equal([work], log.Text(LogStream.Stdout));

        var missing = Path.Combine(Root, "missing");
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Runner().RunAsync(LocalNodes(Root), Commands("pwd") with { WorkingDirectory = missing }, log, default));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public async Task A_sink_that_throws_stops_the_run_and_its_error_is_reported()
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<IOException>(() =>
            Runner().RunAsync(LocalNodes(Root), Commands("echo x; sleep 60"), new ThrowingSink(), default));
        Assert.Equal("log store full", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    private sealed class ThrowingSink : ILogSink
    {
        public void Write(LogLine line) => throw new IOException("log store full");
    }
}
