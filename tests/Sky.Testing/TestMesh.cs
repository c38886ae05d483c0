using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sky.Common.V1;
using Sky.Host;
using Sky.Hosting;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Sky.Mesh.V1;

namespace Sky.Testing;

/// <summary>
/// A mesh host of any subset of services running in this process on a TestServer (no sockets),
/// with typed clients. Peers are other TestMeshes, reached through their in-memory handlers.
/// </summary>
public sealed class TestMesh : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestServer _server;

    private TestMesh(WebApplication app, string operatorToken, MeshOptions options)
    {
        _app = app;
        _server = app.GetTestServer();
        OperatorToken = operatorToken;
        Options = options;
    }

    public string OperatorToken { get; }
    public MeshOptions Options { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a host. <paramref name="peers"/> maps services this host does not run to the meshes that run them.</summary>
    public static async Task<TestMesh> StartAsync(
        string services = "all",
        string store = "memory",
        IReadOnlyDictionary<string, TestMesh>? peers = null,
        Action<WebApplicationBuilder>? configure = null,
        string? operatorToken = null,
        string events = "inproc")
    {
        var local = MeshOptionParsing.ParseServices(services);
        var peerMeshes = (peers ?? new Dictionary<string, TestMesh>())
            .ToDictionary(p => MeshOptionParsing.ParsePeer($"{p.Key}=http://{p.Key}.peer.test").Key, p => p.Value);
        var options = new MeshOptions
        {
            Services = local,
            Store = StoreLocation.Parse(store),
            Events = MeshOptionParsing.ParseEvents(events),
            Peers = peerMeshes.ToDictionary(p => p.Key, p => new Uri($"http://{p.Key.Name}.peer.test")),
            Announce = false,
        };
        var token = operatorToken ?? ApiKeys.NewSecret();
        var builder = MeshHost.CreateBuilder(options, OperatorKey.FromSecret(token));
        builder.WebHost.UseTestServer();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        TestServer? self = null;
        builder.Services.AddSingleton(new PeerHandlerFactory(address => address == PeerChannels.SelfAddress
            ? self!.CreateHandler()
            : peerMeshes.First(p => address.Host.StartsWith(p.Key.Name + ".", StringComparison.Ordinal)).Value._server.CreateHandler()));
        configure?.Invoke(builder);
        var app = builder.Build().MapSkyMesh();
        self = app.GetTestServer();
        await app.StartAsync();
        return new TestMesh(app, token, options);
    }

    /// <summary>A channel that sends <paramref name="token"/> as the bearer key (none when null).</summary>
    public GrpcChannel Channel(string? token) =>
        GrpcChannel.ForAddress(_server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = new BearerHandler(token) { InnerHandler = _server.CreateHandler() },
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });

    /// <summary>A typed client, e.g. <c>mesh.Client&lt;Mesh.MeshClient&gt;()</c>; the operator's key unless another is given.</summary>
    public T Client<T>(string? token = "") where T : ClientBase<T> =>
        (T)Activator.CreateInstance(typeof(T), Channel(token == "" ? OperatorToken : token))!;

    /// <summary>An HTTP client for JSON transcoding and /metrics.</summary>
    public HttpClient Http(string? token = null)
    {
        var client = new HttpClient(new BearerHandler(token) { InnerHandler = _server.CreateHandler() }) { BaseAddress = _server.BaseAddress };
        return client;
    }

    /// <summary>Issues a provider or tenant key through the real RPC and returns the secret.</summary>
    public async Task<string> IssueKeyAsync(PrincipalKind kind, string scope)
    {
        var reply = await Client<Sky.Mesh.V1.Mesh.MeshClient>().CreateApiKeyAsync(new CreateApiKeyRequest { Kind = kind, Scope = scope });
        return reply.ApiKey;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class BearerHandler(string? token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (token is not null) request.Headers.TryAddWithoutValidation("authorization", "Bearer " + token);
            return base.SendAsync(request, ct);
        }
    }
}
