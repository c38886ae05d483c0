namespace Sky.Naming.Domain;

/// <summary>
/// Arithmetic on canonical names as a tree: the names that enclose a name, subtree tests, and the
/// reversed-label key ("sky.aws.us-east-1") under which a whole subtree is one contiguous range.
/// </summary>
public static class NameTree
{
    /// <summary>
    /// The names enclosing <paramref name="canonical"/>, deepest first: the name itself when
    /// <paramref name="includeSelf"/>, then each parent up to the apex "&lt;provider&gt;.sky".
    /// </summary>
    public static IReadOnlyList<string> Enclosing(string canonical, bool includeSelf)
    {
        var names = new List<string>();
        if (includeSelf) names.Add(canonical);
        var current = canonical;
        // An apex "<provider>.sky" has one dot; nothing above it can be a zone.
        while (current.IndexOf('.') is var dot and >= 0 && current.IndexOf('.', dot + 1) >= 0)
        {
            current = current[(dot + 1)..];
            names.Add(current);
        }
        return names;
    }

    /// <summary>True when <paramref name="canonical"/> is <paramref name="under"/> or a name below it.</summary>
    public static bool IsAtOrUnder(string canonical, string under) =>
        canonical.Length == under.Length
            ? string.Equals(canonical, under, StringComparison.Ordinal)
            : canonical.Length > under.Length && canonical[^(under.Length + 1)] == '.' && canonical.EndsWith(under, StringComparison.Ordinal);

    /// <summary>The labels in reverse order ("pg-1.postgres.aws.sky" -> "sky.aws.postgres.pg-1"); its own inverse.</summary>
    public static string TreeKey(string canonical) => string.Join('.', canonical.Split('.').Reverse());

    /// <summary>The canonical name of a <see cref="TreeKey"/>.</summary>
    public static string FromTreeKey(string key) => TreeKey(key);

    /// <summary>The service name "&lt;service&gt;.&lt;region&gt;.&lt;provider&gt;.sky" an instance or lookup name belongs to.</summary>
    public static string ServiceOf(SkyName name) => name.Kind switch
    {
        SkyNameKind.Instance => string.Join('.', name.Labels.Skip(1)),
        SkyNameKind.Lookup => $"{name.Service}.{name.Region}.{name.Provider}.{SkyName.RootLabel}",
        _ => throw new ArgumentException($"'{name}' is neither an instance nor a lookup name", nameof(name)),
    };
}
