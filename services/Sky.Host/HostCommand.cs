using System.CommandLine;
using Sky.Hosting.Options;

namespace Sky.Host;

/// <summary>The host's command line. Every flag maps to one <see cref="MeshOptions"/> property.</summary>
public static class HostCommand
{
    public static RootCommand Create(Func<MeshOptions, CancellationToken, Task<int>> run)
    {
        var services = new Option<string>("--services") { Description = "Services to run: 'all' or a list such as naming,directory", DefaultValueFactory = _ => "all" };
        var store = new Option<string>("--store") { Description = "State store: 'memory' or redis://host:port[/db]", DefaultValueFactory = _ => "memory" };
        var events = new Option<string>("--events") { Description = "Event transport: 'inproc', redis://host:port[/db] (Redis Streams, no sidecar) or 'dapr' (through the Dapr sidecar's pub/sub)", DefaultValueFactory = _ => "inproc" };
        var grpcPort = new Option<int>("--grpc-port") { Description = "HTTP/2 port for gRPC; 0 picks a free port", DefaultValueFactory = _ => MeshOptions.DefaultGrpcPort };
        var httpPort = new Option<int>("--http-port") { Description = "HTTP/1 port for JSON transcoding and /metrics; 0 picks a free port", DefaultValueFactory = _ => MeshOptions.DefaultHttpPort };
        var dnsPort = new Option<int?>("--dns-port") { Description = "UDP+TCP port for DNS answers of the sky. zone (with naming); 0 picks a free port; off when absent" };
        var bind = new Option<string>("--bind") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var peers = new Option<string[]>("--peer") { Description = "Where a service this host does not run is served: service=http://host:port (repeatable)", AllowMultipleArgumentsPerToken = false };
        var token = new Option<string?>("--operator-token") { Description = "The operator's API key (else SKY_OPERATOR_TOKEN; else one is generated and its file path printed)" };
        var tokenFile = new Option<string>("--operator-token-file") { Description = "Where a generated operator key is written", DefaultValueFactory = _ => MeshOptions.DefaultOperatorTokenFile() };

        var root = new RootCommand("sky-mesh: serves any subset of the Sky.Mesh services (naming, directory, placement, transfer, accounting) over gRPC.")
        {
            services, store, events, grpcPort, httpPort, dnsPort, bind, peers, token, tokenFile,
        };
        root.SetAction(async (parse, ct) =>
        {
            MeshOptions options;
            try
            {
                var local = MeshOptionParsing.ParseServices(parse.GetValue(services)!);
                options = new MeshOptions
                {
                    Services = local,
                    Store = StoreLocation.Parse(parse.GetValue(store)!),
                    Events = MeshOptionParsing.ParseEvents(parse.GetValue(events)!),
                    GrpcPort = MeshOptionParsing.ParsePort("--grpc-port", parse.GetValue(grpcPort)),
                    HttpPort = MeshOptionParsing.ParsePort("--http-port", parse.GetValue(httpPort)),
                    DnsPort = parse.GetValue(dnsPort) is int dns ? MeshOptionParsing.ParsePort("--dns-port", dns) : null,
                    BindAddress = parse.GetValue(bind)!,
                    Peers = MeshOptionParsing.ParsePeers(parse.GetValue(peers) ?? [], local),
                    OperatorToken = parse.GetValue(token),
                    OperatorTokenFile = parse.GetValue(tokenFile)!,
                };
            }
            catch (FormatException ex)
            {
                Console.Error.WriteLine("sky-mesh: " + ex.Message);
                return 2;
            }
            return await run(options, ct);
        });
        return root;
    }
}
