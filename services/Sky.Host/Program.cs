using Microsoft.Extensions.Hosting;
using Sky.Host;

return await HostCommand.Create(async (options, ct) =>
{
    var app = MeshHost.Build(options);
    try
    {
        await app.StartAsync(ct);
    }
    catch (IOException ex)
    {
        // Typically a port in use: say which, in one line, rather than a stack trace.
        Console.Error.WriteLine($"sky-mesh: cannot listen on {options.BindAddress} (grpc {options.GrpcPort}, http {options.HttpPort}): {ex.Message}");
        return 1;
    }
    await app.WaitForShutdownAsync(ct);
    return 0;
}).Parse(args).InvokeAsync();
