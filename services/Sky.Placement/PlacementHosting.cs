using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Hosting.Peering;
using Sky.Hosting.Pricing;
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
        PeeringFeed.AddTo(services, MeshService.Placement);
        services.TryAddSingleton(sp => new JobPlanner(null, sp.GetRequiredService<PeeringFeed>().InForce));
        services.AddSingleton<IPlanStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisPlanStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryPlanStore(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DirectoryFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<DirectoryFeed>());
        services.TryAddSingleton(new SimOptions());
        // Jobs record which process runs them (this one's instance) and their logs outlive it; with Redis both are
        // shared with every placement process on the store.
        services.TryAddSingleton(PlacementInstance.New());
        services.AddSingleton<IJobLogStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisJobLogStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<PlacementOptions>().LogMaxLines)
            : new MemoryJobLogStore(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PlacementOptions>().LogMaxLines));
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisJobStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<PlacementInstance>())
            : new MemoryJobStore(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PlacementInstance>(),
                (MemoryJobLogStore)sp.GetRequiredService<IJobLogStore>()));
        services.AddSingleton<OrphanedJobs>();
        services.AddHostedService<JobHeartbeat>();
        services.TryAddSingleton(sp => new ComputeProviders(
            new LocalProvider(sp.GetRequiredService<TimeProvider>()),
            new SimProvider(sp.GetRequiredService<SimOptions>(), sp.GetRequiredService<TimeProvider>())));
        services.AddPricing();
        services.TryAddSingleton<PlanQuotes>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<PlacementEngine>();
        return builder.AddSkyService(MeshService.Placement, endpoints => endpoints.MapGrpcService<PlacementApi>());
    }
}
