using Grpc.Net.Client;
using Sky.Host;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;

namespace Sky.Cli;

/// <summary>
/// A channel to a mesh: the one at <c>--endpoint</c>, or, when none is given, a whole mesh started
/// in this process on embedded defaults (loopback, free ports, in-memory store) and stopped on dispose.
/// </summary>
public sealed class MeshConnection : IAsyncDisposable
{
    private readonly EmbeddedMesh? _embedded;

    private MeshConnection(GrpcChannel channel, string endpoint, EmbeddedMesh? embedded)
    {
        Channel = channel;
        Endpoint = endpoint;
        _embedded = embedded;
    }

    public GrpcChannel Channel { get; }
    public string Endpoint { get; }

    /// <summary>True for a mesh started in this process: it lives for one command, so nothing about it is worth caching.</summary>
    public bool IsEmbedded => _embedded is not null;

    public static async Task<MeshConnection> OpenAsync(string? endpoint, string? token, CancellationToken ct,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configureEmbedded = null)
    {
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                throw new CliException($"--endpoint '{endpoint}' is not an http(s) URL such as http://127.0.0.1:7100");
            return new MeshConnection(BearerChannel.Create(uri, token ?? ReadOperatorTokenFile()), uri.ToString().TrimEnd('/'), null);
        }

        var embedded = await MeshHost.StartEmbeddedAsync(new MeshOptions(), configureEmbedded, ct);
        return new MeshConnection(BearerChannel.Create(embedded.Grpc, token ?? embedded.OperatorToken), "in-process", embedded);
    }

    /// <summary>The key a host on this machine generated, if any: lets `sky` work against a local `sky-mesh` with no flags.</summary>
    private static string? ReadOperatorTokenFile()
    {
        var path = MeshOptions.DefaultOperatorTokenFile();
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (_embedded is not null) await _embedded.DisposeAsync();
    }
}

/// <summary>An error to print as one line (no stack trace) with a non-zero exit.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
