using System.Diagnostics;
using Sky.Hosting.Identity;

namespace Sky.Integration.Tests;

/// <summary>A client in another language, generated from protos/ with Debian's python3-grpcio, calls a real host.</summary>
public sealed class PythonClientTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Sky.Mesh.sln not found above " + AppContext.BaseDirectory);
    }

    [SkippableFact]
    public async Task A_python_client_generated_from_the_protos_calls_the_host()
    {
        var probe = await Processes.RunAsync(new ProcessStartInfo("/usr/bin/python3", ["-c", "import grpc, grpc_tools"])
            { RedirectStandardOutput = true, RedirectStandardError = true });
        Skip.If(probe.Exit != 0, "/usr/bin/python3 lacks grpc or grpc_tools (apt-get install python3-grpcio python3-grpc-tools)");

        var root = RepoRoot();
        var stubs = System.IO.Directory.CreateTempSubdirectory("sky-py-").FullName;
        try
        {
            var gen = await Processes.RunAsync(new ProcessStartInfo("bash", [Path.Combine(root, "examples/python/generate.sh"), stubs])
                { RedirectStandardOutput = true, RedirectStandardError = true });
            Assert.True(gen.Exit == 0, gen.Err);

            var token = ApiKeys.NewSecret();
            await using var host = await Processes.Host.StartAsync("--operator-token", token);
            var target = new Uri(host.Grpc).Authority;
            var run = await Processes.RunAsync(new ProcessStartInfo("/usr/bin/python3",
                [Path.Combine(root, "examples/python/mesh_client.py"), target, token, stubs]) { RedirectStandardOutput = true, RedirectStandardError = true });
            Assert.True(run.Exit == 0, run.Out + run.Err);
            Assert.Contains("health sky.accounting.v1.Accounting SERVING", run.Out);
            Assert.Contains("reflection sky.directory.v1.Directory", run.Out);
            Assert.Contains("caller PRINCIPAL_KIND_OPERATOR", run.Out);
        }
        finally
        {
            System.IO.Directory.Delete(stubs, true);
        }
    }
}
