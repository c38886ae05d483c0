namespace Sky.Hosting.Options;

/// <summary>How one host process is shaped: which services it runs, what backs them, and where it listens.</summary>
public sealed record MeshOptions
{
    public const int DefaultGrpcPort = 7100;
    public const int DefaultHttpPort = 7101;

    /// <summary>Services this host serves.</summary>
    public IReadOnlySet<MeshService> Services { get; init; } = MeshService.All.ToHashSet();

    /// <summary>State store: <c>memory</c> or a <c>redis://host:port</c> URI.</summary>
    public StoreLocation Store { get; init; } = StoreLocation.Memory;

    /// <summary>Event transport: <c>inproc</c> (more arrive with the events issue).</summary>
    public string Events { get; init; } = "inproc";

    /// <summary>HTTP/2 (gRPC) port; 0 picks a free one.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>HTTP/1 port for JSON transcoding and <c>/metrics</c>; 0 picks a free one.</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>Address both ports bind to.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>UDP+TCP port of the naming service's DNS front-end for the "sky." zone; null = off, 0 picks a free one.</summary>
    public int? DnsPort { get; init; }

    /// <summary>Where the services this host does not run are served (<c>--peer directory=http://…</c>).</summary>
    public IReadOnlyDictionary<MeshService, Uri> Peers { get; init; } = new Dictionary<MeshService, Uri>();

    /// <summary>The operator's API key; when null the host generates one and writes it to <see cref="OperatorTokenFile"/>.</summary>
    public string? OperatorToken { get; init; }

    /// <summary>Where a generated operator key is written (mode 0600).</summary>
    public string OperatorTokenFile { get; init; } = DefaultOperatorTokenFile();

    /// <summary>Print the ready line and the token-file line to standard output.</summary>
    public bool Announce { get; init; } = true;

    public static string DefaultOperatorTokenFile()
    {
        var state = Environment.GetEnvironmentVariable("SKY_STATE_DIR");
        if (string.IsNullOrEmpty(state))
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sky");
        return Path.Combine(state, "operator-token");
    }
}
