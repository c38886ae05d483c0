namespace Sky.Placement.Providers;

/// <summary>
/// Where nodes run, or what a failure blocks: a provider, a region of it, or a zone of that region
/// (aws, aws/us-east-1, aws/us-east-1/us-east-1a). Names are lower case, as in the catalogs, so two
/// spellings of one place compare equal. Named so as not to clash with <c>Sky.Common.V1.Location</c>,
/// which the gRPC adapter maps it to.
/// </summary>
public sealed record CloudLocation
{
    public CloudLocation(string provider, string? region = null, string? zone = null)
    {
        Provider = Normalize(provider, nameof(provider)) ?? throw new ArgumentException("a location needs a provider", nameof(provider));
        Region = Normalize(region, nameof(region));
        Zone = Normalize(zone, nameof(zone));
        if (Zone is not null && Region is null) throw new ArgumentException($"zone '{Zone}' needs a region", nameof(zone));
    }

    /// <summary>Reads <c>provider[/region[/zone]]</c>, e.g. "aws/us-east-1/us-east-1a".</summary>
    public static CloudLocation Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length > 3 || parts.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"location '{text}': expected provider[/region[/zone]] with no empty part", nameof(text));
        return new(parts[0], parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2));
    }

    /// <summary>This machine: the location of every <see cref="LocalProvider"/> node.</summary>
    public static CloudLocation Local { get; } = new("local", "local");

    public string Provider { get; }
    public string? Region { get; }
    public string? Zone { get; }

    /// <summary>The region this location is in (itself when it names no zone); the provider when it names no region.</summary>
    public CloudLocation RegionScope => Zone is null ? this : new(Provider, Region);

    /// <summary>The whole provider.</summary>
    public CloudLocation ProviderScope => Region is null ? this : new(Provider);

    /// <summary>True when <paramref name="other"/> lies inside this scope (a provider covers its regions, a region its zones).</summary>
    public bool Covers(CloudLocation other) =>
        Provider == other.Provider
        && (Region is null || Region == other.Region)
        && (Zone is null || Zone == other.Zone);

    public override string ToString() => Zone is not null ? $"{Provider}/{Region}/{Zone}" : Region is not null ? $"{Provider}/{Region}" : Provider;

    private static string? Normalize(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var trimmed = name.Trim();
        if (trimmed.Contains('/')) throw new ArgumentException($"{what} '{trimmed}' must not contain '/'", what);
        return trimmed.ToLowerInvariant();
    }
}
