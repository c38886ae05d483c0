using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Placement.Api;
using Sky.Placement.Catalog;
using Sky.Placement.Engine;
using Sky.Placement.Providers;
using StackExchange.Redis;

namespace Sky.Placement;

public static class PlacementHosting
{
    /// <summary>Adds the placement service (`placement` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyPlacement(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(new PlacementOptions());
        services.AddSingleton<PeeringFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<PeeringFeed>());
        services.TryAddSingleton(sp => new JobPlanner(null, sp.GetRequiredService<PeeringFeed>().InForce));
        services.AddSingleton<IPlanStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisPlanStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryPlanStore(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DirectoryFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<DirectoryFeed>());
        services.TryAddSingleton(new SimOptions());
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisJobStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryJobStore());
        services.TryAddSingleton(sp => new ComputeProviders(
            new LocalProvider(sp.GetRequiredService<TimeProvider>()),
            new SimProvider(sp.GetRequiredService<SimOptions>(), sp.GetRequiredService<TimeProvider>())));
        services.AddSingleton<JobRunner>();
        services.AddSingleton<PlacementEngine>();
        return builder.AddSkyService(MeshService.Placement, endpoints => endpoints.MapGrpcService<PlacementApi>());
    }
}
