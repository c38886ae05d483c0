using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Sky.Placement.V1;

namespace Sky.Placement.Providers;

/// <summary>Limits of <see cref="LocalRunner"/>.</summary>
public sealed record LocalRunnerOptions
{
    /// <summary>Longest line kept, in characters; the rest of a longer line is dropped (and counted).</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;
    /// <summary>After a kill, how long to wait for the output pipes to close before returning anyway.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>After a normal exit, how long a background child may keep the output pipes open before the runner stops reading.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The shell; null finds /bin/bash, else bash on PATH.</summary>
    public string? Shell { get; init; }
}

/// <summary>
/// Runs a task's commands as real processes on this machine, one per node, as SkyPilot runs them on a cluster:
/// setup on every node, then (only when every setup exited 0) run on every node, each with <c>bash -c</c>, the
/// task's envs and SkyPilot's <c>SKYPILOT_*</c> variables. When a node fails the others are stopped, as SkyPilot
/// stops the rest of a job. Cancellation kills every process tree at once. Used by <see cref="LocalProvider"/> and
/// by <see cref="SimProvider"/>, whose simulated nodes are processes here too.
/// </summary>
public sealed class LocalRunner(TimeProvider time, LocalRunnerOptions? options = null)
{
    private readonly LocalRunnerOptions _options = options ?? new();
    private readonly Lazy<string> _shell = new(() => options?.Shell ?? FindBash());

    /// <summary>
    /// Runs <paramref name="commands"/> on <paramref name="nodes"/>; returns the highest exit code over the nodes that
    /// exited on their own (setup's when a setup failed: run is then skipped).
    /// </summary>
    public async Task<int> RunAsync(ProvisionedNodes nodes, TaskCommands commands, ILogSink sink, CancellationToken ct)
    {
        var workDirs = nodes.Nodes.Select(node => WorkingDirectory(node, commands)).ToList();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var log = new SerialLog(sink, time, run);
        try
        {
            if (!string.IsNullOrWhiteSpace(commands.Setup))
            {
                var setup = await RunPhaseAsync("setup", commands.Setup, nodes, commands, workDirs, log, run.Token).ConfigureAwait(false);
                log.ThrowIfFailed();
                if (setup != 0)
                {
                    log.Note($"setup exited with code {setup}; run skipped");
                    return setup;
                }
            }
            if (string.IsNullOrWhiteSpace(commands.Run)) return 0;
            var code = await RunPhaseAsync("run", commands.Run, nodes, commands, workDirs, log, run.Token).ConfigureAwait(false);
            log.ThrowIfFailed();
            return code;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Cancelled by a failing sink, not by the caller: report the sink's error.
            log.ThrowIfFailed();
            throw;
        }
        finally
        {
            // A background child that outlived the drain timeout may still print: the caller's sink is done with this run.
            log.Close();
        }
    }

    private static string WorkingDirectory(NodeInfo node, TaskCommands commands)
    {
        var dir = commands.WorkingDirectory ?? node.Directory
            ?? throw new ArgumentException($"node {node.Rank} has no directory and the task names no working directory");
        if (!System.IO.Directory.Exists(dir)) throw new ArgumentException($"working directory '{dir}' of node {node.Rank} does not exist");
        return dir;
    }

    /// <summary>Runs one phase on every node at once; the first node to exit non-zero stops the others.</summary>
    private async Task<int> RunPhaseAsync(string phase, string script, ProvisionedNodes nodes, TaskCommands commands,
        IReadOnlyList<string> workDirs, SerialLog log, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = nodes.Nodes
            .Select((node, i) => RunNodeAsync(node, script, Environment(nodes, node, commands), workDirs[i], log, stop.Token))
            .ToList();
        var highest = 0;
        try
        {
            while (pending.Count > 0)
            {
                var done = await Task.WhenAny(pending).ConfigureAwait(false);
                pending.Remove(done);
                var (rank, code) = await done.ConfigureAwait(false);
                if (code is not int exit) continue;
                highest = Math.Max(highest, exit);
                if (exit != 0 && pending.Count > 0 && !stop.IsCancellationRequested)
                {
                    log.Note($"{phase} on node {rank} exited with code {exit}; stopping the other nodes");
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pending).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }
        ct.ThrowIfCancellationRequested();
        return highest;
    }

    /// <summary>One process: its exit code, or null when <paramref name="stop"/> killed it first.</summary>
    private async Task<(int Rank, int? Code)> RunNodeAsync(NodeInfo node, string script, IEnumerable<KeyValuePair<string, string>> env,
        string workDir, SerialLog log, CancellationToken stop)
    {
        var start = new ProcessStartInfo(_shell.Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var (name, value) in env) start.Environment[name] = value;

        stop.ThrowIfCancellationRequested();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {_shell.Value} for node {node.Rank}: {e.Message}", e);
        }
        process.StandardInput.Close();
        var rank = node.Rank;
        var pumps = Task.WhenAll(
            new LineSplitter(_options.MaxLineLength, line => log.Write(rank, LogStream.Stdout, line)).PumpAsync(process.StandardOutput.BaseStream),
            new LineSplitter(_options.MaxLineLength, line => log.Write(rank, LogStream.Stderr, line)).PumpAsync(process.StandardError.BaseStream));
        try
        {
            await process.WaitForExitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            KillTree(process);
            await WaitAtMost(pumps, _options.StopGrace).ConfigureAwait(false);
            return (rank, null);
        }
        // A child left running in the background may hold the pipes open; stop reading after a while.
        await WaitAtMost(pumps, _options.DrainTimeout).ConfigureAwait(false);
        return (rank, process.ExitCode);
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // already exited
        catch (Win32Exception) { } // a member of the tree exited while being killed
    }

    /// <summary>Waits in real time: this is about OS pipes closing, not about the simulated clock a caller may use.</summary>
    private static Task WaitAtMost(Task task, TimeSpan limit) => Task.WhenAny(task, Task.Delay(limit));

    /// <summary>The process environment: inherited, then the task's envs in order, then SkyPilot's variables (which win).</summary>
    internal static IEnumerable<KeyValuePair<string, string>> Environment(ProvisionedNodes nodes, NodeInfo node, TaskCommands commands)
    {
        foreach (var pair in commands.Envs) yield return pair;
        var request = nodes.Request;
        yield return new("SKYPILOT_NODE_RANK", node.Rank.ToString(CultureInfo.InvariantCulture));
        yield return new("SKYPILOT_NUM_NODES", nodes.Nodes.Count.ToString(CultureInfo.InvariantCulture));
        yield return new("SKYPILOT_NODE_IPS", string.Join('\n', nodes.Nodes.Select(n => n.Ip)));
        yield return new("SKYPILOT_NUM_GPUS_PER_NODE", request.AcceleratorsPerNode.ToString(CultureInfo.InvariantCulture));
        // Stable across recoveries of the task (as for SkyPilot's managed jobs), so it can name checkpoints.
        yield return new("SKYPILOT_TASK_ID", $"sky-{request.JobId}_{request.TaskName}");
        yield return new("SKYPILOT_CLUSTER_INFO", JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["cluster_name"] = nodes.ClusterId,
            ["cloud"] = nodes.Location.Provider,
            ["region"] = nodes.Location.Region,
            ["zone"] = nodes.Location.Zone,
        }));
    }

    private static string FindBash()
    {
        if (File.Exists("/bin/bash")) return "/bin/bash";
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "bash.exe" : "bash");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("no bash: /bin/bash does not exist and bash is not on PATH");
    }

    /// <summary>
    /// Hands lines to the sink one at a time (stdout and stderr of every node arrive on different threads), stamps
    /// them, and turns a sink that throws into a stopped run that reports the sink's error.
    /// </summary>
    private sealed class SerialLog(ILogSink sink, TimeProvider time, CancellationTokenSource run)
    {
        private readonly Lock _gate = new();
        private ExceptionDispatchInfo? _failure;
        private bool _closed;

        public void Write(int rank, LogStream stream, string text)
        {
            lock (_gate)
            {
                if (_failure is not null || _closed) return;
                try
                {
                    sink.Write(new LogLine(rank, stream, text, time.GetUtcNow()));
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            }
            if (_failure is not null) run.Cancel();
        }

        public void Note(string text) => Write(0, LogStream.System, text);

        public void Close()
        {
            lock (_gate) _closed = true;
        }

        public void ThrowIfFailed()
        {
            lock (_gate) _failure?.Throw();
        }
    }
}
