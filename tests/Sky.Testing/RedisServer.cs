using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using Xunit;

namespace Sky.Testing;

/// <summary>
/// A real Redis for tests: <c>SKY_TEST_REDIS</c> (redis://host:port) if set, else a <c>redis-server</c>
/// started on a free loopback port with AOF in a temporary folder, else none: tests then skip and say why.
/// Each test gets its own database number so tests do not see each other's keys.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private string? _dir;

    public string? Endpoint { get; private set; }
    public string? SkipReason { get; private set; }

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("SKY_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Endpoint = configured.TrimEnd('/');
            return;
        }
        var server = FindOnPath("redis-server");
        if (server is null)
        {
            SkipReason = "no Redis: SKY_TEST_REDIS is unset and redis-server is not installed (apt-get install redis-server)";
            return;
        }
        var port = FreePort();
        _dir = System.IO.Directory.CreateTempSubdirectory("sky-redis-").FullName;
        _process = Process.Start(new ProcessStartInfo(server,
            ["--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "yes", "--dir", _dir, "--databases", "256"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Endpoint = $"redis://127.0.0.1:{port}";
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) { await Task.Delay(50); }
        }
        SkipReason = $"redis-server on port {port} did not answer";
    }

    /// <summary>
    /// A store URI on a fresh database: numbers are handed out by INCR on database 0, so parallel
    /// test processes never share one (the server needs <c>--databases 256</c>, as CI starts it).
    /// </summary>
    public async Task<string> NewDatabaseAsync()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var uri = new Uri(Endpoint!);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port},allowAdmin=true");
        var db = (int)(await redis.GetDatabase(0).StringIncrementAsync("sky:test:next-db") % 255) + 1;
        await redis.GetDatabase(db).ExecuteAsync("FLUSHDB");
        return $"{Endpoint}/{db}";
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        if (_dir is not null) try { System.IO.Directory.Delete(_dir, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
