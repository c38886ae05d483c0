using Microsoft.AspNetCore.Builder;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Directory.Api;

namespace Sky.Directory;

public static class DirectoryHosting
{
    /// <summary>Adds the directory service (`directory` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyDirectory(this WebApplicationBuilder builder) =>
        builder.AddSkyService(MeshService.Directory, endpoints => endpoints.MapGrpcService<DirectoryApi>());
}
