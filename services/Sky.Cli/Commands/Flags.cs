using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Sky.Common.V1;

namespace Sky.Cli.Commands;

/// <summary>
/// Parsing of flag values the option types cannot express (locations, durations, key=value pairs), and
/// the rule that a bad flag is one "sky: ..." line and exit 2, found before any mesh is contacted.
/// Parsers throw <see cref="FormatException"/> whose message names the flag.
/// </summary>
public static partial class Flags
{
    /// <summary>Parses the flags first (a bad one exits 2, a missing file 1, without touching the mesh), then runs the body.</summary>
    public static Task<int> RunAsync<T>(ParseResult parse, CancellationToken ct, Func<T> flags, Func<MeshConnection, bool, T, Task<int>> body,
        Func<T, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>?>? configureEmbedded = null)
    {
        T parsed;
        try
        {
            parsed = flags();
        }
        catch (FormatException ex)
        {
            CliContext.Fail(ex.Message);
            return Task.FromResult(2);
        }
        catch (CliException ex)
        {
            CliContext.Fail(ex.Message);
            return Task.FromResult(ex.ExitCode);
        }
        return CliContext.RunAsync(parse, ct, (mesh, json) => body(mesh, json, parsed), configureEmbedded?.Invoke(parsed));
    }

    /// <summary>
    /// "PROVIDER[/REGION[/ZONE]]", lower-cased as the contracts spell locations. <paramref name="minParts"/> is 1
    /// when a provider alone will do, 2 when a region is required.
    /// </summary>
    public static Location ParseLocation(string flag, string value, int minParts = 1)
    {
        var parts = value.Trim().ToLowerInvariant().Split('/');
        var shape = minParts == 2 ? "PROVIDER/REGION[/ZONE]" : "PROVIDER[/REGION[/ZONE]]";
        if (parts.Length < minParts || parts.Length > 3 || parts.Any(p => p.Length == 0 || p.Any(char.IsWhiteSpace)))
            throw new FormatException($"{flag}: '{value}' is not {shape}, e.g. aws/us-east-1");
        return new Location
        {
            Provider = parts[0],
            Region = parts.Length > 1 ? parts[1] : "",
            Zone = parts.Length > 2 ? parts[2] : "",
        };
    }

    /// <summary>"30s", "5m", "1h30m", "250ms", or a bare number of seconds.</summary>
    public static TimeSpan ParseDuration(string flag, string value)
    {
        var text = value.Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return TimeSpan.FromSeconds(seconds);
        var match = DurationPattern().Match(text);
        if (!match.Success)
            throw new FormatException($"{flag}: '{value}' is not a duration such as 30s, 5m or 1h30m");
        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitAt = part.Value.IndexOfAny(['h', 'm', 's']);
            var amount = long.Parse(part.Value[..unitAt], CultureInfo.InvariantCulture);
            total += part.Value[unitAt..] switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                _ => TimeSpan.FromMilliseconds(amount),
            };
        }
        return total;
    }

    /// <summary>Repeated "key=value" flags as a map; a key given twice is an error rather than a silent overwrite.</summary>
    public static Dictionary<string, string> ParsePairs(string flag, IEnumerable<string> values)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0) throw new FormatException($"{flag}: '{value}' is not key=value");
            var key = value[..eq];
            if (!pairs.TryAdd(key, value[(eq + 1)..])) throw new FormatException($"{flag}: key '{key}' is given twice");
        }
        return pairs;
    }

    /// <summary>A comma-separated list such as "aws,gcp", lower-cased, without empties or duplicates.</summary>
    public static List<string> ParseList(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => v.ToLowerInvariant()).Distinct().ToList();

    [GeneratedRegex(@"^(?<part>\d+(?:h|ms|m|s))+$")]
    private static partial Regex DurationPattern();
}
