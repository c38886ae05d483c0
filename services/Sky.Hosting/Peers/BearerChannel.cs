using Grpc.Core;
using Grpc.Net.Client;

namespace Sky.Hosting.Peers;

/// <summary>A gRPC channel whose every call carries <c>authorization: Bearer KEY</c>; used by the CLI and by hosts calling peers.</summary>
public static class BearerChannel
{
    public static GrpcChannel Create(Uri address, string? token, HttpMessageHandler? handler = null)
    {
        var options = new GrpcChannelOptions { HttpHandler = handler };
        if (!string.IsNullOrWhiteSpace(token))
        {
            var secret = token.Trim();
            var credentials = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + secret);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(
                address.Scheme == "https" ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, credentials);
            // Loopback and cluster-internal peers speak plain HTTP/2; the key still has to travel.
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }
        return GrpcChannel.ForAddress(address, options);
    }
}
