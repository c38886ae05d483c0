using System.Globalization;
using System.Text.RegularExpressions;

namespace Sky.Deploy.Tests;

/// <summary>Kubernetes resource quantities (<c>500m</c>, <c>2</c>, <c>96Mi</c>, <c>1G</c>) as exact decimals.</summary>
public static class Quantity
{
    private static readonly Dictionary<string, decimal> Suffixes = new(StringComparer.Ordinal)
    {
        [""] = 1m, ["m"] = 0.001m, ["k"] = 1e3m, ["M"] = 1e6m, ["G"] = 1e9m, ["T"] = 1e12m,
        ["Ki"] = 1024m, ["Mi"] = 1024m * 1024, ["Gi"] = 1024m * 1024 * 1024, ["Ti"] = 1024m * 1024 * 1024 * 1024,
    };

    private static readonly Regex Shape = new(@"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$");

    public static decimal Parse(string text)
    {
        var match = Shape.Match(text);
        if (!match.Success || !Suffixes.TryGetValue(match.Groups[2].Value, out var scale))
            throw new FormatException($"'{text}' is not a Kubernetes quantity");
        return decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * scale;
    }
}

/// <summary>Go durations as Dapr reads them (<c>5s</c>, <c>500ms</c>, <c>1m30s</c>).</summary>
public static class GoDuration
{
    private static readonly Regex Part = new(@"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)");

    public static TimeSpan Parse(string text)
    {
        var parts = Part.Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text)
            throw new FormatException($"'{text}' is not a Go duration such as 5s, 500ms or 1m30s");
        var ticks = 0m;
        foreach (Match part in parts)
        {
            var value = decimal.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += value * part.Groups[2].Value switch
            {
                "ns" => 0.01m,
                "us" or "µs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }
        return TimeSpan.FromTicks((long)ticks);
    }
}
