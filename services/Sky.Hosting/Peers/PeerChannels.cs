using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Sky.Hosting.Identity;
using Sky.Hosting.Options;

namespace Sky.Hosting.Peers;

/// <summary>
/// gRPC channels to the services this host does not run, at the addresses given by <c>--peer</c>.
/// Services reach each other only through these channels, never through shared memory, so any
/// split of the five services over processes behaves the same. Calls carry the operator key
/// (hosts of one mesh share it) so a peer admits them.
/// </summary>
public sealed class PeerChannels(MeshOptions options, OperatorKey operatorKey, PeerHandlerFactory? handlers = null) : IDisposable
{
    private readonly ConcurrentDictionary<MeshService, GrpcChannel> _channels = new();

    public bool Has(MeshService service) => options.Peers.ContainsKey(service);

    public Uri? AddressOf(MeshService service) => options.Peers.GetValueOrDefault(service);

    /// <summary>The channel to <paramref name="service"/>'s peer; UNAVAILABLE when none is configured.</summary>
    public GrpcChannel For(MeshService service) =>
        _channels.GetOrAdd(service, s =>
        {
            var address = options.Peers.GetValueOrDefault(s)
                ?? throw new RpcException(new Status(StatusCode.Unavailable, $"no peer configured for '{s}': start this host with --peer {s}=http://host:port"));
            return BearerChannel.Create(address, operatorKey.Secret, handlers?.Create(address));
        });

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
