using Microsoft.AspNetCore.Builder;
using Sky.Accounting;
using Sky.Directory;
using Sky.Hosting;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;
using Sky.Naming;
using Sky.Placement;
using Sky.Transfer;

namespace Sky.Host;

/// <summary>Composes a host from <see cref="MeshOptions"/>: the one place that knows all five services.</summary>
public static class MeshHost
{
    /// <summary>A builder with the requested services added; <paramref name="configure"/> may swap parts (tests do).</summary>
    public static WebApplicationBuilder CreateBuilder(MeshOptions options, OperatorKey? operatorKey = null, string[]? args = null)
    {
        var builder = SkyMesh.CreateBuilder(options, operatorKey, args);
        foreach (var service in options.Services)
        {
            _ = service.Kind switch
            {
                Sky.Mesh.V1.ServiceKind.Naming => builder.AddSkyNaming(),
                Sky.Mesh.V1.ServiceKind.Directory => builder.AddSkyDirectory(),
                Sky.Mesh.V1.ServiceKind.Placement => builder.AddSkyPlacement(),
                Sky.Mesh.V1.ServiceKind.Transfer => builder.AddSkyTransfer(),
                Sky.Mesh.V1.ServiceKind.Accounting => builder.AddSkyAccounting(),
                _ => throw new ArgumentOutOfRangeException(nameof(options), service.Kind, "unknown service"),
            };
        }
        return builder;
    }

    public static WebApplication Build(MeshOptions options, OperatorKey? operatorKey = null, string[]? args = null) =>
        CreateBuilder(options, operatorKey, args).Build().MapSkyMesh();
}
