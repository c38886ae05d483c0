using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Sky.Hosting.Options;
using Sky.Naming.Dns;
using Sky.Naming.Domain;

// In the service's root namespace, beside AddSkyNaming, which calls it.
namespace Sky.Naming;

/// <summary>Adds the DNS front-end of the "sky." zone to a host that runs the naming service.</summary>
public static class DnsHosting
{
    /// <summary>Adds the front-end when the host's <see cref="MeshOptions.DnsPort"/> is set (<c>--dns-port</c>); otherwise nothing.</summary>
    public static WebApplicationBuilder AddSkyNamingDns(this WebApplicationBuilder builder)
    {
        var mesh = builder.Services.LastOrDefault(d => d.ServiceType == typeof(MeshOptions))?.ImplementationInstance as MeshOptions;
        return mesh?.DnsPort is int port
            ? builder.AddSkyNamingDns(new DnsFrontEndOptions(mesh.BindAddress, port, mesh.Announce))
            : builder;
    }

    /// <summary>Adds the front-end with explicit options; it reads records through the host's <see cref="IRecordReader"/>.</summary>
    public static WebApplicationBuilder AddSkyNamingDns(this WebApplicationBuilder builder, DnsFrontEndOptions options)
    {
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new SkyZoneResponder(sp.GetRequiredService<IRecordReader>()));
        builder.Services.AddSingleton<DnsFrontEnd>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DnsFrontEnd>());
        return builder;
    }
}
