using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Sky.Accounting;
using Sky.Directory;
using Sky.Hosting;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Naming;
using Sky.Placement;
using Sky.Transfer;

namespace Sky.Host;

/// <summary>Composes a host from <see cref="MeshOptions"/>: the one place that knows all five services.</summary>
public static class MeshHost
{
    /// <summary>A builder with the requested services added; <paramref name="configure"/> may swap parts (tests do).</summary>
    public static WebApplicationBuilder CreateBuilder(MeshOptions options, OperatorKey? operatorKey = null, string[]? args = null)
    {
        var builder = SkyMesh.CreateBuilder(options, operatorKey, args);
        foreach (var service in options.Services)
        {
            _ = service.Kind switch
            {
                Sky.Mesh.V1.ServiceKind.Naming => builder.AddSkyNaming(),
                Sky.Mesh.V1.ServiceKind.Directory => builder.AddSkyDirectory(),
                Sky.Mesh.V1.ServiceKind.Placement => builder.AddSkyPlacement(),
                Sky.Mesh.V1.ServiceKind.Transfer => builder.AddSkyTransfer(),
                Sky.Mesh.V1.ServiceKind.Accounting => builder.AddSkyAccounting(),
                _ => throw new ArgumentOutOfRangeException(nameof(options), service.Kind, "unknown service"),
            };
        }
        return builder;
    }

    public static WebApplication Build(MeshOptions options, OperatorKey? operatorKey = null, string[]? args = null) =>
        CreateBuilder(options, operatorKey, args).Build().MapSkyMesh();

    /// <summary>
    /// The whole mesh on embedded defaults, started in this process on free loopback ports with a fresh
    /// operator key and only errors logged: what `sky` runs when given no endpoint, and what benchmarks drive.
    /// </summary>
    public static Task<EmbeddedMesh> StartEmbeddedAsync(CancellationToken ct = default) => StartEmbeddedAsync(new MeshOptions(), ct);

    /// <summary>As above with other <paramref name="options"/> (e.g. a Redis store); ports are always free ones.</summary>
    public static async Task<EmbeddedMesh> StartEmbeddedAsync(MeshOptions options, CancellationToken ct = default) =>
        await StartEmbeddedAsync(options, null, ct);

    /// <summary>As above, with <paramref name="configure"/> swapping parts before the host is built (e.g. no built-in catalog).</summary>
    public static async Task<EmbeddedMesh> StartEmbeddedAsync(MeshOptions options, Action<WebApplicationBuilder>? configure, CancellationToken ct = default)
    {
        var secret = ApiKeys.NewSecret();
        var builder = CreateBuilder(options with { GrpcPort = 0, HttpPort = 0, Announce = false }, OperatorKey.FromSecret(secret));
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        // The process's standard output belongs to its command (sky --json): the mesh logs to standard error.
        builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        configure?.Invoke(builder);
        var app = builder.Build().MapSkyMesh();
        await app.StartAsync(ct);
        var (grpc, http) = SkyMesh.BoundAddresses(app);
        return new EmbeddedMesh(app, new Uri(grpc), new Uri(http), secret);
    }
}

/// <summary>A mesh running in this process; disposing stops it.</summary>
public sealed class EmbeddedMesh(WebApplication app, Uri grpc, Uri http, string operatorToken) : IAsyncDisposable
{
    public Uri Grpc { get; } = grpc;
    public Uri Http { get; } = http;
    public string OperatorToken { get; } = operatorToken;

    /// <summary>The host's services, for benchmarks that load data in process before driving it over gRPC.</summary>
    public IServiceProvider Services => app.Services;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
