using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Hosting.Peering;
using Sky.Hosting.Pricing;
using Sky.Transfer.Api;
using Sky.Transfer.Execution;
using Sky.Transfer.Jobs;
using Sky.Transfer.Planning;
using Sky.Transfer.Storage;
using StackExchange.Redis;

namespace Sky.Transfer;

public static class TransferHosting
{
    /// <summary>Adds the transfer service (`transfer` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyTransfer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Transfer:PlanLifetime, :HeartbeatTtl, :ProgressInterval, :Copy:ChunkSize, ... (TransferOptions); defaults when unset.
        services.TryAddSingleton(sp => sp.GetRequiredService<IConfiguration>().GetSection("Transfer").Get<TransferOptions>() ?? new TransferOptions());
        PeeringFeed.AddTo(services, MeshService.Transfer);
        // The one pricing engine (margin, billing minimum from Pricing:), so a transfer's quote is what accounting bills.
        services.AddPricing();
        services.TryAddSingleton<TransferCatalog>();
        services.TryAddSingleton(sp => new TransferPlanner(new TransferPlannerOptions { TimeProvider = sp.GetRequiredService<TimeProvider>() }));
        // Endpoints and credentials of the object stores: Transfer:Storage:S3ServiceUrl, :AzureEndpoint, ... (ObjectStoreOptions).
        services.TryAddSingleton(sp => new ObjectStores(ObjectStoreOptions.FromConfiguration(
            sp.GetRequiredService<IConfiguration>().GetSection("Transfer:Storage")) with { Time = sp.GetRequiredService<TimeProvider>() }));
        // Transfers and their copy checkpoints live in the store: with Redis a transfer survives a kill -9 of its process
        // and resumes where it stopped, on this host after a restart or on another sharing the store.
        services.TryAddSingleton(TransferInstance.New());
        services.TryAddSingleton<ITransferStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisTransferStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TransferInstance>())
            : new MemoryTransferStore(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<TransferInstance>()));
        services.TryAddSingleton<ICopyCheckpointStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisCopyCheckpointStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryCopyCheckpointStore());
        services.TryAddSingleton(sp => new ObjectCopier(sp.GetRequiredService<ICopyCheckpointStore>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ObjectCopier>>()));
        services.TryAddSingleton<TransferRunner>();
        services.TryAddSingleton<TransferEngine>();
        services.AddHostedService<TransferRecovery>();
        return builder.AddSkyService(MeshService.Transfer, endpoints => endpoints.MapGrpcService<TransferApi>());
    }
}
