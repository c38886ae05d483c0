using System.Diagnostics;
using System.Text.Json;

namespace Sky.Bench;

/// <summary>The figures a benchmark measured: printed as `name: value` lines and written as one flat JSON object.</summary>
public sealed class Figures
{
    private readonly Dictionary<string, object> _values = new();

    public void Add(string name, double value, int decimals = 2) => _values[name] = Math.Round(value, decimals);
    public void Add(string name, string value) => _values[name] = value;

    public void Write(string path)
    {
        foreach (var (name, value) in _values) Console.WriteLine($"{name}: {value}");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(_values, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}

/// <summary>Runs an async call from many concurrent workers for a fixed time and reports rate and latency percentiles.</summary>
public static class Load
{
    /// <summary>The p-quantile (0..1) of an ascending list; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];

    public sealed record Result(long Calls, double Seconds, double P50Ms, double P99Ms)
    {
        public double PerSecond => Calls / Seconds;
    }

    public static async Task<Result> RunAsync(Func<Task> call, int workers, TimeSpan duration, TimeSpan warmup)
    {
        await RunCoreAsync(call, workers, warmup, record: false);
        return await RunCoreAsync(call, workers, duration, record: true);
    }

    private static async Task<Result> RunCoreAsync(Func<Task> call, int workers, TimeSpan duration, bool record)
    {
        var latencies = new List<double>[workers];
        var stop = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(async w =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            while (stop.Elapsed < duration)
            {
                var t = Stopwatch.GetTimestamp();
                await call();
                if (record) mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }).ToArray();
        await Task.WhenAll(tasks);
        var seconds = stop.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return all.Length == 0 ? new Result(0, seconds, 0, 0)
            : new Result(all.Length, seconds, all[(int)(all.Length * 0.50)], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);
    }
}
