using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sky.Naming.Dns;

/// <summary>Where the DNS front-end listens: one port for both UDP and TCP (0 picks a free one).</summary>
public sealed record DnsFrontEndOptions(string BindAddress = "127.0.0.1", int Port = 0, bool Announce = false);

/// <summary>
/// The naming service's DNS server: answers the "sky." zone (<see cref="SkyZoneResponder"/>) over UDP
/// and TCP on one port. UDP answers larger than the client's buffer (512 bytes, or its EDNS size) go
/// out truncated with TC=1 so the client retries over TCP. A port already in use fails start-up with
/// an <see cref="IOException"/> whose message names the port.
/// </summary>
public sealed partial class DnsFrontEnd(SkyZoneResponder responder, DnsFrontEndOptions options, TimeProvider time, ILogger<DnsFrontEnd> logger)
    : IHostedService, IDisposable
{
    public const string AnnouncePrefix = "sky-mesh dns";

    // How long one query may wait on the store before it is answered SERVFAIL (clients retry after ~5 s).
    private static readonly TimeSpan QueryBudget = TimeSpan.FromSeconds(4);
    private const int IoTimeoutMs = 5000;
    private const int TcpKeepAliveMs = 30_000;
    private const int FreePortAttempts = 10;

    private readonly CancellationTokenSource _stopping = new();
    private DnsServer? _server;

    /// <summary>The address and port bound (UDP and TCP alike); null until started.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The port bound; 0 until started.</summary>
    public int Port => EndPoint?.Port ?? 0;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = BindAddress(options.BindAddress);
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : FreePort(address);
            var endpoint = new IPEndPoint(address, port);
            var udp = new UdpServerTransport(endpoint, IoTimeoutMs);
            var tcp = new TcpServerTransport(endpoint, IoTimeoutMs, TcpKeepAliveMs);
            var server = new DnsServer(udp, tcp);
            server.QueryReceived += OnQueryAsync;
            server.ExceptionThrown += OnExceptionAsync;
            try
            {
                server.Start();
            }
            catch (SocketException ex)
            {
                udp.Dispose();
                tcp.Dispose();
                // A free port found for 0 can be taken by someone else before we bind it: try another.
                if (options.Port == 0 && ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < FreePortAttempts)
                    continue;
                var reason = ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? "is already in use" : "cannot be bound: " + ex.Message;
                throw new IOException($"dns port {port} (udp+tcp) on {address} {reason}", ex);
            }

            _server = server;
            EndPoint = endpoint;
            Log.Listening(logger, endpoint);
            if (options.Announce)
                Console.WriteLine($"{AnnouncePrefix} udp+tcp={Printable(endpoint)}");
            return Task.CompletedTask;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _server?.Stop();
        _server = null;
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _server?.Stop();
        _stopping.Dispose();
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is DnsUpdateMessage update)
        {
            // Dynamic updates (RFC 2136): the zone is written through the gRPC API only.
            var refused = update.CreateResponseInstance();
            refused.ReturnCode = ReturnCode.NotImplemented;
            e.Response = refused;
            return;
        }
        if (e.Query is not DnsMessage query)
            return;

        using var budget = new CancellationTokenSource(QueryBudget, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, _stopping.Token);
        try
        {
            e.Response = await responder.RespondAsync(query, linked.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.QueryFailed(logger, query.Questions.FirstOrDefault()?.ToString() ?? "(no question)", ex);
            var failure = query.CreateResponseInstance();
            failure.ReturnCode = ReturnCode.ServerFailure;
            e.Response = failure;
        }
    }

    private Task OnExceptionAsync(object sender, ExceptionEventArgs e)
    {
        // Malformed packets and clients that go away end up here; they concern the client, not the host.
        Log.TransportError(logger, e.Exception.Message);
        return Task.CompletedTask;
    }

    private static IPAddress BindAddress(string bind) =>
        bind == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(bind, out var address) ? address
        : throw new IOException($"dns: bind address '{bind}' is not an IP address");

    /// <summary>A port free for both UDP and TCP right now on <paramref name="address"/>.</summary>
    private static int FreePort(IPAddress address)
    {
        for (var attempt = 0; attempt < FreePortAttempts; attempt++)
        {
            using var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(address, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(address, port));
                return port;
            }
            catch (SocketException)
            {
                // The OS picked a UDP port whose TCP twin is taken: ask again.
            }
        }
        throw new IOException($"dns: no port free for both udp and tcp on {address}");
    }

    /// <summary>How to reach the server from this machine: a wildcard bind is reached on loopback.</summary>
    private static string Printable(IPEndPoint endpoint)
    {
        var address = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : endpoint.Address;
        return new IPEndPoint(address, endpoint.Port).ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "DNS front-end for sky. listening on {EndPoint} (udp+tcp)")]
        public static partial void Listening(ILogger logger, IPEndPoint endPoint);

        [LoggerMessage(Level = LogLevel.Warning, Message = "DNS query {Question} failed; answered SERVFAIL")]
        public static partial void QueryFailed(ILogger logger, string question, Exception exception);

        [LoggerMessage(Level = LogLevel.Debug, Message = "DNS transport: {Reason}")]
        public static partial void TransportError(ILogger logger, string reason);
    }
}
