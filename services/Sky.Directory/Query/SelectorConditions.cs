using System.Globalization;

namespace Sky.Directory.Query;

/// <summary>One value written in a selector, with the typed forms its field needs.</summary>
internal sealed class Literal(string text, int position)
{
    /// <summary>The value as written, unquoted and unescaped.</summary>
    public string Text { get; } = text;
    /// <summary>Lower case, the shared instance when offers hold one (equal values then compare by reference).</summary>
    public string Lower { get; } = Symbols.Find(text.ToLowerInvariant());
    /// <summary>Offset of the value's first character (its opening quote when quoted).</summary>
    public int Position { get; } = position;
    public bool Quoted { get; init; }
    public decimal Money { get; set; }
    public double Number { get; set; }
    public VersionValue? Version { get; set; }
    public string GpuName { get; set; } = "";
    /// <summary>Accelerator count of "NAME:COUNT"; 0 for "NAME" (any count).</summary>
    public int GpuCount { get; set; }
    /// <summary>Attribute values: the number, when the literal is one (ranges compare numerically then).</summary>
    public decimal? AttributeNumber { get; set; }

    /// <summary>Offset in the selector text of the value's character at <paramref name="index"/>.</summary>
    public int SourceOffset(int index) => Position + (Quoted ? 1 : 0) + index;

    public static bool TryParseDecimal(string text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
}

/// <summary>One compiled clause condition, testable on a view (Watch, single offers) or on an index slot (scans).</summary>
internal abstract class Condition
{
    public abstract bool Matches(OfferView v);

    /// <summary>The same test on slot <paramref name="slot"/> of the index's columns; cold fields read the slot's view.</summary>
    public virtual bool Matches(OfferColumns c, int slot) => Matches(c.Views[slot]!);

    /// <summary>
    /// Clears the bits of the slots that fail in words [lo, hi), testing 64 slots per word with vector compares over a column;
    /// false when this condition cannot (then it is tested per slot with <see cref="Filter"/>).
    /// </summary>
    public virtual bool AndInto(OfferColumns c, ulong[] bits, int lo, int hi) => false;

    /// <summary>
    /// Keeps the slots that pass, in order, at the front of <paramref name="slots"/>; returns how many. Scans filter
    /// a batch of slots one condition at a time, so each condition's loop runs without a virtual call per slot:
    /// the hot sealed conditions below repeat this loop, where the JIT calls (and inlines) their Matches directly.
    /// </summary>
    public virtual int Filter(OfferColumns c, Span<int> slots)
    {
        var kept = 0;
        foreach (var slot in slots)
            if (Matches(c, slot)) slots[kept++] = slot;
        return kept;
    }
}

// Field accessors as static abstract members: the generic conditions below are specialised per field by the JIT,
// so a condition is one virtual call with the field read inlined (no delegate per field, no switch).
internal interface ITextField { static abstract string Get(OfferView v); static abstract string Get(OfferColumns c, int slot); }
internal interface INumberField
{
    static abstract double Get(OfferView v);
    static abstract double Get(OfferColumns c, int slot);
    /// <summary>The whole column, when the field has one of doubles (for vector compares).</summary>
    static abstract double[]? Column(OfferColumns c);
}

internal interface IPriceField
{
    static abstract long Get(OfferView v);
    static abstract long Get(OfferColumns c, int slot);
    static abstract long[] Column(OfferColumns c);
}
internal interface IVersionField
{
    static abstract VersionValue? Get(OfferView v);
    /// <summary>The slot's version key, <see cref="VersionValue.NoKey"/>, or <see cref="OfferColumns.NoVersion"/>.</summary>
    static abstract long Key(OfferColumns c, int slot);
}

internal struct KindField : ITextField { public static string Get(OfferView v) => v.Kind; public static string Get(OfferColumns c, int s) => c.Kind[s]; }
internal struct ServiceField : ITextField { public static string Get(OfferView v) => v.Service; public static string Get(OfferColumns c, int s) => c.Service[s]; }
internal struct NameField : ITextField { public static string Get(OfferView v) => v.Name; public static string Get(OfferColumns c, int s) => c.Views[s]!.Name; }
internal struct ProviderField : ITextField { public static string Get(OfferView v) => v.Provider; public static string Get(OfferColumns c, int s) => c.Provider[s]; }
internal struct RegionField : ITextField { public static string Get(OfferView v) => v.Region; public static string Get(OfferColumns c, int s) => c.Region[s]; }
internal struct ZoneField : ITextField { public static string Get(OfferView v) => v.Zone; public static string Get(OfferColumns c, int s) => c.Zone[s]; }
internal struct InstanceTypeField : ITextField { public static string Get(OfferView v) => v.InstanceType; public static string Get(OfferColumns c, int s) => c.InstanceType[s]; }
internal struct ArchField : ITextField { public static string Get(OfferView v) => v.Arch; public static string Get(OfferColumns c, int s) => c.Arch[s]; }
internal struct AvailabilityField : ITextField { public static string Get(OfferView v) => v.Availability; public static string Get(OfferColumns c, int s) => c.Availability[s]; }
internal struct OriginField : ITextField { public static string Get(OfferView v) => v.Origin; public static string Get(OfferColumns c, int s) => c.Origin[s]; }
// Unknown (0) vcpus / memory and an unset load read as NaN: every comparison but != is then false.
internal struct VcpusField : INumberField
{
    public static double Get(OfferView v) => v.Vcpus > 0 ? v.Vcpus : double.NaN;
    public static double Get(OfferColumns c, int s) => c.Vcpus[s];
    public static double[]? Column(OfferColumns c) => c.Vcpus;
}
internal struct MemoryField : INumberField
{
    public static double Get(OfferView v) => v.MemoryGib > 0 ? v.MemoryGib : double.NaN;
    public static double Get(OfferColumns c, int s) => c.Memory[s];
    public static double[]? Column(OfferColumns c) => c.Memory;
}
internal struct LoadField : INumberField
{
    public static double Get(OfferView v) => v.Load ?? double.NaN;
    public static double Get(OfferColumns c, int s) => c.Load[s];
    public static double[]? Column(OfferColumns c) => c.Load;
}
internal struct GpuCountField : INumberField
{
    public static double Get(OfferView v) => v.GpuCount;
    public static double Get(OfferColumns c, int s) => c.GpuCount[s];
    public static double[]? Column(OfferColumns c) => null;
}
internal struct PriceField : IPriceField
{
    public static long Get(OfferView v) => v.OnDemandNanos;
    public static long Get(OfferColumns c, int s) => c.Price[s];
    public static long[] Column(OfferColumns c) => c.Price;
}
internal struct SpotPriceField : IPriceField
{
    public static long Get(OfferView v) => v.SpotNanos;
    public static long Get(OfferColumns c, int s) => c.Spot[s];
    public static long[] Column(OfferColumns c) => c.Spot;
}
internal struct VersionField : IVersionField
{
    public static VersionValue? Get(OfferView v) => v.Version;
    public static long Key(OfferColumns c, int s) => c.VersionKey[s];
}

internal struct ApiVersionField : IVersionField
{
    public static VersionValue? Get(OfferView v) => v.ApiVersion;
    public static long Key(OfferColumns c, int s) => c.ApiVersionKey[s];
}

/// <summary>Compiles one (field, operator, values) condition.</summary>
/// <remarks>
/// Missing values: a text field's "" and an absent attribute are missing, as are vcpus/memory 0, an unset
/// load or price and an empty version. A missing value satisfies only "!=", "notin", "!field" and "=\"\"".
/// </remarks>
internal static class SelectorConditions
{
    public static Condition Compile(FieldRef field, SelectorOp op, Literal[] values) => field.Field switch
    {
        SelectorField.Kind => Text<KindField>(op, values),
        SelectorField.Service => Text<ServiceField>(op, values),
        SelectorField.Name => Text<NameField>(op, values),
        SelectorField.Provider => Text<ProviderField>(op, values),
        SelectorField.Region => Text<RegionField>(op, values),
        SelectorField.Zone => Text<ZoneField>(op, values),
        SelectorField.InstanceType => Text<InstanceTypeField>(op, values),
        SelectorField.Arch => Text<ArchField>(op, values),
        SelectorField.Availability => Text<AvailabilityField>(op, values),
        SelectorField.Origin => Text<OriginField>(op, values),
        SelectorField.Vcpus => Number<VcpusField>(op, values),
        SelectorField.Memory => Number<MemoryField>(op, values),
        SelectorField.Load => Number<LoadField>(op, values),
        SelectorField.GpuCount => Number<GpuCountField>(op, values),
        SelectorField.Price => Price<PriceField>(op, values),
        SelectorField.SpotPrice => Price<SpotPriceField>(op, values),
        SelectorField.Version => Version<VersionField>(op, values),
        SelectorField.ApiVersion => Version<ApiVersionField>(op, values),
        SelectorField.Gpu => Gpu(op, values),
        SelectorField.Attribute => Attribute(field.AttributeKey!, op, values),
        _ => throw new InvalidOperationException($"unknown field {field.Field}"),
    };

    // ---- text ----

    private static Condition Text<F>(SelectorOp op, Literal[] values) where F : struct, ITextField => op switch
    {
        SelectorOp.Present => new TextPresent<F>(true),
        SelectorOp.Absent => new TextPresent<F>(false),
        SelectorOp.Equal => new TextEquals<F>(values[0].Lower, true),
        SelectorOp.NotEqual => new TextEquals<F>(values[0].Lower, false),
        SelectorOp.In => new TextIn<F>([.. values.Select(l => l.Lower).Distinct()], true),
        SelectorOp.NotIn => new TextIn<F>([.. values.Select(l => l.Lower).Distinct()], false),
        SelectorOp.Glob => new TextGlob<F>(new Glob(values[0].Lower)),
        _ => throw new InvalidOperationException($"{op} on a text field"),
    };

    private sealed class TextPresent<F>(bool present) : Condition where F : struct, ITextField
    {
        public override bool Matches(OfferView v) => F.Get(v).Length > 0 == present;
        public override bool Matches(OfferColumns c, int slot) => F.Get(c, slot).Length > 0 == present;

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    private sealed class TextEquals<F>(string value, bool equal) : Condition where F : struct, ITextField
    {
        public override bool Matches(OfferView v) => string.Equals(F.Get(v), value) == equal;
        public override bool Matches(OfferColumns c, int slot) => string.Equals(F.Get(c, slot), value) == equal;

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    private sealed class TextIn<F>(string[] set, bool member) : Condition where F : struct, ITextField
    {
        public override bool Matches(OfferView v) => In(F.Get(v));
        public override bool Matches(OfferColumns c, int slot) => In(F.Get(c, slot));

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }

        private bool In(string s)
        {
            foreach (var item in set)
                if (string.Equals(s, item)) return member;
            return !member;
        }
    }

    private sealed class TextGlob<F>(Glob glob) : Condition where F : struct, ITextField
    {
        public override bool Matches(OfferView v) => F.Get(v) is { Length: > 0 } s && glob.Matches(s);
        public override bool Matches(OfferColumns c, int slot) => F.Get(c, slot) is { Length: > 0 } s && glob.Matches(s);

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    // ---- numbers (double; NaN is missing) ----

    private static Condition Number<F>(SelectorOp op, Literal[] values) where F : struct, INumberField => op switch
    {
        SelectorOp.Present => new NumberPresent<F>(true),
        SelectorOp.Absent => new NumberPresent<F>(false),
        SelectorOp.In => new NumberIn<F>([.. values.Select(l => l.Number)], true),
        SelectorOp.NotIn => new NumberIn<F>([.. values.Select(l => l.Number)], false),
        // Doubles are discrete, so x < n is x <= the next double below n: every comparison is one closed range.
        SelectorOp.Equal => new NumberRange<F>(values[0].Number, values[0].Number, true),
        SelectorOp.NotEqual => new NumberRange<F>(values[0].Number, values[0].Number, false),
        SelectorOp.Less => new NumberRange<F>(double.NegativeInfinity, Math.BitDecrement(values[0].Number), true),
        SelectorOp.LessOrEqual => new NumberRange<F>(double.NegativeInfinity, values[0].Number, true),
        SelectorOp.Greater => new NumberRange<F>(Math.BitIncrement(values[0].Number), double.PositiveInfinity, true),
        SelectorOp.GreaterOrEqual => new NumberRange<F>(values[0].Number, double.PositiveInfinity, true),
        _ => throw new InvalidOperationException($"{op} on a numeric field"),
    };

    private sealed class NumberPresent<F>(bool present) : Condition where F : struct, INumberField
    {
        public override bool Matches(OfferView v) => !double.IsNaN(F.Get(v)) == present;
        public override bool Matches(OfferColumns c, int slot) => !double.IsNaN(F.Get(c, slot)) == present;

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    private sealed class NumberIn<F>(double[] set, bool member) : Condition where F : struct, INumberField
    {
        public override bool Matches(OfferView v) => In(F.Get(v));
        public override bool Matches(OfferColumns c, int slot) => In(F.Get(c, slot));

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }

        private bool In(double x)
        {
            foreach (var item in set)
                if (x == item) return member;
            return !member;
        }
    }

    /// <summary>min &lt;= x &lt;= max (inside = true) or its negation; NaN (missing) is outside every range.</summary>
    private sealed class NumberRange<F>(double min, double max, bool inside) : Condition where F : struct, INumberField
    {
        public override bool AndInto(OfferColumns c, ulong[] bits, int lo, int hi) =>
            F.Column(c) is { } column && ColumnMasks.AndRange(column, min, max, inside, bits, lo, hi);

        public override bool Matches(OfferView v)
        {
            var x = F.Get(v);
            return (x >= min && x <= max) == inside;
        }

        public override bool Matches(OfferColumns c, int slot)
        {
            var x = F.Get(c, slot);
            return (x >= min && x <= max) == inside;
        }

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    // ---- prices (exact nano-units) ----

    private static Condition Price<F>(SelectorOp op, Literal[] values) where F : struct, IPriceField
    {
        if (op is SelectorOp.Present or SelectorOp.Absent) return new PricePresent<F>(op == SelectorOp.Present);
        if (op is SelectorOp.In or SelectorOp.NotIn)
            return new PriceIn<F>([.. values.Select(l => PriceBounds.Of(l.Money)).Where(b => b.Exact).Select(b => b.Floor)], op == SelectorOp.In);
        // Integer bounds on nano-units are exact for any decimal literal: x < 3.5000000005 is x < 3500000001 nanos.
        var b = PriceBounds.Of(values[0].Money);
        return op switch
        {
            SelectorOp.Equal => b.Exact ? new PriceRange<F>(b.Floor, b.Floor, true) : new PriceRange<F>(1, 0, true),
            SelectorOp.NotEqual => b.Exact ? new PriceRange<F>(b.Floor, b.Floor, false) : new PriceRange<F>(1, 0, false),
            SelectorOp.Less => new PriceRange<F>(long.MinValue + 1, b.Ceiling - 1, true),
            SelectorOp.LessOrEqual => new PriceRange<F>(long.MinValue + 1, b.Floor, true),
            SelectorOp.Greater => new PriceRange<F>(b.Floor + 1, long.MaxValue, true),
            SelectorOp.GreaterOrEqual => new PriceRange<F>(b.Ceiling, long.MaxValue, true),
            _ => throw new InvalidOperationException($"{op} on a price field"),
        };
    }

    /// <summary>A decimal literal in nano-units: floor and ceiling (saturated), and whether it is a whole number of nanos.</summary>
    private readonly record struct PriceBounds(long Floor, long Ceiling, bool Exact)
    {
        private const decimal Limit = 9_100_000_000_000_000_000m;

        public static PriceBounds Of(decimal amount)
        {
            var nanos = Math.Clamp(amount, -Limit / 1_000_000_000m, Limit / 1_000_000_000m) * 1_000_000_000m;
            var floor = decimal.Floor(nanos);
            return new PriceBounds((long)floor, (long)decimal.Ceiling(nanos), floor == nanos);
        }
    }

    private sealed class PricePresent<F>(bool present) : Condition where F : struct, IPriceField
    {
        public override bool Matches(OfferView v) => F.Get(v) != OfferView.NoPrice == present;
        public override bool Matches(OfferColumns c, int slot) => F.Get(c, slot) != OfferView.NoPrice == present;

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    /// <summary>min &lt;= price &lt;= max (inside = true) or its negation; a missing price is outside every range.</summary>
    private sealed class PriceRange<F>(long min, long max, bool inside) : Condition where F : struct, IPriceField
    {
        // min > NoPrice for every range built here, so the range test alone leaves missing prices out.
        public override bool AndInto(OfferColumns c, ulong[] bits, int lo, int hi) =>
            ColumnMasks.AndRange(F.Column(c), min, max, inside, bits, lo, hi);

        public override bool Matches(OfferView v)
        {
            var x = F.Get(v);
            return (x != OfferView.NoPrice && x >= min && x <= max) == inside;
        }

        public override bool Matches(OfferColumns c, int slot)
        {
            var x = F.Get(c, slot);
            return (x != OfferView.NoPrice && x >= min && x <= max) == inside;
        }

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    private sealed class PriceIn<F>(long[] set, bool member) : Condition where F : struct, IPriceField
    {
        public override bool Matches(OfferView v) => In(F.Get(v));
        public override bool Matches(OfferColumns c, int slot) => In(F.Get(c, slot));

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }

        private bool In(long x)
        {
            if (x != OfferView.NoPrice)
                foreach (var item in set)
                    if (x == item) return member;
            return !member;
        }
    }

    // ---- versions ----

    private static Condition Version<F>(SelectorOp op, Literal[] values) where F : struct, IVersionField => op switch
    {
        SelectorOp.Present => new VersionPresent<F>(true),
        SelectorOp.Absent => new VersionPresent<F>(false),
        SelectorOp.Glob => new VersionGlob<F>(new Glob(values[0].Lower)),
        SelectorOp.In => new VersionIn<F>([.. values.Select(l => l.Version)], true),
        SelectorOp.NotIn => new VersionIn<F>([.. values.Select(l => l.Version)], false),
        // ="" and !="" are absence and presence.
        SelectorOp.Equal when values[0].Version is null => new VersionPresent<F>(false),
        SelectorOp.NotEqual when values[0].Version is null => new VersionPresent<F>(true),
        _ when values[0].Version is null => new Never(),
        _ => new VersionCompare<F>(op, values[0].Version!),
    };

    private sealed class VersionPresent<F>(bool present) : Condition where F : struct, IVersionField
    {
        public override bool Matches(OfferView v) => F.Get(v) is not null == present;
        public override bool Matches(OfferColumns c, int slot) => F.Key(c, slot) != OfferColumns.NoVersion == present;

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }
    }

    private sealed class VersionGlob<F>(Glob glob) : Condition where F : struct, IVersionField
    {
        public override bool Matches(OfferView v) => F.Get(v) is { } x && glob.Matches(x.Text);
    }

    private sealed class VersionIn<F>(VersionValue?[] set, bool member) : Condition where F : struct, IVersionField
    {
        public override bool Matches(OfferView v)
        {
            var x = F.Get(v);
            foreach (var item in set)
                if (item is null ? x is null : x is not null && x.CompareTo(item) == 0) return member;
            return !member;
        }
    }

    private sealed class VersionCompare<F>(SelectorOp op, VersionValue literal) : Condition where F : struct, IVersionField
    {
        public override bool Matches(OfferView v) => F.Get(v) is { } x ? Test(x.CompareTo(literal)) : op == SelectorOp.NotEqual;

        // Two packed releases compare as numbers; anything else (text, pre-releases) reads the slot's view.
        public override bool Matches(OfferColumns c, int slot)
        {
            var key = F.Key(c, slot);
            if (key == OfferColumns.NoVersion) return op == SelectorOp.NotEqual;
            if (key != VersionValue.NoKey && literal.Key != VersionValue.NoKey) return Test(key.CompareTo(literal.Key));
            return Matches(c.Views[slot]!);
        }

        public override int Filter(OfferColumns c, Span<int> slots)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (Matches(c, slot)) slots[kept++] = slot;
            return kept;
        }

        private bool Test(int c) => op switch
        {
            SelectorOp.Equal => c == 0,
            SelectorOp.NotEqual => c != 0,
            SelectorOp.Less => c < 0,
            SelectorOp.LessOrEqual => c <= 0,
            SelectorOp.Greater => c > 0,
            _ => c >= 0,
        };
    }

    private sealed class Never : Condition
    {
        public override bool Matches(OfferView v) => false;
    }

    // ---- gpu ----

    private static Condition Gpu(SelectorOp op, Literal[] values) => op switch
    {
        SelectorOp.Present => new GpuPresent(true),
        SelectorOp.Absent => new GpuPresent(false),
        SelectorOp.Glob => new GpuGlob(new Glob(values[0].Lower)),
        SelectorOp.Equal or SelectorOp.In => new GpuIn([.. values.Select(l => (Symbols.Find(l.GpuName), l.GpuCount))], true),
        SelectorOp.NotEqual or SelectorOp.NotIn => new GpuIn([.. values.Select(l => (Symbols.Find(l.GpuName), l.GpuCount))], false),
        _ => throw new InvalidOperationException($"{op} on gpu"),
    };

    private sealed class GpuPresent(bool present) : Condition
    {
        public override bool Matches(OfferView v) => v.GpuNames.Length > 0 == present;
    }

    private sealed class GpuGlob(Glob glob) : Condition
    {
        public override bool Matches(OfferView v)
        {
            foreach (var name in v.GpuNames)
                if (glob.Matches(name)) return true;
            return false;
        }
    }

    // gpu="" means no accelerators; "A100" any count of A100; "A100:8" exactly eight.
    private sealed class GpuIn((string Name, int Count)[] set, bool member) : Condition
    {
        public override bool Matches(OfferView v)
        {
            foreach (var (name, count) in set)
                if (Has(v, name, count)) return member;
            return !member;
        }

        private static bool Has(OfferView v, string name, int count)
        {
            if (name.Length == 0) return v.GpuNames.Length == 0;
            var names = v.GpuNames;
            for (var i = 0; i < names.Length; i++)
                if (string.Equals(names[i], name) && (count == 0 || v.GpuCounts[i] == count)) return true;
            return false;
        }
    }

    // ---- attributes ----

    private static Condition Attribute(string key, SelectorOp op, Literal[] values) => op switch
    {
        SelectorOp.Present => new AttributePresent(key, true),
        SelectorOp.Absent => new AttributePresent(key, false),
        SelectorOp.Equal => new AttributeIn(key, [values[0].Lower], true),
        SelectorOp.NotEqual => new AttributeIn(key, [values[0].Lower], false),
        SelectorOp.In => new AttributeIn(key, [.. values.Select(l => l.Lower)], true),
        SelectorOp.NotIn => new AttributeIn(key, [.. values.Select(l => l.Lower)], false),
        SelectorOp.Glob => new AttributeGlob(key, new Glob(values[0].Lower)),
        _ => new AttributeCompare(key, op, values[0]),
    };

    private sealed class AttributePresent(string key, bool present) : Condition
    {
        public override bool Matches(OfferView v) => v.Attributes.ContainsKey(key) == present;
    }

    // A missing attribute compares as "" here, so attr="" also matches offers without it.
    private sealed class AttributeIn(string key, string[] set, bool member) : Condition
    {
        public override bool Matches(OfferView v)
        {
            var s = v.Attributes.TryGetValue(key, out var value) ? value : "";
            return set.Contains(s) == member;
        }
    }

    private sealed class AttributeGlob(string key, Glob glob) : Condition
    {
        public override bool Matches(OfferView v) => v.Attributes.TryGetValue(key, out var s) && glob.Matches(s);
    }

    // Ranges compare as numbers when both sides are numbers, otherwise as versions (non-numeric text ordinally).
    private sealed class AttributeCompare(string key, SelectorOp op, Literal literal) : Condition
    {
        public override bool Matches(OfferView v)
        {
            if (!v.Attributes.TryGetValue(key, out var s)) return false;
            var c = literal.AttributeNumber is { } n && Literal.TryParseDecimal(s, out var d)
                ? d.CompareTo(n)
                : VersionValue.Parse(s).CompareTo(literal.Version);
            return op switch
            {
                SelectorOp.Less => c < 0,
                SelectorOp.LessOrEqual => c <= 0,
                SelectorOp.Greater => c > 0,
                _ => c >= 0,
            };
        }
    }
}
