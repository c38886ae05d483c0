using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Sky.Common.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Health;
using Sky.Hosting.Identity;
using Sky.Hosting.Mesh;
using Sky.Hosting.Options;
using Sky.Hosting.Peers;
using Dapr.Client;
using Sky.Queues.Redis;
using StackExchange.Redis;

namespace Sky.Hosting;

/// <summary>A service of the mesh as added to a host: how to map its gRPC endpoints once the app is built.</summary>
public sealed record MeshServiceModule(MeshService Service, Action<IEndpointRouteBuilder> Map);

/// <summary>
/// Builds a host for any subset of the services. Each service adds itself with one extension
/// method (<c>builder.AddSkyDirectory()</c>) that calls <see cref="AddSkyService"/>; the host
/// then calls <see cref="MapSkyMesh"/>. Everything a service needs from its host is set up here, once.
/// </summary>
public static class SkyMesh
{
    public const string ReadyPrefix = "sky-mesh ready";
    public const string MeterName = "Sky.Mesh";
    private const string LocalTag = "local";

    public static WebApplicationBuilder CreateBuilder(MeshOptions options, OperatorKey? operatorKey = null, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [], ApplicationName = "Sky.Host" });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        // Start-up failures are rethrown to the caller, which reports them in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        var address = IPAddress.Parse(options.BindAddress == "localhost" ? "127.0.0.1" : options.BindAddress);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // gRPC needs HTTP/2 without TLS on loopback; JSON transcoding and /metrics get their own HTTP/1 port.
            k.Listen(address, options.GrpcPort, l => l.Protocols = HttpProtocols.Http2);
            k.Listen(address, options.HttpPort, l => l.Protocols = HttpProtocols.Http1);
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        var key = operatorKey ?? OperatorKey.Resolve(options);
        services.AddSingleton(key);

        AddStore(builder, options);
        services.AddSingleton(sp => new ApiKeyRegistry(
            sp.GetRequiredService<IApiKeyStore>(), sp.GetRequiredService<TimeProvider>(),
            [key.Record, .. ConfiguredKeys(builder.Configuration)]));
        services.AddSingleton(AccessPolicy.FromContracts());
        services.AddSingleton<AuthInterceptor>();
        AddEvents(builder, options);
        services.AddSingleton<PeerChannels>();

        services.AddGrpc(o =>
        {
            o.Interceptors.Add<AuthInterceptor>();
            o.EnableDetailedErrors = false;
        }).AddJsonTranscoding(o =>
            // Error details (google.rpc.*) travel as Any; the JSON writer must know their types.
            o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromFiles(
                [Google.Rpc.ErrorDetailsReflection.Descriptor, .. AccessPolicy.ContractFiles()]));
        services.AddGrpcReflection();

        var health = services.AddHealthChecks().AddCheck<HostLifetimeCheck>("host", tags: [LocalTag]);
        if (options.Store.IsRedis) health.AddCheck<RedisStoreCheck>("store", tags: [LocalTag]);
        foreach (var (service, _) in options.Peers)
            health.Add(new HealthCheckRegistration("peer:" + service.Name,
                sp => new PeerServiceCheck(sp.GetRequiredService<PeerChannels>(), service), HealthStatus.Unhealthy, [service.GrpcService]));
        services.AddGrpcHealthChecks(o =>
        {
            o.UseHealthChecksCache = false;
            // "" is this process as a whole; each service's name covers what serves it, here or at its peer.
            o.Services.Map("", r => r.Tags.Contains(LocalTag));
            foreach (var service in MeshService.All)
            {
                var local = options.Services.Contains(service);
                var peer = options.Peers.ContainsKey(service);
                if (local) o.Services.Map(service.GrpcService, r => r.Tags.Contains(LocalTag) || r.Tags.Contains(service.GrpcService));
                else if (peer) o.Services.Map(service.GrpcService, r => r.Tags.Contains(service.GrpcService));
            }
        });

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("sky-mesh", serviceVersion: MeshApi.Version)
                .AddAttributes([new("sky.services", string.Join(",", options.Services.OrderBy(s => s.Kind)))]))
            .WithMetrics(m => m
            .AddMeter(MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>Adds one of the five services; its <paramref name="map"/> runs in <see cref="MapSkyMesh"/>.</summary>
    public static WebApplicationBuilder AddSkyService(this WebApplicationBuilder builder, MeshService service, Action<IEndpointRouteBuilder> map)
    {
        var services = builder.Services;
        services.AddSingleton(new MeshServiceModule(service, map));
        // The service's outbox (keyed by its name): durable in the Redis store when there is one, swept by this host.
        services.AddKeyedSingleton(service.Name, (sp, _) => new EventOutbox(sp.GetRequiredService<IEventBus>(), sp.GetRequiredService<TimeProvider>(),
            service, sp.GetRequiredService<ILogger<EventOutbox>>(),
            sp.GetRequiredService<MeshOptions>().Store.IsRedis ? sp.GetRequiredService<IConnectionMultiplexer>() : null));
        services.AddSingleton<IHostedService>(sp => new OutboxSweeper(sp.GetRequiredKeyedService<EventOutbox>(service.Name),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OutboxSweeper>>()));
        return builder;
    }

    public static WebApplication MapSkyMesh(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<MeshOptions>();
        var modules = app.Services.GetServices<MeshServiceModule>().ToList();
        var missing = options.Services.Except(modules.Select(m => m.Service)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"services requested but not added to the host: {string.Join(", ", missing)}");
        app.MapGrpcService<MeshApi>();
        if (options.Events == "dapr")
            DaprEventBus.MapDaprSubscriptions(app, options.Services.SelectMany(Topics.ConsumedBy), Environment.GetEnvironmentVariable("APP_API_TOKEN"));
        foreach (var module in modules.Where(m => options.Services.Contains(m.Service))) module.Map(app);
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapPrometheusScrapingEndpoint("/metrics");

        if (options.Announce)
        {
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                var key = app.Services.GetRequiredService<OperatorKey>();
                if (key.WrittenTo is not null)
                    Console.WriteLine($"sky-mesh operator token written to {key.WrittenTo}");
                var (grpc, http) = BoundAddresses(app);
                Console.WriteLine($"{ReadyPrefix} grpc={grpc} http={http}");
            });
        }
        return app;
    }

    /// <summary>The gRPC and HTTP addresses actually bound (ports chosen by the OS when 0 was asked).</summary>
    public static (string Grpc, string Http) BoundAddresses(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        if (addresses.Count < 2) throw new InvalidOperationException("host is not listening on two ports");
        // Kestrel reports endpoints in the order they were configured: gRPC first, then HTTP.
        return (Loopback(addresses[0]), Loopback(addresses[1]));
    }

    /// <summary>A bound address as a client dials it (a wildcard bind is reached on loopback).</summary>
    internal static string Loopback(string address) => address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1");

    /// <summary>The event bus <c>--events</c> names, and where handled event ids are kept (the state store).</summary>
    private static void AddEvents(WebApplicationBuilder builder, MeshOptions options)
    {
        var services = builder.Services;
        if (options.Store.IsRedis)
            services.AddSingleton<IProcessedEvents>(sp => new RedisProcessedEvents(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>()));
        else services.AddSingleton<IProcessedEvents, MemoryProcessedEvents>();

        if (options.Events == "dapr")
        {
            // The sidecar's address comes from DAPR_GRPC_ENDPOINT / DAPR_GRPC_PORT, as Dapr sets them.
            services.AddSingleton(_ => new DaprClientBuilder().Build());
            services.AddSingleton<IEventBus, DaprEventBus>();
        }
        else if (options.Events.StartsWith("redis://", StringComparison.Ordinal))
        {
            services.AddSingleton(_ => new EventsRedis(ConnectionMultiplexer.Connect(RedisUri.ToConfiguration(new Uri(options.Events)))));
            services.AddSingleton<IEventBus>(sp => new RedisStreamsEventBus(
                sp.GetRequiredService<EventsRedis>().Connection, sp.GetRequiredService<IProcessedEvents>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RedisStreamsEventBus>>()));
        }
        else
        {
            services.AddSingleton<IEventBus>(sp => new InProcEventBus(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InProcEventBus>>()));
        }
    }

    /// <summary>The events' own Redis connection (it may be another server than the state store's); closed with the host.</summary>
    private sealed class EventsRedis(IConnectionMultiplexer connection) : IDisposable
    {
        public IConnectionMultiplexer Connection { get; } = connection;

        public void Dispose() => Connection.Dispose();
    }

    private static void AddStore(WebApplicationBuilder builder, MeshOptions options)
    {
        if (options.Store.IsRedis)
        {
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options.Store.RedisConfiguration!));
            builder.Services.AddSingleton<IApiKeyStore, RedisApiKeyStore>();
        }
        else
        {
            builder.Services.AddSingleton<IApiKeyStore, InMemoryApiKeyStore>();
        }
    }

    /// <summary>Keys listed in configuration (<c>Sky:ApiKeys:N:{Id,Kind,Scope,Sha256}</c>), by hash only.</summary>
    private static IEnumerable<ApiKeyRecord> ConfiguredKeys(IConfiguration configuration)
    {
        foreach (var section in configuration.GetSection("Sky:ApiKeys").GetChildren())
        {
            var id = section["Id"] ?? throw new InvalidOperationException($"{section.Path}: Id is required");
            var sha = section["Sha256"]?.ToLowerInvariant() ?? throw new InvalidOperationException($"{section.Path}: Sha256 is required");
            if (sha.Length != 64 || !sha.All(Uri.IsHexDigit)) throw new InvalidOperationException($"{section.Path}: Sha256 must be 64 hex digits");
            var kind = section["Kind"]?.ToLowerInvariant() switch
            {
                "provider" => PrincipalKind.Provider,
                "tenant" => PrincipalKind.Tenant,
                var other => throw new InvalidOperationException($"{section.Path}: Kind '{other}' is not provider or tenant"),
            };
            var scope = section["Scope"] ?? "";
            if (!ApiKeys.IsValidScope(scope)) throw new InvalidOperationException($"{section.Path}: Scope '{scope}' is not a valid name");
            yield return new ApiKeyRecord(id, sha, kind, scope, section["Description"] ?? "", DateTimeOffset.UnixEpoch, null, "config");
        }
    }
}
