using System.Diagnostics;
using Grpc.Net.Client;
using Sky.Hosting.Identity;
using Sky.Hosting.Peers;

namespace Sky.Integration.Tests;

/// <summary>
/// One real <c>sky-mesh</c> process shared by a class of CLI tests, and a way to run the real <c>sky</c>
/// against it with its own state folder (so the name cache of one test never meets another's, nor ~/.sky).
/// </summary>
public sealed class CliHost : IAsyncLifetime
{
    private Processes.Host? _host;
    private readonly List<string> _stateDirs = [];

    public string Token { get; } = ApiKeys.NewSecret();
    public string Grpc => _host!.Grpc;

    public async Task InitializeAsync() => _host = await Processes.Host.StartAsync("--operator-token", Token);

    public async Task DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        foreach (var dir in _stateDirs)
        {
            try { System.IO.Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A fresh folder for SKY_STATE_DIR, deleted with the host.</summary>
    public string NewStateDir()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("sky-cli-state-").FullName;
        lock (_stateDirs) _stateDirs.Add(dir);
        return dir;
    }

    /// <summary><c>sky ARGS --endpoint HOST --token OPERATOR</c> with SKY_STATE_DIR set.</summary>
    public ProcessStartInfo Sky(string stateDir, params string[] args)
    {
        var psi = Processes.Dotnet("sky", [.. args, "--endpoint", Grpc, "--token", Token]);
        psi.Environment["SKY_STATE_DIR"] = stateDir;
        return psi;
    }

    public Task<(int Exit, string Out, string Err)> RunAsync(string stateDir, params string[] args) => Processes.RunAsync(Sky(stateDir, args));

    /// <summary>An operator channel to the host, for arranging state the CLI has no command for (e.g. registering offers).</summary>
    public GrpcChannel Channel() => BearerChannel.Create(new Uri(Grpc), Token);
}
