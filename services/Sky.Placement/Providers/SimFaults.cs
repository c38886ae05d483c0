using System.Globalization;

namespace Sky.Placement.Providers;

/// <summary>
/// A place in the simulated clouds that a rule applies to: provider, region, zone, each a name or "*" (null = any).
/// A pattern that names a zone matches only requests in that zone.
/// </summary>
public sealed record LocationPattern(string Provider, string? Region = null, string? Zone = null)
{
    public bool Matches(CloudLocation location) =>
        Fits(Provider, location.Provider) && Fits(Region, location.Region) && Fits(Zone, location.Zone);

    private static bool Fits(string? pattern, string? name) =>
        pattern is null or "*" || string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Zone is not null ? $"{Provider}/{Region}/{Zone}" : Region is not null ? $"{Provider}/{Region}" : Provider;
}

/// <summary>What a failed provisioning blocks when a rule overrides the default of its kind.</summary>
public enum SimBlockScope
{
    Zone,
    Region,
    Provider,
}

/// <summary>
/// "The next <see cref="Count"/> provisions in <see cref="Scope"/> (of <see cref="InstanceType"/>, when set) fail with
/// <see cref="Kind"/>"; a null count fails every one. <see cref="Block"/> overrides the blocked scope (default: the
/// zone for capacity, the region otherwise).
/// </summary>
public sealed record SimFailureRule(ProvisionFailure Kind, LocationPattern Scope, int? Count = null, string? InstanceType = null, SimBlockScope? Block = null);

/// <summary>
/// Spot nodes of a provisioning in <see cref="Scope"/> are preempted <see cref="After"/> (simulated time) once up, with
/// <see cref="Probability"/> per provisioning, drawn from the provider's seeded random numbers.
/// </summary>
public sealed record SimPreemptionRule(LocationPattern Scope, TimeSpan After, double Probability = 1, string? InstanceType = null);

/// <summary>At most <see cref="Nodes"/> nodes up at once in <see cref="Scope"/> (of <see cref="InstanceType"/>, when set); more is a capacity error.</summary>
public sealed record SimCapacity(CloudLocation Scope, int Nodes, string? InstanceType = null);

/// <summary>The tenant's quota in a region (or a whole provider): vCPUs and accelerators of the nodes up at once; null = no limit, 0 = zero quota.</summary>
public sealed record SimQuota(CloudLocation Scope, double? Vcpus = null, int? Gpus = null);

/// <summary>
/// What goes wrong in the simulated clouds, and what they lack: injected failures, preemptions, capacity and quota
/// limits. <see cref="Parse"/> reads a compact text form for a command-line flag.
/// </summary>
public sealed record SimFaults(
    IReadOnlyList<SimFailureRule> Failures,
    IReadOnlyList<SimPreemptionRule> Preemptions,
    IReadOnlyList<SimCapacity> Capacity,
    IReadOnlyList<SimQuota> Quotas)
{
    public static SimFaults None { get; } = new([], [], [], []);

    /// <summary>
    /// Parses items separated by ';', each <c>KIND:SCOPE[:FIELD]...</c>. SCOPE is <c>provider[/region[/zone]]</c>,
    /// any part "*". A FIELD is a count (failures only) or comma-separated <c>key=value</c> options:
    /// <list type="bullet">
    /// <item><c>capacity|quota|provider:SCOPE[:N][:type=X,block=zone|region|provider]</c>: the next N provisions
    /// (every one without N) fail with that error, e.g. <c>capacity:aws/us-east-1:1</c>.</item>
    /// <item><c>preempt:SCOPE[:after=30s,p=0.5,type=X]</c>: spot nodes preempted after a duration (ms, s, m, h;
    /// default 0), with probability p (default 1).</item>
    /// <item><c>limit:SCOPE:nodes=N,type=X,vcpus=N,gpus=N</c> (no "*"): capacity in nodes up at once; vCPU and GPU
    /// quota (0 = zero quota, known before trying).</item>
    /// </list>
    /// Throws <see cref="SimFaultsException"/> naming the offset of the offending character.
    /// </summary>
    public static SimFaults Parse(string text) => new SimFaultsParser(text).Parse();
}

/// <summary>A malformed fault text: <see cref="Position"/> is the 0-based offset of the offending character (the text's length for "ended too soon").</summary>
public sealed class SimFaultsException(int position, string reason) : FormatException($"sim faults: {reason} (at offset {position})")
{
    public int Position { get; } = position;
    public string Reason { get; } = reason;
}

/// <summary>Parser of <see cref="SimFaults.Parse"/>'s text; every piece keeps its offset for errors.</summary>
internal sealed class SimFaultsParser(string text)
{
    private readonly record struct Piece(string Text, int At)
    {
        public int End => At + Text.Length;
    }

    private readonly List<SimFailureRule> _failures = [];
    private readonly List<SimPreemptionRule> _preemptions = [];
    private readonly List<SimCapacity> _capacity = [];
    private readonly List<SimQuota> _quotas = [];

    public SimFaults Parse()
    {
        var items = Split(new Piece(text, 0), ';');
        for (var i = 0; i < items.Count; i++)
        {
            var item = Trim(items[i]);
            if (item.Text.Length > 0) ParseItem(item);
            else if (i < items.Count - 1) throw new SimFaultsException(item.At, "empty item: expected KIND:SCOPE before ';'");
        }
        return new SimFaults([.. _failures], [.. _preemptions], [.. _capacity], [.. _quotas]);
    }

    private void ParseItem(Piece item)
    {
        var fields = Split(item, ':').Select(Trim).ToList();
        var kind = fields[0];
        if (fields.Count < 2) throw new SimFaultsException(item.End, $"expected ':' and a scope after '{kind.Text}'");
        switch (kind.Text.ToLowerInvariant())
        {
            case "capacity": ParseFailure(ProvisionFailure.Capacity, fields); break;
            case "quota": ParseFailure(ProvisionFailure.Quota, fields); break;
            case "provider": ParseFailure(ProvisionFailure.Provider, fields); break;
            case "preempt": ParsePreemption(fields); break;
            case "limit": ParseLimit(fields); break;
            default:
                throw new SimFaultsException(kind.At, $"unknown kind '{kind.Text}': expected capacity, quota, provider, preempt or limit");
        }
    }

    private void ParseFailure(ProvisionFailure kind, List<Piece> fields)
    {
        var scope = ParsePattern(fields[1]);
        int? count = null;
        var options = new Options(fields, allowCount: true, ["count", "type", "block"]);
        if (options.Count is { } bare) count = bare;
        if (options.Get("count") is { } countText)
        {
            if (count is not null) throw new SimFaultsException(countText.At, "the count is given twice");
            count = PositiveInt(countText, "count");
        }
        var block = options.Get("block") is { } blockText
            ? blockText.Text.ToLowerInvariant() switch
            {
                "zone" => SimBlockScope.Zone,
                "region" => SimBlockScope.Region,
                "provider" => SimBlockScope.Provider,
                _ => throw new SimFaultsException(blockText.At, $"block '{blockText.Text}': expected zone, region or provider"),
            }
            : (SimBlockScope?)null;
        _failures.Add(new SimFailureRule(kind, scope, count, InstanceType(options.Get("type")), block));
    }

    private void ParsePreemption(List<Piece> fields)
    {
        var scope = ParsePattern(fields[1]);
        var options = new Options(fields, allowCount: false, ["after", "p", "type"]);
        var after = options.Get("after") is { } afterText ? Duration(afterText) : TimeSpan.Zero;
        var p = 1.0;
        if (options.Get("p") is { } pText
            && (!double.TryParse(pText.Text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out p) || p <= 0 || p > 1))
            throw new SimFaultsException(pText.At, $"p '{pText.Text}': expected a probability in (0, 1], e.g. 0.25");
        _preemptions.Add(new SimPreemptionRule(scope, after, p, InstanceType(options.Get("type"))));
    }

    private void ParseLimit(List<Piece> fields)
    {
        var scopeField = fields[1];
        var pattern = ParsePattern(scopeField);
        if (scopeField.Text.Contains('*')) throw new SimFaultsException(scopeField.At + scopeField.Text.IndexOf('*'), "a limit names its provider, region or zone: '*' is not allowed");
        var scope = new CloudLocation(pattern.Provider, pattern.Region, pattern.Zone);
        var options = new Options(fields, allowCount: false, ["nodes", "type", "vcpus", "gpus"]);
        var nodes = options.Get("nodes") is { } nodesText ? NonNegativeInt(nodesText, "nodes") : (int?)null;
        var type = options.Get("type");
        if (type is not null && nodes is null) throw new SimFaultsException(options.KeyAt("type"), "type= limits capacity: give nodes= with it");
        double? vcpus = null;
        if (options.Get("vcpus") is { } vcpuText)
        {
            if (!double.TryParse(vcpuText.Text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v))
                throw new SimFaultsException(vcpuText.At, $"vcpus '{vcpuText.Text}': expected a number >= 0");
            vcpus = v;
        }
        var gpus = options.Get("gpus") is { } gpuText ? NonNegativeInt(gpuText, "gpus") : (int?)null;
        if (nodes is null && vcpus is null && gpus is null)
            throw new SimFaultsException(fields[^1].End, "a limit needs nodes=, vcpus= or gpus=");
        if ((vcpus is not null || gpus is not null) && scope.Zone is not null)
            throw new SimFaultsException(scopeField.At, "quotas (vcpus=, gpus=) apply to a region or a provider, not a zone");
        if (nodes is not null) _capacity.Add(new SimCapacity(scope, nodes.Value, InstanceType(type)));
        if (vcpus is not null || gpus is not null) _quotas.Add(new SimQuota(scope, vcpus, gpus));
    }

    /// <summary>The fields after the scope: at most one bare count, then key=value options, each key once.</summary>
    private sealed class Options
    {
        private readonly Dictionary<string, (Piece Key, Piece Value)> _values = new(StringComparer.Ordinal);

        public Options(List<Piece> fields, bool allowCount, string[] keys)
        {
            foreach (var field in fields.Skip(2))
            {
                if (field.Text.Length == 0) throw new SimFaultsException(field.At, "empty field after ':'");
                if (field.Text.All(char.IsAsciiDigit) || field.Text.StartsWith('-'))
                {
                    if (!allowCount) throw new SimFaultsException(field.At, $"'{field.Text}': this kind takes no count, only {string.Join(", ", keys.Select(k => k + "="))}");
                    if (Count is not null) throw new SimFaultsException(field.At, "the count is given twice");
                    Count = PositiveInt(field, "count");
                    continue;
                }
                foreach (var option in Split(field, ',').Select(Trim))
                {
                    var eq = option.Text.IndexOf('=');
                    if (option.Text.Length == 0) throw new SimFaultsException(option.At, "empty option between ','");
                    if (eq < 0) throw new SimFaultsException(option.At, $"'{option.Text}': expected key=value with key {string.Join(", ", keys)}");
                    var key = Trim(new Piece(option.Text[..eq], option.At));
                    var value = Trim(new Piece(option.Text[(eq + 1)..], option.At + eq + 1));
                    var name = key.Text.ToLowerInvariant();
                    if (!keys.Contains(name)) throw new SimFaultsException(key.At, $"unknown option '{key.Text}': expected {string.Join(", ", keys)}");
                    if (_values.ContainsKey(name)) throw new SimFaultsException(key.At, $"option '{name}' is given twice");
                    if (value.Text.Length == 0) throw new SimFaultsException(value.At, $"option '{name}' has no value");
                    _values[name] = (key, value);
                }
            }
        }

        public int? Count { get; private set; }

        public Piece? Get(string key) => _values.TryGetValue(key, out var option) ? option.Value : null;

        /// <summary>Where the key of an option given is written, for errors about the option as a whole.</summary>
        public int KeyAt(string key) => _values[key].Key.At;
    }

    private static LocationPattern ParsePattern(Piece scope)
    {
        if (scope.Text.Length == 0) throw new SimFaultsException(scope.At, "expected a scope: provider[/region[/zone]], any part '*'");
        var parts = Split(scope, '/');
        if (parts.Count > 3) throw new SimFaultsException(parts[3].At - 1, "a scope has at most three parts: provider/region/zone");
        foreach (var part in parts)
        {
            if (part.Text.Length == 0) throw new SimFaultsException(part.At, "empty part in the scope");
            if (part.Text == "*") continue;
            for (var i = 0; i < part.Text.Length; i++)
                if (!(char.IsAsciiLetterOrDigit(part.Text[i]) || part.Text[i] is '-' or '_' or '.'))
                    throw new SimFaultsException(part.At + i, $"unexpected {Show(part.Text[i])} in the scope: names are letters, digits, '-', '_' and '.', or '*'");
        }
        return new LocationPattern(
            parts[0].Text.ToLowerInvariant(),
            parts.Count > 1 ? parts[1].Text.ToLowerInvariant() : null,
            parts.Count > 2 ? parts[2].Text.ToLowerInvariant() : null);
    }

    private static string? InstanceType(Piece? type)
    {
        if (type is not { } piece) return null;
        var space = piece.Text.IndexOfAny([' ', '\t']);
        if (space >= 0) throw new SimFaultsException(piece.At + space, $"instance type '{piece.Text}' contains a space");
        return piece.Text;
    }

    private static int PositiveInt(Piece piece, string what)
    {
        var n = NonNegativeInt(piece, what);
        return n >= 1 ? n : throw new SimFaultsException(piece.At, $"{what} must be at least 1");
    }

    private static int NonNegativeInt(Piece piece, string what) =>
        int.TryParse(piece.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new SimFaultsException(piece.At, $"{what} '{piece.Text}': expected a whole number >= 0");

    /// <summary>A sum of parts like 1h30m, 45s, 250ms, 1.5m.</summary>
    private static TimeSpan Duration(Piece piece)
    {
        var s = piece.Text;
        var total = TimeSpan.Zero;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == start || !double.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
                throw new SimFaultsException(piece.At + start, $"duration '{s}': expected a number, e.g. 30s, 5m, 1h30m, 500ms");
            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            total += s[unitStart..i].ToLowerInvariant() switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                "" => throw new SimFaultsException(piece.At + unitStart, $"duration '{s}': the number needs a unit (ms, s, m or h)"),
                var unit => throw new SimFaultsException(piece.At + unitStart, $"duration '{s}': unknown unit '{unit}', expected ms, s, m or h"),
            };
        }
        return total;
    }

    private static List<Piece> Split(Piece piece, char separator)
    {
        var parts = new List<Piece>();
        var start = 0;
        for (var i = 0; i <= piece.Text.Length; i++)
        {
            if (i < piece.Text.Length && piece.Text[i] != separator) continue;
            parts.Add(new Piece(piece.Text[start..i], piece.At + start));
            start = i + 1;
        }
        return parts;
    }

    private static Piece Trim(Piece piece)
    {
        var lead = piece.Text.Length - piece.Text.TrimStart().Length;
        return new Piece(piece.Text.Trim(), piece.At + lead);
    }

    private static string Show(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
}
