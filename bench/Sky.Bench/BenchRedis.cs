using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Sky.Bench;

/// <summary>
/// The Redis a benchmark runs against: SKY_BENCH_REDIS (redis://host:port) if set, else a redis-server
/// started on a free loopback port (AOF on, as CI runs it; see <see cref="StartAsync"/> for its rewrite threshold) and stopped afterwards. redis-benchmark on the
/// same server gives the baseline the mesh's Redis-backed figures are read beside.
/// </summary>
public sealed partial class BenchRedis : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _dir;

    private BenchRedis(string host, int port, Process? process, string? dir) => (Host, Port, _process, _dir) = (host, port, process, dir);

    public string Host { get; }
    public int Port { get; }
    public string Uri => $"redis://{Host}:{Port}";

    public static async Task<BenchRedis> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("SKY_BENCH_REDIS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var uri = new Uri(configured);
            return new BenchRedis(uri.Host, uri.Port, null, null);
        }
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var dir = System.IO.Directory.CreateTempSubdirectory("sky-bench-redis-").FullName;
        // AOF as CI and deploy/ run it (everysec), but rewritten once it has grown by 1 GB rather than redis' default 64 MB.
        // Events cost the AOF some 600 bytes each (XADD, the group's XCLAIM, XACK, the handled mark) while the live data
        // stays small (bounded streams), so at 20k events/s the default forked a rewrite every few seconds: a fork stall
        // and a core busy for a second or two each time, a third of redis' CPU on two cores. 1 GB means one rewrite a
        // minute or so at that rate; the price is up to 1 GB more disk and a slower restart (the AOF's tail replayed).
        var process = Process.Start(new ProcessStartInfo("redis-server",
            ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "yes",
             "--auto-aof-rewrite-min-size", "1gb", "--latency-monitor-threshold", "2", "--dir", dir])
        { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server)");
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new BenchRedis("127.0.0.1", port, process, dir);
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        throw new InvalidOperationException($"redis-server on port {port} did not answer");
    }

    /// <summary>redis-benchmark's SET rate on this server (50 clients, 200k requests, given pipeline depth).</summary>
    public Task<double> BenchmarkSetAsync(int pipeline) => BenchmarkAsync(["-t", "set"], pipeline);

    /// <summary>
    /// redis-benchmark's XADD rate (one field, auto ids) on this server, beside which event rates are read; trimmed as the
    /// event bus trims (MAXLEN ~ 100000), so it costs what an event's XADD does and leaves no unbounded stream behind to
    /// fatten every later AOF rewrite.
    /// </summary>
    public Task<double> BenchmarkXaddAsync(int pipeline) =>
        BenchmarkAsync(["XADD", "bench:redis-benchmark", "MAXLEN", "~", "100000", "*", "body", "0123456789abcdef"], pipeline);

    private async Task<double> BenchmarkAsync(string[] test, int pipeline)
    {
        // Options first, then either -t TEST or a command to run.
        var psi = new ProcessStartInfo("redis-benchmark",
            ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-n", "200000", "-P", pipeline.ToString(CultureInfo.InvariantCulture), "-q", .. test])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("redis-benchmark did not start (apt-get install redis-tools)");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        // The last "SET: 12345.67 requests per second" figure (-q prints progress lines with \r first).
        var matches = Rate().Matches(output);
        if (matches.Count == 0) throw new InvalidOperationException("redis-benchmark printed no rate: " + output);
        return double.Parse(matches[^1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@": ([0-9.]+) requests per second")]
    private static partial Regex Rate();

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        if (_dir is not null) try { System.IO.Directory.Delete(_dir, true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Finds ../shared data next to the project (never part of it); null when absent.</summary>
public static class SharedData
{
    public static string? Find(string relative)
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) continue;
            var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", relative));
            return System.IO.Directory.Exists(path) ? path : null;
        }
        return null;
    }
}
