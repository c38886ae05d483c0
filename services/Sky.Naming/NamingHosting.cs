using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Naming.Api;
using Sky.Naming.Domain;
using Sky.Naming.Store;
using StackExchange.Redis;

namespace Sky.Naming;

public static class NamingHosting
{
    /// <summary>Adds the naming service (`naming` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyNaming(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // One store instance serves the gRPC handlers and, as IRecordReader, the DNS front-end.
        services.TryAddSingleton<INamingStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisNamingStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new InMemoryNamingStore());
        services.TryAddSingleton<IRecordReader>(sp => sp.GetRequiredService<INamingStore>());
        services.TryAddSingleton<NameRegistry>();
        builder.AddSkyNamingDns(); // the DNS front-end for "sky.", when --dns-port is set
        return builder.AddSkyService(MeshService.Naming, endpoints => endpoints.MapGrpcService<NamingApi>());
    }
}
