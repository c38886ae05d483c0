using Grpc.Health.V1;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Sky.Hosting.Peers;
using Sky.Hosting.Options;
using StackExchange.Redis;

namespace Sky.Hosting.Health;

/// <summary>Healthy once the host has started and until it begins to stop.</summary>
public sealed class HostLifetimeCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("stopping")
            : lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("starting"));
}

/// <summary>The Redis store answers PING.</summary>
public sealed class RedisStoreCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"redis ping {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("redis unreachable: " + ex.Message);
        }
    }
}

/// <summary>A service this host does not run is as healthy as its peer says it is (gRPC health, 2 s deadline).</summary>
public sealed class PeerServiceCheck(PeerChannels peers, MeshService service) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var client = new Grpc.Health.V1.Health.HealthClient(peers.For(service));
            var reply = await client.CheckAsync(new HealthCheckRequest { Service = service.GrpcService },
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? HealthCheckResult.Healthy($"peer {peers.AddressOf(service)}")
                : HealthCheckResult.Unhealthy($"peer {peers.AddressOf(service)} reports {reply.Status}");
        }
        catch (Grpc.Core.RpcException ex)
        {
            return HealthCheckResult.Unhealthy($"peer {peers.AddressOf(service)}: {ex.Status.StatusCode} {ex.Status.Detail}");
        }
    }
}
