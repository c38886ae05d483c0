using System.Globalization;

namespace Sky.Accounting.Focus;

/// <summary>
/// How values are written in a FOCUS file: numbers as plain decimals (invariant, no exponent, no '+', FOCUS
/// NumericFormat), money exactly from integer nanos, date/times as <c>YYYY-MM-DDTHH:mm:ssZ</c>, units in FOCUS
/// UnitFormat ("Seconds", "GB").
/// </summary>
public static class FocusFormat
{
    public const string DateTimePattern = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const long NanosPerUnit = 1_000_000_000;

    /// <summary>Nanos of a currency unit as an exact decimal: 1_100_000 is "0.0011", -2_000_000_000 is "-2", 0 is "0".</summary>
    public static string Nanos(long nanos)
    {
        if (nanos == 0) return "0";
        // |long.MinValue| does not fit in a long; as a ulong it does.
        var magnitude = nanos < 0 ? (ulong)(-(nanos + 1)) + 1 : (ulong)nanos;
        ulong units = magnitude / NanosPerUnit, fraction = magnitude % NanosPerUnit;
        Span<char> text = stackalloc char[32];
        var n = 0;
        if (nanos < 0) text[n++] = '-';
        units.TryFormat(text[n..], out var written, default, CultureInfo.InvariantCulture);
        n += written;
        if (fraction != 0)
        {
            text[n++] = '.';
            fraction.TryFormat(text[n..], out written, "D9", CultureInfo.InvariantCulture);
            n += written;
            while (text[n - 1] == '0') n--;
        }
        return new string(text[..n]);
    }

    /// <summary>A decimal without exponent or trailing zeros ("3600.50" is "3600.5"; -0 is "0").</summary>
    public static string Decimal(decimal value)
    {
        var text = value.ToString(CultureInfo.InvariantCulture);
        if (text.Contains('.', StringComparison.Ordinal)) text = text.TrimEnd('0').TrimEnd('.');
        return text is "-0" or "" ? "0" : text;
    }

    /// <summary>A UTC date/time to the second: the start of an interval rounds down, so it still covers the instant.</summary>
    public static string Start(DateTimeOffset time) => Utc(Floor(time));

    /// <summary>A UTC date/time to the second: the (exclusive) end of an interval rounds up, so it still covers the instant.</summary>
    public static string End(DateTimeOffset time)
    {
        var floor = Floor(time);
        return Utc(floor == time.UtcDateTime ? floor : floor.AddSeconds(1));
    }

    private static DateTime Floor(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary><see cref="DateTimePattern"/> by hand: a custom format string is parsed on every call, and an export writes millions.</summary>
    private static string Utc(DateTime utc) => string.Create(20, utc, static (text, t) =>
    {
        Digits(text[..4], t.Year);
        text[4] = '-';
        Digits(text.Slice(5, 2), t.Month);
        text[7] = '-';
        Digits(text.Slice(8, 2), t.Day);
        text[10] = 'T';
        Digits(text.Slice(11, 2), t.Hour);
        text[13] = ':';
        Digits(text.Slice(14, 2), t.Minute);
        text[16] = ':';
        Digits(text.Slice(17, 2), t.Second);
        text[19] = 'Z';
    });

    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--, value /= 10) into[i] = (char)('0' + value % 10);
    }

    /// <summary>
    /// A contract unit ("second", "gb", ...; see accounting.proto) in FOCUS UnitFormat: plural time units, data size
    /// abbreviations, plural count units; any other unit is capitalized as a noun. Null for an empty unit.
    /// </summary>
    public static string? Unit(string unit) => unit switch
    {
        "" => null,
        "second" => "Seconds",
        "minute" => "Minutes",
        "hour" => "Hours",
        "day" => "Days",
        "month" => "Months",
        "byte" => "B",
        "kb" => "KB",
        "mb" => "MB",
        "gb" => "GB",
        "tb" => "TB",
        "gib" => "GiB",
        "tib" => "TiB",
        "request" => "Requests",
        _ => char.ToUpperInvariant(unit[0]) + unit[1..],
    };

    /// <summary>
    /// How many <paramref name="to"/> make one <paramref name="from"/> when both are time units or both are data sizes
    /// ("second" to "hour" is 1/3600); null when they do not convert.
    /// </summary>
    public static decimal? UnitRatio(string from, string to)
    {
        if (from == to) return 1m;
        return Size(from) is { } a && Size(to) is { } b && a.Family == b.Family ? a.Scale / b.Scale : null;
    }

    private static (int Family, decimal Scale)? Size(string unit) => unit switch
    {
        "second" => (0, 1m),
        "minute" => (0, 60m),
        "hour" => (0, 3600m),
        "day" => (0, 86_400m),
        "byte" => (1, 1m),
        "kb" => (1, 1e3m),
        "mb" => (1, 1e6m),
        "gb" => (1, 1e9m),
        "tb" => (1, 1e12m),
        "gib" => (1, 1_073_741_824m),
        "tib" => (1, 1_099_511_627_776m),
        _ => null,
    };
}
