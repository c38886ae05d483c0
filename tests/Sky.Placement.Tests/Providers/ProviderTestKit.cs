using System.Diagnostics;
using Sky.Placement.Providers;
using Sky.Placement.V1;

namespace Sky.Placement.Tests.Providers;

/// <summary>A sink that keeps every line and lets a test wait for one.</summary>
internal sealed class LogCollector : ILogSink
{
    private readonly Lock _gate = new();
    private readonly List<LogLine> _lines = [];

    public void Write(LogLine line)
    {
        lock (_gate) _lines.Add(line);
    }

    public IReadOnlyList<LogLine> Lines { get { lock (_gate) return [.. _lines]; } }

    public IReadOnlyList<string> Text(LogStream stream, int? rank = null) =>
        [.. Lines.Where(l => l.Stream == stream && (rank is null || l.NodeRank == rank)).Select(l => l.Text)];

    /// <summary>Waits (real time) until a line satisfies <paramref name="match"/>; fails the test after <paramref name="seconds"/>.</summary>
    public async Task WaitForAsync(Func<LogLine, bool> match, double seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!Lines.Any(match))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), $"no matching line after {seconds} s; got: {string.Join(" | ", Lines.Select(l => l.Text))}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Requests and node sets for provider tests, and a check that a process is gone.</summary>
internal static class ProviderTestKit
{
    public static NodeRequest Request(string location = "aws/us-east-1/us-east-1a", string instanceType = "m5.large", bool spot = false,
        int nodes = 1, string? accelerators = null, double? vcpus = 2, string task = "train") => new()
    {
        TaskName = task,
        JobId = "job-1",
        Location = CloudLocation.Parse(location),
        InstanceType = instanceType,
        Accelerators = accelerators,
        UseSpot = spot,
        NumNodes = nodes,
        OfferId = $"offer-{instanceType}",
        HourlyPrice = 0.096m * nodes,
        VcpusPerNode = vcpus,
    };

    /// <summary><paramref name="count"/> nodes on this machine, each with its own directory under <paramref name="root"/>.</summary>
    public static ProvisionedNodes LocalNodes(string root, int count = 1, string? accelerators = null)
    {
        var nodes = Enumerable.Range(0, count).Select(rank =>
        {
            var dir = Path.Combine(root, $"node-{rank}");
            System.IO.Directory.CreateDirectory(dir);
            return new NodeInfo(rank, "127.0.0.1", dir);
        }).ToList();
        var request = Request("local/local", "local", nodes: count, accelerators: accelerators) with { JobId = "job-7", TaskName = "prep" };
        return new ProvisionedNodes("local", "cluster-1", request, CloudLocation.Local, nodes, DateTimeOffset.UnixEpoch);
    }

    public static TaskCommands Commands(string run, string setup = "", params KeyValuePair<string, string>[] envs) => new(setup, run, envs);

    /// <summary>True once the process no longer exists or is a zombie waiting to be reaped (it runs no more either way).</summary>
    public static bool Gone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException) { return true; }
    }

    public static async Task<bool> GoneWithinAsync(int pid, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!Gone(pid))
        {
            if (clock.Elapsed > limit) return false;
            await Task.Delay(10);
        }
        return true;
    }
}

/// <summary>A fresh temporary directory per test, removed afterwards.</summary>
public abstract class TempDirectoryTest : IDisposable
{
    protected string Root { get; } = System.IO.Directory.CreateTempSubdirectory("sky-prov-test-").FullName;

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Root, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
