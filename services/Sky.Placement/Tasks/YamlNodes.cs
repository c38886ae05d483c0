using System.Globalization;
using System.Text;

namespace Sky.Placement.Tasks;

/// <summary>What a scalar means once resolved as PyYAML (YAML 1.1, which SkyPilot reads with) resolves it.</summary>
public enum YamlScalarKind
{
    Null,
    Bool,
    Int,
    Float,
    String,
}

/// <summary>
/// A node of a task YAML with the 1-based line and column it starts at. Fields Sky.Mesh does not act on are
/// kept as these trees, so nothing a user wrote is lost. Aliases share one node, so a tree may be a DAG; the
/// reader bounds its expanded size.
/// </summary>
public abstract record YamlValue(int Line, int Column)
{
    /// <summary>Nodes in this tree with aliases expanded (1 for a scalar).</summary>
    internal long ExpandedSize { get; init; } = 1;

    /// <summary>The tree as one line of flow-style YAML.</summary>
    public sealed override string ToString()
    {
        var text = new StringBuilder();
        Write(text);
        return text.ToString();
    }

    internal abstract void Write(StringBuilder text);

    /// <summary>"a mapping", "a list", "null", "a number"... for error messages.</summary>
    internal abstract string Describe();
}

/// <summary>A scalar: its text as written (without quotes) and what it resolves to.</summary>
public sealed record YamlScalar(string Text, YamlScalarKind Kind, int Line, int Column) : YamlValue(Line, Column)
{
    public bool IsNull => Kind == YamlScalarKind.Null;

    /// <summary>True or false for a YAML 1.1 boolean (true/false/yes/no/on/off in any of their three casings).</summary>
    public bool TryGetBool(out bool value)
    {
        value = false;
        if (Kind != YamlScalarKind.Bool) return false;
        value = YamlScalars.BoolValue(Text);
        return true;
    }

    /// <summary>The exact value of an int or float scalar; false for other kinds, infinities, NaN and values out of decimal's range.</summary>
    public bool TryGetNumber(out decimal value)
    {
        value = 0;
        return Kind is YamlScalarKind.Int or YamlScalarKind.Float && YamlScalars.TryNumber(Text, Kind, out value);
    }

    internal override void Write(StringBuilder text)
    {
        if (Kind == YamlScalarKind.Null) text.Append("null");
        else if (Kind != YamlScalarKind.String || YamlScalars.CanStayPlain(Text)) text.Append(Text);
        else YamlScalars.AppendQuoted(text, Text);
    }

    internal override string Describe() => Kind switch
    {
        YamlScalarKind.Null => "null",
        YamlScalarKind.Bool => $"the boolean {Text}",
        YamlScalarKind.Int or YamlScalarKind.Float => $"the number {YamlScalars.Shorten(Text)}",
        _ => $"the text '{YamlScalars.Shorten(Text)}'",
    };
}

/// <summary>A sequence (block or flow).</summary>
public sealed record YamlSequence(IReadOnlyList<YamlValue> Items, int Line, int Column) : YamlValue(Line, Column)
{
    internal override void Write(StringBuilder text)
    {
        text.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0) text.Append(", ");
            Items[i].Write(text);
        }
        text.Append(']');
    }

    internal override string Describe() => "a list";
}

/// <summary>One key and its value; keys are always scalars.</summary>
public sealed record YamlEntry(YamlScalar Key, YamlValue Value);

/// <summary>A mapping with its entries in document order (merge keys already applied, duplicates rejected).</summary>
public sealed record YamlMapping(IReadOnlyList<YamlEntry> Entries, int Line, int Column) : YamlValue(Line, Column)
{
    internal override void Write(StringBuilder text)
    {
        text.Append('{');
        for (var i = 0; i < Entries.Count; i++)
        {
            if (i > 0) text.Append(", ");
            Entries[i].Key.Write(text);
            text.Append(": ");
            Entries[i].Value.Write(text);
        }
        text.Append('}');
    }

    internal override string Describe() => "a mapping";
}

/// <summary>PyYAML's implicit resolution of plain scalars (the YAML 1.1 rules SkyPilot sees), and number parsing.</summary>
internal static class YamlScalars
{
    /// <summary>User text as shown in an error message: at most 80 characters, so a huge value cannot flood it.</summary>
    public static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");

    public static YamlScalarKind ResolvePlain(string text)
    {
        if (text.Length == 0 || text is "~" or "null" or "Null" or "NULL") return YamlScalarKind.Null;
        if (IsBool(text)) return YamlScalarKind.Bool;
        if (IsInt(text)) return YamlScalarKind.Int;
        if (IsFloat(text)) return YamlScalarKind.Float;
        return YamlScalarKind.String;
    }

    public static bool BoolValue(string text) => text is "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON";

    private static bool IsBool(string text) => BoolValue(text) ||
        text is "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF";

    // [-+]? then 0 | [1-9][0-9_]* | 0b[01_]+ | 0x[0-9a-fA-F_]+ | 0[0-7_]+ (sexagesimal ints are left as text).
    private static bool IsInt(string text)
    {
        var body = StripSign(text);
        if (body.Length == 0) return false;
        if (body == "0") return true;
        if (body.StartsWith("0b", StringComparison.Ordinal)) return body.Length > 2 && body[2..].All(c => c is '0' or '1' or '_');
        if (body.StartsWith("0x", StringComparison.Ordinal)) return body.Length > 2 && body[2..].All(c => char.IsAsciiHexDigit(c) || c == '_');
        if (body[0] == '0') return body[1..].All(c => c is >= '0' and <= '7' or '_');
        return body[0] is >= '1' and <= '9' && body.All(c => char.IsAsciiDigit(c) || c == '_');
    }

    // [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | [-+]?\.[0-9_]+(...)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
    private static bool IsFloat(string text)
    {
        if (text is ".nan" or ".NaN" or ".NAN") return true;
        var body = StripSign(text);
        if (body is ".inf" or ".Inf" or ".INF") return true;
        var dot = body.IndexOf('.');
        if (dot < 0) return false;
        var whole = body[..dot];
        var rest = body[(dot + 1)..];
        var e = rest.IndexOfAny(['e', 'E']);
        var fraction = e < 0 ? rest : rest[..e];
        if (whole.Length > 0 && !(char.IsAsciiDigit(whole[0]) && whole.All(c => char.IsAsciiDigit(c) || c == '_'))) return false;
        if (!fraction.All(c => char.IsAsciiDigit(c) || c == '_')) return false;
        if (whole.Length == 0 && (fraction.Length == 0 || !char.IsAsciiDigit(fraction[0]))) return false;
        if (e < 0) return true;
        var exponent = rest[(e + 1)..];
        return exponent.Length >= 2 && exponent[0] is '+' or '-' && exponent[1..].All(char.IsAsciiDigit);
    }

    private static string StripSign(string text) => text.Length > 0 && text[0] is '+' or '-' ? text[1..] : text;

    public static bool TryNumber(string text, YamlScalarKind kind, out decimal value)
    {
        value = 0;
        var negative = text.StartsWith('-');
        var body = StripSign(text).Replace("_", "", StringComparison.Ordinal);
        if (kind == YamlScalarKind.Int)
        {
            if (body.StartsWith("0x", StringComparison.Ordinal)) return TryRadix(body[2..], 16, negative, out value);
            if (body.StartsWith("0b", StringComparison.Ordinal)) return TryRadix(body[2..], 2, negative, out value);
            if (body.Length > 1 && body[0] == '0') return TryRadix(body[1..], 8, negative, out value);
        }
        if (body.Contains("inf", StringComparison.OrdinalIgnoreCase) || body.Contains("nan", StringComparison.OrdinalIgnoreCase)) return false;
        if (!decimal.TryParse(body, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
            return false;
        if (negative) value = -value;
        return true;
    }

    private static bool TryRadix(string digits, int radix, bool negative, out decimal value)
    {
        value = 0;
        if (digits.Length == 0) return false;
        try
        {
            foreach (var c in digits)
                value = checked(value * radix + (char.IsAsciiDigit(c) ? c - '0' : char.ToLowerInvariant(c) - 'a' + 10));
        }
        catch (OverflowException)
        {
            return false;
        }
        if (negative) value = -value;
        return true;
    }

    /// <summary>Text that reads back as the same string when written plain in flow context.</summary>
    public static bool CanStayPlain(string text) =>
        text.Length > 0 && ResolvePlain(text) == YamlScalarKind.String &&
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or '~' or '$' or '+' or ':') &&
        text[0] is not ('-' or ':') && text[^1] != ':' && !text.Contains("::", StringComparison.Ordinal);

    public static void AppendQuoted(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\t': text.Append("\\t"); break;
                case '\r': text.Append("\\r"); break;
                default:
                    if (char.IsControl(c)) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}
