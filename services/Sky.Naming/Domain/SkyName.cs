using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Sky.Naming.Domain;

/// <summary>What a name denotes, read from its shape (see the grammar in protos/sky/naming/v1/naming.proto).</summary>
public enum SkyNameKind
{
    /// <summary><c>&lt;provider&gt;.sky</c>, the provider's apex zone.</summary>
    Provider,
    /// <summary><c>&lt;region&gt;.&lt;provider&gt;.sky</c>.</summary>
    Region,
    /// <summary><c>&lt;service&gt;.&lt;region&gt;.&lt;provider&gt;.sky</c>.</summary>
    Service,
    /// <summary><c>&lt;instance&gt;.&lt;service&gt;.&lt;region&gt;.&lt;provider&gt;.sky</c>.</summary>
    Instance,
    /// <summary><c>_&lt;service&gt;._tcp.&lt;region&gt;.&lt;provider&gt;.sky</c>, a service-level lookup name.</summary>
    Lookup,
    /// <summary>Any deeper name inside a zone (six labels or more).</summary>
    Other,
}

/// <summary>Why a name was rejected: the 0-based character offset into the original input of the first offending character.</summary>
public sealed record SkyNameError(int Position, string Message)
{
    public override string ToString() => $"at {Position}: {Message}";
}

/// <summary>The outcome of <see cref="SkyName.Parse"/>: exactly one of <see cref="Name"/> and <see cref="Error"/> is set.</summary>
public sealed record SkyNameParseResult
{
    private SkyNameParseResult(SkyName? name, SkyNameError? error) => (Name, Error) = (name, error);

    public SkyName? Name { get; }
    public SkyNameError? Error { get; }

    [MemberNotNullWhen(true, nameof(Name))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Success => Name is not null;

    internal static SkyNameParseResult Ok(SkyName name) => new(name, null);
    internal static SkyNameParseResult Fail(int position, string message) => new(null, new SkyNameError(position, message));
}

/// <summary>
/// A Sky.Mesh name in canonical form (lower-case ASCII, no trailing dot). The only way to get one is
/// <see cref="Parse"/>/<see cref="TryParse"/>, so every instance obeys the grammar in naming.proto.
/// </summary>
public sealed class SkyName : IEquatable<SkyName>
{
    public const int MaxNameBytes = 253;
    public const int MaxLabelBytes = 63;
    public const string RootLabel = "sky";
    public const string LookupProtocolLabel = "_tcp";

    // Std3 rules keep IDN output inside the host-name alphabet; conversions that need unassigned code points are refused.
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    private readonly string[] _labels;

    private SkyName(string[] labels, SkyNameKind kind)
    {
        _labels = labels;
        Kind = kind;
        Canonical = string.Join('.', labels);
    }

    public string Canonical { get; }
    public IReadOnlyList<string> Labels => _labels;
    public SkyNameKind Kind { get; }

    /// <summary>The label before "sky"; every name has one.</summary>
    public string Provider => _labels[^2];

    /// <summary>The region label, for every kind but <see cref="SkyNameKind.Provider"/>.</summary>
    public string? Region => _labels.Length >= 3 ? _labels[^3] : null;

    /// <summary>The service label (without the '_' of a lookup name); null for provider and region names.</summary>
    public string? Service => Kind switch
    {
        SkyNameKind.Lookup => _labels[0][1..],
        SkyNameKind.Service or SkyNameKind.Instance or SkyNameKind.Other => _labels[^4],
        _ => null,
    };

    /// <summary>The instance label, only for <see cref="SkyNameKind.Instance"/> names.</summary>
    public string? Instance => Kind == SkyNameKind.Instance ? _labels[0] : null;

    /// <summary>Parses a name; never throws for a non-null input.</summary>
    public static SkyNameParseResult Parse(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length == 0)
            return SkyNameParseResult.Fail(0, "name is empty");

        // One trailing dot (the DNS root) is accepted; it never reaches the canonical form.
        var body = input[^1] == '.' ? input[..^1] : input;
        var spans = SplitLabels(body);
        var labels = new string[spans.Count];
        var isLookup = spans.Count == 5 && body.StartsWith('_');
        var canonicalLength = 0;

        for (var i = 0; i < spans.Count; i++)
        {
            var (start, length) = spans[i];
            var raw = body.AsSpan(start, length);
            var failure = ParseLabel(raw, start, i, spans.Count, isLookup, out var label);
            if (failure is not null)
                return failure;

            var separator = i == 0 ? 0 : 1;
            if (canonicalLength + separator + label.Length > MaxNameBytes)
            {
                // An ASCII label maps character for character, so the first character past the limit can be named
                // (the separating dot itself when the labels before it already fill the name).
                var firstExcess = start - separator + (MaxNameBytes - canonicalLength);
                var position = System.Text.Ascii.IsValid(raw) ? firstExcess : start;
                return SkyNameParseResult.Fail(position, $"name is longer than {MaxNameBytes} bytes");
            }
            canonicalLength += separator + label.Length;
            labels[i] = label;
        }

        var (lastStart, _) = spans[^1];
        if (labels[^1] != RootLabel)
            return SkyNameParseResult.Fail(lastStart, $"name must end in the label \"{RootLabel}\"");
        if (labels.Length < 2)
            return SkyNameParseResult.Fail(0, $"name needs a provider label before \"{RootLabel}\"");

        return SkyNameParseResult.Ok(new SkyName(labels, KindOf(labels.Length, isLookup)));
    }

    public static bool TryParse(string input, [NotNullWhen(true)] out SkyName? name, [NotNullWhen(false)] out SkyNameError? error)
    {
        var result = Parse(input);
        (name, error) = (result.Name, result.Error);
        return result.Success;
    }

    private static SkyNameKind KindOf(int labelCount, bool isLookup) => labelCount switch
    {
        2 => SkyNameKind.Provider,
        3 => SkyNameKind.Region,
        4 => SkyNameKind.Service,
        5 => isLookup ? SkyNameKind.Lookup : SkyNameKind.Instance,
        _ => SkyNameKind.Other,
    };

    private static List<(int Start, int Length)> SplitLabels(string body)
    {
        var spans = new List<(int, int)>();
        var start = 0;
        for (var i = 0; i <= body.Length; i++)
        {
            if (i == body.Length || body[i] == '.')
            {
                spans.Add((start, i - start));
                start = i + 1;
            }
        }
        return spans;
    }

    /// <summary>Validates one label at <paramref name="index"/> and yields its canonical spelling; returns the failure, if any.</summary>
    private static SkyNameParseResult? ParseLabel(ReadOnlySpan<char> raw, int start, int index, int count, bool isLookup, out string label)
    {
        label = "";
        if (raw.IsEmpty)
            return SkyNameParseResult.Fail(start, "empty label");

        var prefix = "";
        if (raw[0] == '_')
        {
            if (index >= 2 || !isLookup)
                return SkyNameParseResult.Fail(start, "'_' labels are allowed only as the first two labels of a lookup name (_<service>._tcp.<region>.<provider>.sky)");
            if (index == 1)
            {
                if (!raw.Equals(LookupProtocolLabel, StringComparison.OrdinalIgnoreCase))
                    return SkyNameParseResult.Fail(start, $"the protocol label of a lookup name must be \"{LookupProtocolLabel}\"");
                label = LookupProtocolLabel;
                return null;
            }
            prefix = "_";
            raw = raw[1..];
            start++;
            if (raw.IsEmpty)
                return SkyNameParseResult.Fail(start, "empty service label after '_'");
        }
        else if (index == 1 && isLookup)
        {
            return SkyNameParseResult.Fail(start, $"the second label of a lookup name must be \"{LookupProtocolLabel}\"");
        }

        var firstNonAscii = -1;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (!char.IsAscii(c))
            {
                if (firstNonAscii < 0)
                    firstNonAscii = i;
            }
            else if (!IsHostChar(c))
            {
                return SkyNameParseResult.Fail(start + i, $"character '{Printable(c)}' is not allowed; labels use [a-z0-9-]");
            }
        }
        if (raw[0] == '-')
            return SkyNameParseResult.Fail(start, "label must not start with '-'");
        if (raw[^1] == '-')
            return SkyNameParseResult.Fail(start + raw.Length - 1, "label must not end with '-'");

        string canonical;
        if (firstNonAscii < 0)
        {
            if (prefix.Length + raw.Length > MaxLabelBytes)
                return SkyNameParseResult.Fail(start + MaxLabelBytes - prefix.Length, $"label is longer than {MaxLabelBytes} bytes");
            canonical = raw.ToString().ToLowerInvariant();
        }
        else
        {
            var converted = ToALabel(raw.ToString());
            if (converted is null)
                return SkyNameParseResult.Fail(start + firstNonAscii, "label cannot be converted to an IDNA A-label");
            if (prefix.Length + converted.Length > MaxLabelBytes)
                return SkyNameParseResult.Fail(start + firstNonAscii, $"label is longer than {MaxLabelBytes} bytes as an IDNA A-label ({converted})");
            canonical = converted;
        }

        label = prefix + canonical;
        return null;
    }

    /// <summary>The IDNA A-label for a label with non-ASCII characters, or null when it has none that obeys host-name rules.</summary>
    private static string? ToALabel(string unicodeLabel)
    {
        string ascii;
        try
        {
            // ICU maps per UTS #46 (case fold, NFC, width); lower-casing first keeps the result the same where ICU is absent.
            ascii = Idn.GetAscii(unicodeLabel.ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            return null;
        }
        // The mapping may turn characters such as U+3002 into '.', which would split the label: the result must be one host-name label.
        var valid = ascii.Length > 0 && ascii[0] != '-' && ascii[^1] != '-' && ascii.All(IsHostChar);
        return valid ? ascii.ToLowerInvariant() : null;
    }

    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    private static string Printable(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"\\u{(int)c:x4}" : c.ToString();

    public bool Equals(SkyName? other) => other is not null && Canonical == other.Canonical;
    public override bool Equals(object? obj) => Equals(obj as SkyName);
    public override int GetHashCode() => Canonical.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Canonical;

    public static bool operator ==(SkyName? left, SkyName? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(SkyName? left, SkyName? right) => !(left == right);
}
