using Microsoft.AspNetCore.Builder;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Transfer.Api;

namespace Sky.Transfer;

public static class TransferHosting
{
    /// <summary>Adds the transfer service (`transfer` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyTransfer(this WebApplicationBuilder builder) =>
        builder.AddSkyService(MeshService.Transfer, endpoints => endpoints.MapGrpcService<TransferApi>());
}
