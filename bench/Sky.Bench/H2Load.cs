using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;

namespace Sky.Bench;

/// <summary>
/// Drives a unary gRPC method with h2load (nghttp2-client), a C load generator much lighter than a .NET
/// client, so on a 2-core machine more of the CPU is left to the server. The request is one framed
/// message (flag byte, 4-byte length, body). Absent h2load, callers fall back to the C# generator.
/// </summary>
public static partial class H2Load
{
    public static bool Available => File.Exists("/usr/bin/h2load") || File.Exists("/usr/local/bin/h2load");

    public sealed record Result(double PerSecond, long Succeeded, long Failed, double MeanMs);

    public static async Task<Result> RunAsync(Uri grpc, string method, IMessage request, string? token, TimeSpan duration, int clients = 4, int streams = 32)
    {
        var body = request.ToByteArray();
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, frame);
        try
        {
            var args = new List<string>
            {
                "-D", ((int)Math.Max(1, duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture), "--warm-up-time", "1",
                "-c", clients.ToString(CultureInfo.InvariantCulture), "-m", streams.ToString(CultureInfo.InvariantCulture),
                "-t", "1", "-d", file,
                "-H", "content-type: application/grpc", "-H", "te: trailers",
            };
            if (token is not null) args.AddRange(["-H", "authorization: Bearer " + token]);
            args.Add(new Uri(grpc, method).ToString());
            using var process = Process.Start(new ProcessStartInfo("h2load", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var rate = Rate().Match(output);
            var requests = Requests().Match(output);
            var mean = Mean().Match(output);
            if (!rate.Success || !requests.Success) throw new InvalidOperationException("h2load printed no figures:\n" + output);
            return new Result(
                double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
                long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
                long.Parse(requests.Groups[2].Value, CultureInfo.InvariantCulture),
                mean.Success ? MeanToMs(mean.Groups[1].Value, mean.Groups[2].Value) : double.NaN);
        }
        finally { File.Delete(file); }
    }

    private static double MeanToMs(string value, string unit) =>
        double.Parse(value, CultureInfo.InvariantCulture) * unit switch { "us" => 0.001, "ms" => 1, "s" => 1000, _ => double.NaN };

    [GeneratedRegex(@"finished in [0-9.]+\w+, ([0-9.]+) req/s")]
    private static partial Regex Rate();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed")]
    private static partial Regex Requests();

    [GeneratedRegex(@"time for request:\s+[0-9.]+\w+\s+[0-9.]+\w+\s+([0-9.]+)(us|ms|s)")]
    private static partial Regex Mean();
}
