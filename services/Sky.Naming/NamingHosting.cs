using Microsoft.AspNetCore.Builder;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Naming.Api;

namespace Sky.Naming;

public static class NamingHosting
{
    /// <summary>Adds the naming service (`naming` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyNaming(this WebApplicationBuilder builder) =>
        builder.AddSkyService(MeshService.Naming, endpoints => endpoints.MapGrpcService<NamingApi>());
}
