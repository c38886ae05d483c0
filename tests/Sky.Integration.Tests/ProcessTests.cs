using System.Text.Json;
using Grpc.Net.Client;
using Sky.Hosting.Identity;

namespace Sky.Integration.Tests;

/// <summary>The README's promises, checked on the real programs over real sockets.</summary>
public sealed class ProcessTests
{
    private static readonly string[] Five = ["naming", "directory", "placement", "transfer", "accounting"];

    private static string[] Statuses(string json, out string[] services)
    {
        var rows = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        services = rows.Select(r => r.GetProperty("service").GetString()!).ToArray();
        return rows.Select(r => r.GetProperty("status").GetString()!).ToArray();
    }

    [Fact]
    public async Task The_host_prints_its_ready_line_and_the_cli_sees_all_five_serving()
    {
        var token = ApiKeys.NewSecret();
        await using var host = await Processes.Host.StartAsync("--operator-token", token);
        var (exit, stdout, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "health", "--endpoint", host.Grpc, "--token", token, "--json"));
        Assert.True(exit == 0, stderr);
        Assert.All(Statuses(stdout, out var services), s => Assert.Equal("SERVING", s));
        Assert.Equal(Five, services);
    }

    [Fact]
    public async Task Two_host_processes_split_the_services_and_serve_all_five_between_them()
    {
        var token = ApiKeys.NewSecret();
        await using var a = await Processes.Host.StartAsync("--services", "naming,directory", "--operator-token", token);
        await using var b = await Processes.Host.StartAsync("--services", "placement,transfer,accounting", "--operator-token", token,
            "--peer", $"naming={a.Grpc}", "--peer", $"directory={a.Grpc}");
        var (exit, stdout, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "health", "--endpoint", b.Grpc, "--token", token, "--json"));
        Assert.True(exit == 0, stderr);
        Assert.All(Statuses(stdout, out _), s => Assert.Equal("SERVING", s));
    }

    [Fact]
    public async Task Sky_health_with_no_endpoint_runs_an_in_process_mesh()
    {
        var (exit, stdout, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "health", "--json"));
        Assert.True(exit == 0, stderr);
        Assert.All(Statuses(stdout, out var services), s => Assert.Equal("SERVING", s));
        Assert.Equal(Five, services);
    }

    [Fact]
    public async Task Sky_version_reports_client_and_server()
    {
        var (exit, stdout, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "version", "--json"));
        Assert.True(exit == 0, stderr);
        var doc = JsonDocument.Parse(stdout).RootElement;
        Assert.Matches(@"^\d+\.\d+\.\d+$", doc.GetProperty("client").GetString());
        Assert.Equal(doc.GetProperty("client").GetString(), doc.GetProperty("server").GetString());
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_one_clear_line_and_a_non_zero_exit()
    {
        var (exit, stdout, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "version", "--endpoint", "http://127.0.0.1:9", "--token", "x"));
        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout.Trim());
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("sky: cannot reach the mesh at http://127.0.0.1:9", line);
    }

    [Fact]
    public async Task A_wrong_token_is_reported_as_such()
    {
        var token = ApiKeys.NewSecret();
        await using var host = await Processes.Host.StartAsync("--operator-token", token);
        var (exit, _, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "version", "--endpoint", host.Grpc, "--token", "sky_wrong"));
        Assert.Equal(1, exit);
        Assert.Contains("unknown or revoked API key", stderr);
    }

    [Fact]
    public async Task Bad_host_flags_are_one_line_and_exit_2()
    {
        var (exit, _, stderr) = await Processes.RunAsync(Processes.Dotnet("sky-mesh", "--services", "naming,billing"));
        Assert.Equal(2, exit);
        Assert.Equal("sky-mesh: --services: unknown service 'billing' (known: all, naming, directory, placement, transfer, accounting)", stderr.Trim());
    }

    [Fact]
    public async Task Without_an_operator_token_the_host_writes_one_to_a_private_file()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("sky-token-").FullName;
        var file = Path.Combine(dir, "operator-token");
        try
        {
            await using var host = await Processes.Host.StartAsync("--operator-token-file", file);
            var token = (await File.ReadAllTextAsync(file)).Trim();
            Assert.StartsWith("sky_", token);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var (exit, _, stderr) = await Processes.RunAsync(Processes.Dotnet("sky", "version", "--endpoint", host.Grpc, "--token", token));
            Assert.True(exit == 0, stderr);
        }
        finally
        {
            System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task The_operator_mints_a_tenant_key_with_the_cli_and_the_tenant_cannot_list_keys()
    {
        var token = ApiKeys.NewSecret();
        await using var host = await Processes.Host.StartAsync("--operator-token", token);
        var created = await Processes.RunAsync(Processes.Dotnet("sky", "keys", "create", "--kind", "tenant", "--scope", "acme",
            "--endpoint", host.Grpc, "--token", token, "--json"));
        Assert.True(created.Exit == 0, created.Err);
        var tenantKey = JsonDocument.Parse(created.Out).RootElement.GetProperty("api_key").GetString()!;

        var version = await Processes.RunAsync(Processes.Dotnet("sky", "version", "--endpoint", host.Grpc, "--token", tenantKey));
        Assert.True(version.Exit == 0, version.Err);

        var denied = await Processes.RunAsync(Processes.Dotnet("sky", "keys", "list", "--endpoint", host.Grpc, "--token", tenantKey));
        Assert.Equal(1, denied.Exit);
        Assert.StartsWith("sky: PermissionDenied: /sky.mesh.v1.Mesh/ListApiKeys is open to operator; the caller is tenant 'acme'", denied.Err.Trim());

        var listed = await Processes.RunAsync(Processes.Dotnet("sky", "keys", "list", "--endpoint", host.Grpc, "--token", token, "--json"));
        var scopes = JsonDocument.Parse(listed.Out).RootElement.EnumerateArray().Select(k => k.GetProperty("scope").GetString()).ToList();
        Assert.Contains("acme", scopes);
        Assert.DoesNotContain(tenantKey, listed.Out);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_and_exit_1()
    {
        await using var first = await Processes.Host.StartAsync("--operator-token", "sky_x");
        var port = new Uri(first.Grpc).Port.ToString();
        var (exit, _, stderr) = await Processes.RunAsync(Processes.Dotnet("sky-mesh", "--grpc-port", port, "--http-port", "0", "--operator-token", "sky_x"));
        Assert.Equal(1, exit);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("cannot listen on 127.0.0.1", line);
        Assert.Contains("address already in use", line);
    }
}
