using System.Diagnostics;
using static Sky.Naming.Tests.DnsTestRecords;

namespace Sky.Naming.Tests;

/// <summary>The front-end as a person meets it: BIND's dig, when it is installed (it is not installed for the tests).</summary>
public sealed class DnsDigTests
{
    [SkippableFact]
    public async Task Dig_gets_srv_over_udp_and_tcp_and_a_refusal_outside_the_zone()
    {
        var dig = FindOnPath("dig");
        Skip.If(dig is null, "dig is not installed (apt-get install dnsutils)");

        var reader = new DictionaryRecordReader()
            .Add(RecordAt("pg-1.postgres.us-east-1.aws.sky", 60, Endpoint("10.0.0.1", 5432, priority: 10, weight: 5)))
            .Add(RecordAt("pg-2.postgres.us-east-1.aws.sky", 60, Endpoint("pg-2.db.example.net", 5432, priority: 20, weight: 5)));
        using var frontEnd = await StartAsync(reader);
        try
        {
            var port = frontEnd.Port.ToString();
            var udp = await RunAsync(dig!, "@127.0.0.1", "-p", port, "+short", "_postgres._tcp.us-east-1.aws.sky", "SRV");
            Assert.Equal(["10 5 5432 pg-1.postgres.us-east-1.aws.sky.", "20 5 5432 pg-2.db.example.net."], Lines(udp));

            var tcp = await RunAsync(dig!, "@127.0.0.1", "-p", port, "+tcp", "+short", "PG-1.postgres.us-east-1.aws.sky", "A");
            Assert.Equal(["10.0.0.1"], Lines(tcp));

            var refused = await RunAsync(dig!, "@127.0.0.1", "-p", port, "example.com", "A");
            Assert.Contains("status: REFUSED", refused);
            var missing = await RunAsync(dig!, "@127.0.0.1", "-p", port, "pg-9.postgres.us-east-1.aws.sky", "A");
            Assert.Contains("status: NXDOMAIN", missing);
            Assert.Contains("flags: qr aa", missing);
        }
        finally
        {
            await frontEnd.StopAsync(CancellationToken.None);
        }
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        // One try with a short timeout: a front-end that does not answer fails the test instead of stalling it.
        foreach (var arg in args.Append("+tries=1").Append("+time=5")) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}: {output}{await process.StandardError.ReadToEndAsync()}");
        return output;
    }
}
