using System.Globalization;
using Sky.Naming.V1;

namespace Sky.Cli.Commands;

/// <summary>
/// The <c>--target</c> URL of <c>sky names put</c>: <c>scheme://host:port[?weight=W&amp;priority=P]</c>, one
/// <see cref="RecordEndpoint"/>. Parsed by hand rather than with <see cref="Uri"/>, which fills in default
/// ports for known schemes and rewrites host names; a record must hold exactly what was typed.
/// </summary>
public static class RecordTarget
{
    private const string Shape = "scheme://host:port[?weight=W&priority=P]";

    public static RecordEndpoint Parse(string value)
    {
        var fail = (string why) => new FormatException($"--target: '{value}' {why} ({Shape})");

        var sep = value.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0) throw fail("has no scheme");
        var scheme = value[..sep].ToLowerInvariant();
        if (!char.IsAsciiLetter(scheme[0]) || !scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            throw fail($"has an invalid scheme '{scheme}'");

        var rest = value[(sep + 3)..];
        var queryAt = rest.IndexOf('?');
        var authority = (queryAt < 0 ? rest : rest[..queryAt]).TrimEnd('/');
        var query = queryAt < 0 ? "" : rest[(queryAt + 1)..];
        if (authority.Contains('/') || authority.Contains('@')) throw fail("has a path or user info; only host and port belong here");

        string host, port;
        if (authority.StartsWith('['))
        {
            // IPv6 literal: the record stores it without brackets (naming.proto).
            var close = authority.IndexOf(']');
            if (close < 0 || close + 1 >= authority.Length || authority[close + 1] != ':') throw fail("needs [ipv6]:port");
            host = authority[1..close];
            port = authority[(close + 2)..];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            if (colon < 0) throw fail("has no port");
            host = authority[..colon];
            port = authority[(colon + 1)..];
            if (host.Contains(':')) throw fail("has an IPv6 host without brackets");
        }
        if (host.Length == 0) throw fail("has no host");

        var endpoint = new RecordEndpoint { Scheme = scheme, Host = host, Port = Number(port, 1, "port") };
        var seen = new HashSet<string>();
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var text = eq < 0 ? "" : pair[(eq + 1)..];
            if (!seen.Add(key)) throw fail($"gives {key} twice");
            switch (key)
            {
                case "weight": endpoint.Weight = Number(text, 0, "weight"); break;
                case "priority": endpoint.Priority = Number(text, 0, "priority"); break;
                default: throw fail($"has an unknown parameter '{key}' (known: weight, priority)");
            }
        }
        return endpoint;

        int Number(string text, int min, string what)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > 65535)
                throw fail($"has {what} '{text}', not a number from {min} to 65535");
            return n;
        }
    }

    /// <summary>The endpoint written back as a URL, IPv6 hosts in brackets.</summary>
    public static string ToUrl(RecordEndpoint endpoint)
    {
        var host = endpoint.Host.Contains(':') ? $"[{endpoint.Host}]" : endpoint.Host;
        return $"{endpoint.Scheme}://{host}:{endpoint.Port}";
    }
}
