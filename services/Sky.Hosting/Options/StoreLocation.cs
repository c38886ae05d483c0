using Sky.Queues.Redis;

namespace Sky.Hosting.Options;

/// <summary>The state store a host uses: in memory (embedded default) or Redis.</summary>
public sealed record StoreLocation(string Kind, string? RedisConfiguration)
{
    public static readonly StoreLocation Memory = new("memory", null);

    public bool IsRedis => Kind == "redis";

    /// <summary>Parses <c>memory</c> or <c>redis://[:password@]host:port[/db]</c>.</summary>
    public static StoreLocation Parse(string value)
    {
        if (string.Equals(value, "memory", StringComparison.OrdinalIgnoreCase)) return Memory;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != "redis" || string.IsNullOrEmpty(uri.Host))
            throw new FormatException($"store '{value}' is neither 'memory' nor a redis://host:port URI");
        return new("redis", RedisUri.ToConfiguration(uri));
    }

    public override string ToString() => IsRedis ? $"redis({RedisConfiguration})" : Kind;
}
