using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Pricing.Tests;

/// <summary>Builds directory grid entries for tests.</summary>
internal static class Grids
{
    public static EgressPrice Egress(string src, string dst, params (long UpToGb, decimal Price)[] tiers)
    {
        var entry = new EgressPrice { Src = Location(src), Dst = Location(dst) };
        entry.Tiers.AddRange(tiers.Select(t => new EgressTier { UpToGb = t.UpToGb, PricePerGb = Money.FromDecimal(t.Price, "USD") }));
        return entry;
    }

    public static Throughput Rate(string src, string dst, long bitsPerSecond) =>
        new() { Src = Location(src), Dst = Location(dst), BitsPerSecond = bitsPerSecond };

    /// <summary>"provider/region" or "provider" (any region).</summary>
    public static Location Location(string text)
    {
        var parts = text.Split('/');
        return new Location { Provider = parts[0], Region = parts.Length > 1 ? parts[1] : "" };
    }
}
