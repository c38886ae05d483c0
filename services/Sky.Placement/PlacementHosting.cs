using Microsoft.AspNetCore.Builder;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Placement.Api;

namespace Sky.Placement;

public static class PlacementHosting
{
    /// <summary>Adds the placement service (`placement` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyPlacement(this WebApplicationBuilder builder) =>
        builder.AddSkyService(MeshService.Placement, endpoints => endpoints.MapGrpcService<PlacementApi>());
}
