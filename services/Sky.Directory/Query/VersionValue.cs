using System.Globalization;

namespace Sky.Directory.Query;

/// <summary>
/// A software version as the selector compares it: a semantic version where the text is one
/// ("v1", "16", "16.2", "3.7.0-rc.1+build"; missing parts read as 0, so "16" equals "16.0.0";
/// a pre-release sorts before its release), otherwise the lower-cased text, compared ordinally.
/// A semantic version and a non-numeric one compare as text.
/// </summary>
public sealed class VersionValue : IComparable<VersionValue>
{
    private static readonly long[] NoParts = [];

    /// <summary><see cref="Key"/> of a version that has none (not semantic, a pre-release, or parts too large).</summary>
    internal const long NoKey = -1;

    private VersionValue(string text, long[]? parts, string[]? preRelease)
    {
        Text = text;
        Parts = parts;
        PreRelease = preRelease;
        Key = KeyOf(parts, preRelease);
    }

    /// <summary>
    /// A release with at most three parts below 2^20, packed so that comparing keys is comparing versions
    /// ("16" and "16.0.0" share one); <see cref="NoKey"/> otherwise. Lets scans compare versions as numbers.
    /// </summary>
    internal long Key { get; }

    /// <summary>The version as written, lower case.</summary>
    public string Text { get; }

    /// <summary>Numeric parts of a semantic version; null when the text is not one.</summary>
    internal long[]? Parts { get; }

    /// <summary>Dot-separated pre-release identifiers ("rc.1" -> ["rc", "1"]); null for a release.</summary>
    internal string[]? PreRelease { get; }

    public bool IsSemantic => Parts is not null;

    public static VersionValue Parse(string text)
    {
        var lower = text.ToLowerInvariant();
        return TryParseSemantic(lower, out var parts, out var pre) ? new VersionValue(lower, parts, pre) : new VersionValue(lower, null, null);
    }

    public int CompareTo(VersionValue? other)
    {
        if (other is null) return 1;
        if (Parts is null || other.Parts is null) return string.CompareOrdinal(Text, other.Text);
        var n = Math.Max(Parts.Length, other.Parts.Length);
        for (var i = 0; i < n; i++)
        {
            var a = i < Parts.Length ? Parts[i] : 0;
            var b = i < other.Parts.Length ? other.Parts[i] : 0;
            if (a != b) return a < b ? -1 : 1;
        }
        return ComparePreRelease(PreRelease, other.PreRelease);
    }

    private static long KeyOf(long[]? parts, string[]? preRelease)
    {
        if (parts is null || preRelease is not null || parts.Length > 3) return NoKey;
        long key = 0;
        for (var i = 0; i < 3; i++)
        {
            var part = i < parts.Length ? parts[i] : 0;
            if (part >= 1 << 20) return NoKey;
            key = key << 20 | part;
        }
        return key;
    }

    public override string ToString() => Text;

    // Semantic versioning 2.0 section 11: a release outranks its pre-releases; identifiers compare
    // numerically when both are numbers, numbers sort before words, a longer list wins a tie.
    private static int ComparePreRelease(string[]? a, string[]? b)
    {
        if (a is null) return b is null ? 0 : 1;
        if (b is null) return -1;
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var aNumeric = long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out var x);
            var bNumeric = long.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out var y);
            int c;
            if (aNumeric && bNumeric) c = x.CompareTo(y);
            else if (aNumeric) c = -1;
            else if (bNumeric) c = 1;
            else c = string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c < 0 ? -1 : 1;
        }
        return a.Length.CompareTo(b.Length);
    }

    private static bool TryParseSemantic(string text, out long[] parts, out string[]? preRelease)
    {
        parts = NoParts;
        preRelease = null;
        var span = text.AsSpan();
        if (span.Length > 0 && span[0] == 'v') span = span[1..];
        var plus = span.IndexOf('+');
        if (plus >= 0) span = span[..plus];
        var dash = span.IndexOf('-');
        var core = dash >= 0 ? span[..dash] : span;
        if (core.Length == 0) return false;

        var list = new List<long>(3);
        foreach (var range in core.Split('.'))
        {
            var part = core[range];
            if (part.Length == 0 || !long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
            list.Add(value);
        }
        if (dash >= 0)
        {
            var pre = span[(dash + 1)..].ToString();
            if (pre.Length == 0) return false;
            preRelease = pre.Split('.');
            if (preRelease.Any(id => id.Length == 0)) return false;
        }
        parts = [.. list];
        return true;
    }
}
