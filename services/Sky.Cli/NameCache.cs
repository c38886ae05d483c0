using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Sky.Naming.Domain;

namespace Sky.Cli;

/// <summary>
/// The client-side cache of <c>sky names resolve|lookup</c> answers, honouring the record TTL as a DNS
/// resolver would: one file per (mesh endpoint, kind, canonical name) under
/// <c>$SKY_STATE_DIR/cache/names</c> (else <c>~/.sky/cache/names</c>), valid from fetch time to fetch time + TTL.
/// An entry is never served outside that window (nor when the clock has gone back before its fetch time),
/// and a cache that cannot be read or written is a miss, never a failed command.
/// </summary>
public sealed class NameCache(string directory, TimeProvider time)
{
    /// <summary>The longest TTL a record may carry (naming.proto); a longer window in a file means the file is not ours.</summary>
    private static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);

    private static readonly JsonSerializerOptions FileJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Directory { get; } = directory;

    public static NameCache Default(TimeProvider time) => new(DefaultDirectory(), time);

    public static string DefaultDirectory()
    {
        var state = Environment.GetEnvironmentVariable("SKY_STATE_DIR");
        if (string.IsNullOrEmpty(state))
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sky");
        return Path.Combine(state, "cache", "names");
    }

    /// <summary>A cached answer and its validity window.</summary>
    public sealed record Hit<T>(T Response, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);

    /// <summary>The kinds of answer cached, so a name and a lookup name never share an entry.</summary>
    public const string Resolve = "resolve";
    public const string Lookup = "lookup";

    /// <summary>The answer for <paramref name="name"/> if one is cached and still fresh; null otherwise (or on any error).</summary>
    public Hit<T>? TryGet<T>(string endpoint, string kind, string name, MessageParser<T> parser) where T : IMessage<T>
    {
        try
        {
            if (Canonical(name) is not { } canonical) return null;
            var path = PathFor(endpoint, kind, canonical);
            if (!File.Exists(path)) return null;
            var entry = JsonSerializer.Deserialize<Entry>(File.ReadAllText(path), FileJson);
            if (entry is null || entry.Endpoint != endpoint || entry.Kind != kind || entry.Name != canonical) return null;
            var now = time.GetUtcNow();
            if (now < entry.FetchedAt || now >= entry.ExpiresAt || entry.ExpiresAt - entry.FetchedAt > MaxTtl) return null;
            return new Hit<T>(parser.ParseFrom(Convert.FromBase64String(entry.Response)), entry.FetchedAt, entry.ExpiresAt);
        }
        catch (Exception)
        {
            // Corrupt, unreadable or foreign files are misses: the cache only ever saves a round trip.
            return null;
        }
    }

    /// <summary>Stores an answer fetched at <paramref name="fetchedAt"/> (taken before the call was sent) for <paramref name="ttl"/>.</summary>
    public void Put(string endpoint, string kind, string name, IMessage response, DateTimeOffset fetchedAt, TimeSpan ttl)
    {
        try
        {
            if (ttl <= TimeSpan.Zero || ttl > MaxTtl || Canonical(name) is not { } canonical) return;
            System.IO.Directory.CreateDirectory(Directory);
            var entry = new Entry(endpoint, kind, canonical, fetchedAt, fetchedAt + ttl, Convert.ToBase64String(response.ToByteArray()));
            var path = PathFor(endpoint, kind, canonical);
            // Write aside and rename, so a concurrent reader sees the old entry or the new one, never half of one.
            var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(entry, FileJson));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception)
        {
            // A read-only or full disk costs only the next lookup's round trip.
        }
    }

    /// <summary>Drops what this client knows about a name it has just changed: its record and its service's lookup answer.</summary>
    public void Forget(string endpoint, string name)
    {
        try
        {
            if (!SkyName.TryParse(name, out var parsed, out _)) return;
            File.Delete(PathFor(endpoint, Resolve, parsed.Canonical));
            if (parsed.Kind == SkyNameKind.Instance)
                File.Delete(PathFor(endpoint, Lookup, $"_{parsed.Service}.{SkyName.LookupProtocolLabel}.{parsed.Region}.{parsed.Provider}.{SkyName.RootLabel}"));
        }
        catch (Exception)
        {
            // As above: a stale entry still expires at its TTL.
        }
    }

    /// <summary>The name as the service canonicalises it, so "PG-1.x.sky." and "pg-1.x.sky" share an entry; null if it does not parse.</summary>
    private static string? Canonical(string name) => SkyName.TryParse(name, out var parsed, out _) ? parsed.Canonical : null;

    private string PathFor(string endpoint, string kind, string canonical)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{endpoint}\n{kind}\n{canonical}"));
        return Path.Combine(Directory, Convert.ToHexStringLower(hash) + ".json");
    }

    private sealed record Entry(
        [property: JsonRequired] string Endpoint,
        [property: JsonRequired] string Kind,
        [property: JsonRequired] string Name,
        [property: JsonRequired] DateTimeOffset FetchedAt,
        [property: JsonRequired] DateTimeOffset ExpiresAt,
        [property: JsonRequired] string Response);
}
