using System.Globalization;
using System.Text.RegularExpressions;
using static Sky.Placement.Tasks.YamlScalars;

namespace Sky.Placement.Tasks;

/// <summary>
/// Reads single values of task YAML with SkyPilot's semantics (sky/resources.py, sky/utils/infra_utils.py). Each
/// reader returns null for a null value (unset) and, after recording an error, for a bad one.
/// </summary>
internal static partial class ResourceValues
{
    // Bytes per GiB for the units SkyPilot's MEMORY_SIZE_PATTERN allows, as multiples of a GiB.
    private static readonly Dictionary<string, decimal> GibPerUnit = new(StringComparer.OrdinalIgnoreCase)
    {
        ["kb"] = 1m / (1024 * 1024), ["ki"] = 1m / (1024 * 1024),
        ["mb"] = 1m / 1024, ["mi"] = 1m / 1024,
        ["gb"] = 1, ["gi"] = 1,
        ["tb"] = 1024, ["ti"] = 1024,
        ["pb"] = 1024 * 1024, ["pi"] = 1024 * 1024,
    };

    private const string CpusForm = "is not a number, 'N' or 'N+'";
    private const string MemoryForm = "is not a memory size: N or N+ (GiB), N with a unit (KB, MB, GB, TB, PB), or Nx / Nx+ (GiB per vCPU)";
    private const string DiskForm = "is not a disk size: a whole number of GiB, or N with a unit (KB, MB, GB, TB, PB)";
    private const string AcceleratorForm = "is not an accelerator: use NAME or NAME:COUNT, e.g. A100:8";

    [GeneratedRegex(@"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")]
    private static partial Regex PlainDecimal();

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([A-Za-z]{2})?$")]
    private static partial Regex SizeWithUnit();

    // SkyPilot reads "24GB+", "nvidia:24GB" and "24GB:2" as "any accelerator with this much memory".
    [GeneratedRegex(@"^[0-9]+[GgMmTt][Bb]\+?$")]
    private static partial Regex AcceleratorMemory();

    public static bool IsNull(YamlValue value) => value is YamlScalar { IsNull: true };

    /// <summary>`cpus`: N or N+ (a number or a string), positive.</summary>
    public static QuantityBound? Cpus(YamlValue value, string path, ErrorSink errors)
    {
        if (IsNull(value)) return null;
        if (value is not YamlScalar { Kind: not YamlScalarKind.Bool } scalar)
        {
            errors.Add(value, path, $"{value.Describe()} {CpusForm}");
            return null;
        }
        var text = scalar.Text.Trim();
        var orMore = text.EndsWith('+');
        var number = orMore ? text[..^1] : text;
        if (!TryDecimal(scalar, number, out var amount))
        {
            errors.Add(value, path, $"'{Shorten(scalar.Text)}' {CpusForm}");
            return null;
        }
        if (amount <= 0)
        {
            errors.Add(value, path, $"'{Shorten(scalar.Text)}': the number of vCPUs must be positive");
            return null;
        }
        return new QuantityBound(amount, orMore);
    }

    /// <summary>`memory`: N, N+, N&lt;unit&gt; (converted to GiB), or Nx (GiB per vCPU), each optionally with +.</summary>
    public static MemoryBound? Memory(YamlValue value, string path, ErrorSink errors)
    {
        if (IsNull(value)) return null;
        if (value is not YamlScalar { Kind: not YamlScalarKind.Bool } scalar)
        {
            errors.Add(value, path, $"{value.Describe()} {MemoryForm}");
            return null;
        }
        // SkyPilot strips '+' first and then 'x', so "4x+" is "at least 4 GiB per vCPU".
        var text = scalar.Text.Trim();
        var orMore = text.EndsWith('+');
        if (orMore) text = text[..^1];
        var perVcpu = text.EndsWith('x');
        if (perVcpu) text = text[..^1];
        if (!TrySize(scalar, text, allowUnit: !perVcpu, out var gib, out _))
        {
            errors.Add(value, path, $"'{Shorten(scalar.Text)}' {MemoryForm}");
            return null;
        }
        if (gib <= 0)
        {
            errors.Add(value, path, $"'{Shorten(scalar.Text)}': memory must be positive");
            return null;
        }
        return new MemoryBound(gib, orMore, perVcpu);
    }

    /// <summary>`disk_size`: whole GiB, or a size with a unit, rounded down to whole GiB as SkyPilot documents.</summary>
    public static int? DiskSize(YamlValue value, string path, ErrorSink errors)
    {
        if (IsNull(value)) return null;
        // Whole GiB without a unit; with a unit SkyPilot rounds down ("1500MB" is 1 GiB).
        if (value is not YamlScalar { Kind: not YamlScalarKind.Bool } scalar
            || !TrySize(scalar, scalar.Text.Trim(), allowUnit: true, out var gib, out var hadUnit)
            || (!hadUnit && gib != decimal.Truncate(gib)))
        {
            errors.Add(value, path, $"{Quote(value)} {DiskForm}");
            return null;
        }
        var whole = decimal.Floor(gib);
        if (whole < 1 || whole > int.MaxValue)
        {
            errors.Add(value, path, $"{Quote(value)}: the disk size must be between 1 GiB and {int.MaxValue} GiB");
            return null;
        }
        return (int)whole;
    }

    /// <summary>`num_nodes`: a positive whole number.</summary>
    public static int? PositiveInt(YamlValue value, string path, ErrorSink errors, string what)
    {
        if (IsNull(value)) return null;
        if (value is not YamlScalar scalar || !TryDecimal(scalar, scalar.Text.Trim(), out var number)
            || number != decimal.Truncate(number) || number < 1 || number > int.MaxValue)
        {
            errors.Add(value, path, $"{Quote(value)} is not a valid {what}: use a whole number from 1 to {int.MaxValue}");
            return null;
        }
        return (int)number;
    }

    /// <summary>A number that must be above zero (`max_hourly_cost`) or at least zero (data sizes).</summary>
    public static decimal? Number(YamlValue value, string path, ErrorSink errors, string what, bool allowZero)
    {
        if (IsNull(value)) return null;
        if (value is not YamlScalar { Kind: not YamlScalarKind.Bool } scalar || !TryDecimal(scalar, scalar.Text.Trim(), out var number))
        {
            errors.Add(value, path, $"{Quote(value)} is not a number ({what})");
            return null;
        }
        if (allowZero ? number < 0 : number <= 0)
        {
            errors.Add(value, path, $"'{Shorten(scalar.Text)}': {what} must be {(allowZero ? "zero or more" : "positive")}");
            return null;
        }
        return number;
    }

    /// <summary>`use_spot`: a YAML boolean.</summary>
    public static bool? Bool(YamlValue value, string path, ErrorSink errors)
    {
        if (IsNull(value)) return null;
        if (value is YamlScalar scalar && scalar.TryGetBool(out var result)) return result;
        errors.Add(value, path, $"{value.Describe()} is not true or false");
        return null;
    }

    /// <summary>A name-like value (`instance_type`, `region`, `zone`): any non-empty scalar but a boolean.</summary>
    public static string? Text(YamlValue value, string path, ErrorSink errors, string what)
    {
        if (IsNull(value)) return null;
        if (value is YamlScalar { Kind: not YamlScalarKind.Bool } scalar && scalar.Text.Trim().Length > 0)
            return scalar.Text.Trim();
        errors.Add(value, path, $"{value.Describe()} is not a valid {what}");
        return null;
    }

    /// <summary>`cloud` (the form before `infra`): one of SkyPilot's clouds, any case; returned lower case.</summary>
    public static string? Cloud(YamlValue value, string path, ErrorSink errors)
    {
        var text = Text(value, path, errors, "cloud name");
        if (text is null) return null;
        var cloud = text.ToLowerInvariant();
        if (TaskFields.Clouds.Contains(cloud)) return cloud;
        errors.Add(value, path, $"unknown cloud '{Shorten(text)}'; SkyPilot's clouds are {string.Join(", ", TaskFields.Clouds)}");
        return null;
    }

    /// <summary>
    /// `infra`: cloud[/region[/zone]] with '*' for "any" in any part, or k8s|kubernetes[/context] (a context may
    /// hold slashes). Null when the value is null, empty or bad.
    /// </summary>
    public static InfraLocation? Infra(YamlValue value, string path, ErrorSink errors)
    {
        var text = Text(value, path, errors, "infra ('cloud[/region[/zone]]')");
        if (text is null) return null;
        var trimmed = text.Trim('/');
        if (trimmed.Length == 0) return null;
        var parts = trimmed.Split('/').Select(p => p.Trim()).ToArray();
        if (parts.Any(p => p.Length == 0))
        {
            errors.Add(value, path, $"'{Shorten(text)}' has an empty part (\"//\"); use cloud[/region[/zone]]");
            return null;
        }
        var cloud = parts[0].ToLowerInvariant();
        if (cloud is "k8s" or "kubernetes")
            return new InfraLocation("kubernetes", parts.Length > 1 ? string.Join('/', parts[1..]) : null, null);
        if (parts.Length > 3)
        {
            errors.Add(value, path, $"'{Shorten(text)}' has more than three parts; use cloud[/region[/zone]]");
            return null;
        }
        if (cloud != "*" && !TaskFields.Clouds.Contains(cloud))
        {
            errors.Add(value, path, $"unknown cloud '{Shorten(parts[0])}' in '{Shorten(text)}'; SkyPilot's clouds are {string.Join(", ", TaskFields.Clouds)}, or '*' for any");
            return null;
        }
        return new InfraLocation(Wild(cloud), parts.Length > 1 ? Wild(parts[1]) : null, parts.Length > 2 ? Wild(parts[2]) : null);

        static string? Wild(string part) => part == "*" ? null : part;
    }

    /// <summary>
    /// `accelerators`: "A100" (count 1), "A100:8", a list (ordered preference) or a set / mapping
    /// ({A100:8, H100:8} or {A100: 8}: the cheapest wins). Duplicates are dropped, as SkyPilot does.
    /// </summary>
    public static AcceleratorChoice? Accelerators(YamlValue value, string path, ErrorSink errors)
    {
        if (IsNull(value)) return null;
        var found = new List<AcceleratorRequest>();
        var ok = true;
        switch (value)
        {
            case YamlScalar { Kind: YamlScalarKind.String } scalar:
                ok = Add(found, Accelerator(scalar.Text, null, scalar, path, errors));
                break;
            case YamlSequence sequence:
                for (var i = 0; i < sequence.Items.Count; i++)
                {
                    var item = sequence.Items[i];
                    if (item is YamlScalar { Kind: YamlScalarKind.String } text)
                        ok &= Add(found, Accelerator(text.Text, null, text, $"{path}[{i}]", errors));
                    else
                    {
                        errors.Add(item, $"{path}[{i}]", $"{item.Describe()} {AcceleratorForm}");
                        ok = false;
                    }
                }
                break;
            case YamlMapping mapping:
                foreach (var entry in mapping.Entries)
                    ok &= Add(found, Accelerator(entry.Key.Text, entry.Value, entry.Key, $"{path}.{Shorten(entry.Key.Text)}", errors));
                break;
            default:
                errors.Add(value, path, $"{value.Describe()} {AcceleratorForm}, or a list or set of them");
                return null;
        }
        if (!ok) return null;
        var distinct = found.DistinctBy(a => (a.Key, a.Count)).ToList();
        return new AcceleratorChoice(distinct, Ordered: value is YamlSequence);

        static bool Add(List<AcceleratorRequest> into, AcceleratorRequest? one)
        {
            if (one is null) return false;
            into.Add(one);
            return true;
        }
    }

    private static AcceleratorRequest? Accelerator(string text, YamlValue? countValue, YamlValue at, string path, ErrorSink errors)
    {
        var parts = text.Trim().Split(':');
        if (parts.Any(p => AcceleratorMemory().IsMatch(p.Trim())))
        {
            errors.Add(at, path, $"choosing accelerators by memory size ('{Shorten(text)}') is not supported; name the accelerator, e.g. A100:8");
            return null;
        }
        var name = parts[0].Trim();
        if (parts.Length > 2 || name.Length == 0 || name.Any(char.IsControl))
        {
            errors.Add(at, path, $"'{Shorten(text)}' {AcceleratorForm}");
            return null;
        }
        if (parts.Length == 2 && countValue is not null && !IsNull(countValue))
        {
            errors.Add(at, path, $"'{Shorten(text)}' already has a count; give it in the name or as the value, not both");
            return null;
        }

        decimal count = 1;
        var countText = text;
        if (parts.Length == 2)
        {
            if (!PlainDecimal().IsMatch(parts[1].Trim()) || !decimal.TryParse(parts[1].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out count))
            {
                errors.Add(at, path, $"'{Shorten(text)}' {AcceleratorForm}");
                return null;
            }
        }
        else if (countValue is not null && !IsNull(countValue))
        {
            if (countValue is not YamlScalar scalar || !scalar.TryGetNumber(out count))
            {
                errors.Add(countValue, path, $"{countValue.Describe()} is not an accelerator count");
                return null;
            }
            at = countValue;
            countText = $"{name}: {scalar.Text}";
        }
        if (count != decimal.Truncate(count))
        {
            errors.Add(at, path, $"fractional accelerator counts ('{Shorten(countText)}') are not supported; use a whole number");
            return null;
        }
        if (count < 1 || count > int.MaxValue)
        {
            errors.Add(at, path, $"'{Shorten(countText)}': the accelerator count must be a whole number from 1 to {int.MaxValue}");
            return null;
        }
        return new AcceleratorRequest(name, (int)count);
    }

    private static bool TryDecimal(YamlScalar scalar, string text, out decimal value)
    {
        value = 0;
        if (scalar.Kind is YamlScalarKind.Int or YamlScalarKind.Float && text == scalar.Text.Trim())
            return scalar.TryGetNumber(out value);
        return PlainDecimal().IsMatch(text)
            && decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    private static bool TrySize(YamlScalar scalar, string text, bool allowUnit, out decimal gib, out bool hadUnit)
    {
        hadUnit = false;
        if (TryDecimal(scalar, text, out gib)) return true;
        var match = SizeWithUnit().Match(text);
        if (!allowUnit || !match.Success || !match.Groups[2].Success) return false;
        if (!GibPerUnit.TryGetValue(match.Groups[2].Value, out var perUnit)) return false;
        if (!decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)) return false;
        try
        {
            gib = amount * perUnit;
            hadUnit = true;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static string Quote(YamlValue value) => value is YamlScalar scalar ? $"'{Shorten(scalar.Text)}'" : value.Describe();
}

/// <summary>Accelerator alternatives as written, and whether they were a list (an order of preference).</summary>
internal sealed record AcceleratorChoice(IReadOnlyList<AcceleratorRequest> Items, bool Ordered);

/// <summary>Provider, region and zone from `infra` or `cloud`/`region`/`zone`; null parts mean "any".</summary>
internal sealed record InfraLocation(string? Provider, string? Region, string? Zone);
