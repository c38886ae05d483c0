using Microsoft.AspNetCore.Builder;
using Sky.Hosting;
using Sky.Hosting.Options;
using Sky.Accounting.Api;

namespace Sky.Accounting;

public static class AccountingHosting
{
    /// <summary>Adds the accounting service (`accounting` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyAccounting(this WebApplicationBuilder builder) =>
        builder.AddSkyService(MeshService.Accounting, endpoints => endpoints.MapGrpcService<AccountingApi>());
}
