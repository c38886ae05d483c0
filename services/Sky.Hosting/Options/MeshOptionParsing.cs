namespace Sky.Hosting.Options;

/// <summary>Parses the values of the host's flags; errors name the flag and the bad value.</summary>
public static class MeshOptionParsing
{
    /// <summary><c>all</c> or a comma-separated list of service names.</summary>
    public static IReadOnlySet<MeshService> ParseServices(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new FormatException("--services: name at least one service, or 'all'");
        if (names is ["all"]) return MeshService.All.ToHashSet();
        var set = new HashSet<MeshService>();
        foreach (var name in names)
        {
            var service = MeshService.Find(name) ?? throw new FormatException(
                $"--services: unknown service '{name}' (known: all, {string.Join(", ", MeshService.All)})");
            set.Add(service);
        }
        return set;
    }

    /// <summary>One <c>service=http://host:port</c> pair.</summary>
    public static KeyValuePair<MeshService, Uri> ParsePeer(string value)
    {
        var eq = value.IndexOf('=');
        if (eq <= 0) throw new FormatException($"--peer: '{value}' is not service=http://host:port");
        var name = value[..eq].Trim();
        var service = MeshService.Find(name)
            ?? throw new FormatException($"--peer: unknown service '{name}' (known: {string.Join(", ", MeshService.All)})");
        if (!Uri.TryCreate(value[(eq + 1)..].Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new FormatException($"--peer: '{value[(eq + 1)..]}' is not an http(s) URL");
        return new(service, uri);
    }

    public static IReadOnlyDictionary<MeshService, Uri> ParsePeers(IEnumerable<string> values, IReadOnlySet<MeshService> local)
    {
        var peers = new Dictionary<MeshService, Uri>();
        foreach (var value in values)
        {
            var (service, uri) = ParsePeer(value);
            if (local.Contains(service)) throw new FormatException($"--peer: this host already serves '{service}'");
            if (!peers.TryAdd(service, uri)) throw new FormatException($"--peer: '{service}' given twice");
        }
        return peers;
    }

    /// <summary>Checks <c>--events</c>: <c>inproc</c>, <c>dapr</c> or <c>redis://[:password@]host:port[/db]</c>.</summary>
    public static string ParseEvents(string value)
    {
        if (value is "inproc" or "dapr") return value;
        if (value.StartsWith("redis://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                throw new FormatException($"--events: '{Redact(value)}' is not a redis://host:port URI");
            try { Sky.Queues.Redis.RedisUri.ToConfiguration(uri); }
            catch (FormatException e) { throw new FormatException($"--events: {e.Message}"); }
            return value;
        }
        throw new FormatException($"--events: '{Redact(value)}' is not one of inproc, redis://host:port[/db], dapr");
    }

    /// <summary>A store or events URI without its password, for logs and GetMeshInfo.</summary>
    public static string Redact(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/')
            : value;

    public static int ParsePort(string flag, int value) =>
        value is >= 0 and <= 65535 ? value : throw new FormatException($"{flag}: {value} is not a port (0..65535; 0 picks a free one)");
}
