using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Sky.Integration.Tests;

/// <summary>Runs the built <c>sky-mesh</c> and <c>sky</c> programs as real processes, as a user would.</summary>
public static partial class Processes
{
    private static string Dll(string name) => Path.Combine(AppContext.BaseDirectory, name + ".dll");

    public static ProcessStartInfo Dotnet(string program, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll(program));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment.Remove("SKY_ENDPOINT");
        psi.Environment.Remove("SKY_TOKEN");
        psi.Environment.Remove("SKY_OPERATOR_TOKEN");
        return psi;
    }

    /// <summary>Runs to completion (at most 60 s) and returns exit code, stdout and stderr.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(ProcessStartInfo psi)
    {
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not exit in 60 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A running <c>sky-mesh</c> host; disposing kills it.</summary>
    public sealed class Host : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private Host(Process process, string grpc, string http)
        {
            _process = process;
            Grpc = grpc;
            Http = http;
        }

        public string Grpc { get; }
        public string Http { get; }

        public static Task<Host> StartAsync(params string[] args) => StartAsync(new Dictionary<string, string>(), args);

        /// <summary>Starts a host with extra environment variables (configuration such as <c>Transfer__HeartbeatTtl</c>).</summary>
        public static async Task<Host> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
        {
            var psi = Dotnet("sky-mesh", ["--grpc-port", "0", "--http-port", "0", .. args]);
            foreach (var (name, value) in environment) psi.Environment[name] = value;
            var process = Process.Start(psi)!;
            var output = new StringBuilder();
            var ready = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) { ready.TrySetException(new InvalidOperationException("sky-mesh exited:\n" + output)); return; }
                lock (output) output.AppendLine(e.Data);
                var m = ReadyLine().Match(e.Data);
                if (m.Success) ready.TrySetResult(m);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var done = await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(60)));
            if (done != ready.Task)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("sky-mesh printed no ready line in 60 s:\n" + output);
            }
            var match = await ready.Task;
            return new Host(process, match.Groups["grpc"].Value, match.Groups["http"].Value);
        }

        /// <summary>Kills the host with SIGKILL (kill -9): no shutdown code runs.</summary>
        public async Task KillAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    [GeneratedRegex(@"^sky-mesh ready grpc=(?<grpc>http://127\.0\.0\.1:\d+) http=(?<http>http://127\.0\.0\.1:\d+)$")]
    public static partial Regex ReadyLine();
}
