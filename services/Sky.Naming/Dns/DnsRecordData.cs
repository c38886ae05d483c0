using System.Net;
using System.Net.Sockets;
using System.Text;
using Sky.Naming.V1;

namespace Sky.Naming.Dns;

/// <summary>How a naming record reads in DNS terms: its TTL, its IP-literal hosts and its TXT strings.</summary>
public static class DnsRecordData
{
    /// <summary>The TTL of a record whose ttl is unset (naming.proto: "Unset means 60 s").</summary>
    public const int DefaultTtlSeconds = 60;

    /// <summary>The longest string one TXT character-string can carry.</summary>
    public const int MaxTxtStringBytes = 255;

    public static int TtlSeconds(Record record) =>
        record.Ttl is null ? DefaultTtlSeconds : (int)Math.Clamp(record.Ttl.Seconds, 0, int.MaxValue);

    /// <summary>The address an endpoint host spells literally, or null when the host is a DNS name.</summary>
    public static IPAddress? IpLiteral(string host)
    {
        if (!IPAddress.TryParse(host, out var address))
            return null;
        return address.AddressFamily switch
        {
            // IPAddress.TryParse also reads "10" or "10.1" as IPv4; a literal in a record is a dotted quad.
            AddressFamily.InterNetwork => host.Count(c => c == '.') == 3 ? address : null,
            // A scoped address (fe80::1%eth0) means nothing to a remote resolver.
            AddressFamily.InterNetworkV6 => host.Contains('%') ? null : address,
            _ => null,
        };
    }

    /// <summary>
    /// The TXT strings of a record, RFC 6763 style: "api_version=…", "software_version=…" (each only
    /// when set), then the attributes as "key=value" in ordinal key order.
    /// </summary>
    public static IReadOnlyList<string> TxtStrings(Record record)
    {
        var strings = new List<string>();
        if (record.ApiVersion.Length > 0) strings.Add("api_version=" + record.ApiVersion);
        if (record.SoftwareVersion.Length > 0) strings.Add("software_version=" + record.SoftwareVersion);
        foreach (var (key, value) in record.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            strings.Add(key + "=" + value);
        return strings;
    }

    /// <summary>
    /// TXT RDATA for <paramref name="strings"/>, each a length-prefixed UTF-8 character-string. The
    /// library's TxtRecord writes ASCII only, so values outside ASCII would arrive as '?'. A string over
    /// 255 bytes is left out rather than cut (the naming service admits none). No strings gives the one
    /// empty string RFC 6763 section 6.1 asks for.
    /// </summary>
    public static byte[] TxtRdata(IEnumerable<string> strings)
    {
        var rdata = new List<byte>();
        foreach (var text in strings)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length > MaxTxtStringBytes)
                continue;
            rdata.Add((byte)bytes.Length);
            rdata.AddRange(bytes);
        }
        if (rdata.Count == 0)
            rdata.Add(0);
        return [.. rdata];
    }
}
