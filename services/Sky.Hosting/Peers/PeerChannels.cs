using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;

namespace Sky.Hosting.Peers;

/// <summary>
/// gRPC channels to the other services: to the addresses given by <c>--peer</c>, or, for a service this host runs
/// itself, to this host's own gRPC port. Services reach each other only through these channels, never through shared
/// memory, so any split of the five services over processes behaves the same. Calls carry the operator key (hosts of
/// one mesh share it) so a peer admits them.
/// </summary>
public sealed class PeerChannels(MeshOptions options, OperatorKey operatorKey, IServer server, IHostApplicationLifetime lifetime,
    PeerHandlerFactory? handlers = null) : IDisposable
{
    /// <summary>The address a host without sockets (a test server) gives itself; its handler factory must serve it.</summary>
    public static readonly Uri SelfAddress = new("http://self.peer.test");

    private readonly ConcurrentDictionary<MeshService, GrpcChannel> _channels = new();

    public bool Has(MeshService service) => options.Peers.ContainsKey(service);

    public Uri? AddressOf(MeshService service) => options.Peers.GetValueOrDefault(service);

    /// <summary>True when <paramref name="service"/> can be called: this host runs it or a peer is configured.</summary>
    public bool CanReach(MeshService service) => options.Services.Contains(service) || Has(service);

    /// <summary>The channel to <paramref name="service"/>, here or at its peer; UNAVAILABLE when neither.</summary>
    public GrpcChannel For(MeshService service) =>
        _channels.GetOrAdd(service, s =>
        {
            var address = options.Peers.GetValueOrDefault(s)
                ?? (options.Services.Contains(s) ? Self()
                : throw new RpcException(new Status(StatusCode.Unavailable, $"no peer configured for '{s}': start this host with --peer {s}=http://host:port")));
            return BearerChannel.Create(address, operatorKey.Secret, handlers?.Create(address));
        });

    // Kestrel lists the gRPC endpoint first (see SkyMesh.BoundAddresses) once it is listening; a test server lists none.
    private Uri Self()
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
            throw new RpcException(new Status(StatusCode.Unavailable, "this host has not started listening yet"));
        var first = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return first is null ? SelfAddress : new Uri(SkyMesh.Loopback(first));
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values) channel.Dispose();
    }
}

/// <summary>Lets tests route peer calls to an in-memory server instead of a socket.</summary>
public sealed class PeerHandlerFactory(Func<Uri, HttpMessageHandler> create)
{
    public HttpMessageHandler Create(Uri address) => create(address);
}
