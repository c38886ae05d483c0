using Microsoft.Extensions.Hosting;
using Sky.Host;

return await HostCommand.Create(async (options, ct) =>
{
    var app = MeshHost.Build(options);
    await app.StartAsync(ct);
    await app.WaitForShutdownAsync(ct);
    return 0;
}).Parse(args).InvokeAsync();
