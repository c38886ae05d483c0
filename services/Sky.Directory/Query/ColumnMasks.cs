using System.Numerics;
using System.Runtime.Intrinsics;

namespace Sky.Directory.Query;

/// <summary>
/// Range tests over whole columns, 64 slots per bitmap word: vector compares produce the word's mask, which is
/// ANDed into the candidates. Words with no candidate left are skipped.
/// </summary>
internal static class ColumnMasks
{
    /// <summary>
    /// ANDs each candidate word in [<paramref name="from"/>, <paramref name="to"/>) with "min &lt;= x &lt;= max" (or its
    /// negation when <paramref name="inside"/> is false). NaN is outside every range. Returns true, so a condition can
    /// use it as "applied".
    /// </summary>
    public static bool AndRange<T>(T[] column, T min, T max, bool inside, ulong[] bits, int from, int to) where T : unmanaged, INumber<T>
    {
        var lo = Vector256.Create(min);
        var hi = Vector256.Create(max);
        for (var w = from; w < to; w++)
        {
            var word = bits[w];
            if (word == 0) continue;
            var start = w << 6;
            ulong mask = 0;
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                for (var j = 0; j < 64; j += Vector256<T>.Count)
                {
                    var x = Vector256.Create<T>(column.AsSpan(start + j, Vector256<T>.Count));
                    var pass = Vector256.GreaterThanOrEqual(x, lo) & Vector256.LessThanOrEqual(x, hi);
                    mask |= (ulong)pass.ExtractMostSignificantBits() << j;
                }
            }
            else
            {
                for (var j = 0; j < 64; j++)
                {
                    var x = column[start + j];
                    if (x >= min && x <= max) mask |= 1UL << j;
                }
            }
            bits[w] = word & (inside ? mask : ~mask);
        }
        return true;
    }

    // One word's worth (64 slots from start) of simple tests, for pruning a scan by the page's current worst entry.

    /// <summary>Slots whose value is &lt;= max (NaN fails).</summary>
    public static ulong AtMost(double[] column, int start, double max)
    {
        ulong mask = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var hi = Vector256.Create(max);
            for (var j = 0; j < 64; j += Vector256<double>.Count)
                mask |= (ulong)Vector256.LessThanOrEqual(Vector256.Create(column.AsSpan(start + j, Vector256<double>.Count)), hi).ExtractMostSignificantBits() << j;
            return mask;
        }
        for (var j = 0; j < 64; j++)
            if (column[start + j] <= max) mask |= 1UL << j;
        return mask;
    }

    /// <summary>Slots with a price (not <see cref="OfferView.NoPrice"/>) &lt;= max.</summary>
    public static ulong PricesAtMost(long[] column, int start, long max)
    {
        ulong mask = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lo = Vector256.Create(OfferView.NoPrice + 1);
            var hi = Vector256.Create(max);
            for (var j = 0; j < 64; j += Vector256<long>.Count)
            {
                var x = Vector256.Create(column.AsSpan(start + j, Vector256<long>.Count));
                mask |= (ulong)(Vector256.GreaterThanOrEqual(x, lo) & Vector256.LessThanOrEqual(x, hi)).ExtractMostSignificantBits() << j;
            }
            return mask;
        }
        for (var j = 0; j < 64; j++)
            if (column[start + j] is var x && x != OfferView.NoPrice && x <= max) mask |= 1UL << j;
        return mask;
    }

    /// <summary>Slots whose (unsigned) value is &lt;= max, or &gt;= min with <paramref name="atLeast"/>.</summary>
    public static ulong Compare(ulong[] column, int start, ulong bound, bool atLeast)
    {
        ulong mask = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var b = Vector256.Create(bound);
            for (var j = 0; j < 64; j += Vector256<ulong>.Count)
            {
                var x = Vector256.Create(column.AsSpan(start + j, Vector256<ulong>.Count));
                var pass = atLeast ? Vector256.GreaterThanOrEqual(x, b) : Vector256.LessThanOrEqual(x, b);
                mask |= (ulong)pass.ExtractMostSignificantBits() << j;
            }
            return mask;
        }
        for (var j = 0; j < 64; j++)
            if (atLeast ? column[start + j] >= bound : column[start + j] <= bound) mask |= 1UL << j;
        return mask;
    }
}
