using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Sky.Host;
using Sky.Mesh.V1;

namespace Sky.Bench;

/// <summary>
/// The floor every service's figures are compared with: a host on loopback sockets answering
/// (a) gRPC health checks (no key, no work) and (b) GetMeshInfo (key checked, small answer).
/// </summary>
public static class GrpcFloor
{
    public static async Task RunAsync(Figures figures, TimeSpan duration)
    {
        await using var host = await MeshHost.StartEmbeddedAsync();
        using var channel = GrpcChannel.ForAddress(host.Grpc, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var health = new Health.HealthClient(channel);
        var mesh = new Sky.Mesh.V1.Mesh.MeshClient(channel);
        var auth = new Metadata { { "authorization", "Bearer " + host.OperatorToken } };
        const int workers = 64;
        var warmup = TimeSpan.FromSeconds(1);

        var empty = await Load.RunAsync(async () => await health.CheckAsync(new HealthCheckRequest()), workers, duration, warmup);
        figures.Add("health_calls_per_s", empty.PerSecond, 0);
        figures.Add("health_p50_ms", empty.P50Ms, 3);
        figures.Add("health_p99_ms", empty.P99Ms, 3);

        var authed = await Load.RunAsync(async () => await mesh.GetMeshInfoAsync(new GetMeshInfoRequest(), auth), workers, duration, warmup);
        figures.Add("mesh_info_calls_per_s", authed.PerSecond, 0);
        figures.Add("mesh_info_p50_ms", authed.P50Ms, 3);
        figures.Add("mesh_info_p99_ms", authed.P99Ms, 3);
        figures.Add("mesh_info_to_health_ratio", authed.PerSecond / empty.PerSecond, 3);
        figures.Add("workers", workers, 0);
        figures.Add("cores", Environment.ProcessorCount, 0);
    }
}
