namespace Sky.Directory.Query;

/// <summary>
/// A glob over lower-case text: <c>*</c> matches any run of characters (also none), <c>?</c> exactly one;
/// every other character matches itself.
/// </summary>
public sealed class Glob
{
    private readonly string pattern;
    private readonly string? prefix;

    public Glob(string pattern)
    {
        this.pattern = pattern.ToLowerInvariant();
        // "eu-*" (the common case) is a prefix test.
        var star = this.pattern.IndexOf('*');
        if (star >= 0 && star == this.pattern.Length - 1 && this.pattern.IndexOf('?') < 0) prefix = this.pattern[..star];
    }

    public string Pattern => pattern;

    /// <summary>Matches lower-case text (the caller lower-cases; OfferView holds lower-case values).</summary>
    public bool Matches(string text)
    {
        if (prefix is not null) return text.StartsWith(prefix, StringComparison.Ordinal);
        // Iterative matching with one backtrack point: linear for patterns with a single star, O(n*m) at worst.
        int t = 0, p = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { t++; p++; }
            else if (p < pattern.Length && pattern[p] == '*') { starP = p++; starT = t; }
            else if (starP >= 0) { p = starP + 1; t = ++starT; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    public override string ToString() => pattern;
}
