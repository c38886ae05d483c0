using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sky.Directory.Api;
using Sky.Directory.Engine;
using Sky.Directory.Store;
using Sky.Hosting;
using Sky.Hosting.Options;
using StackExchange.Redis;

namespace Sky.Directory;

public static class DirectoryHosting
{
    /// <summary>Adds the directory service (`directory` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyDirectory(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(new DirectoryOptions());
        services.AddSingleton<IDirectoryLog>(sp =>
        {
            var store = sp.GetRequiredService<MeshOptions>().Store;
            return store.IsRedis
                ? new RedisDirectoryLog(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<DirectoryOptions>(), sp.GetRequiredService<ILogger<RedisDirectoryLog>>())
                : new MemoryDirectoryLog();
        });
        services.AddSingleton<DirectoryEngine>();
        services.AddHostedService<LeaseSweeper>();
        return builder.AddSkyService(MeshService.Directory, endpoints => endpoints.MapGrpcService<DirectoryApi>());
    }
}
