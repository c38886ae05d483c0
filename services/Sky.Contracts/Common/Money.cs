namespace Sky.Common.V1;

/// <summary>Exact conversions between <see cref="Money"/> (units + nanos) and <see cref="decimal"/>; never via double.</summary>
public sealed partial class Money
{
    private const decimal NanosPerUnit = 1_000_000_000m;

    /// <summary>The amount as a decimal (exact: nanos are 9 decimal places).</summary>
    public decimal ToDecimal() => Units + Nanos / NanosPerUnit;

    /// <summary>
    /// Money of <paramref name="amount"/> in <paramref name="currencyCode"/>. Throws <see cref="ArgumentException"/>
    /// when the amount has more than 9 decimal places (it would not be exact) or does not fit in int64 units.
    /// </summary>
    public static Money FromDecimal(decimal amount, string currencyCode)
    {
        var units = decimal.Truncate(amount);
        var nanos = (amount - units) * NanosPerUnit;
        if (nanos != decimal.Truncate(nanos))
            throw new ArgumentException($"{amount} has more than 9 decimal places", nameof(amount));
        if (units < long.MinValue || units > long.MaxValue)
            throw new ArgumentException($"{amount} is out of range", nameof(amount));
        return new Money { CurrencyCode = currencyCode, Units = (long)units, Nanos = (int)nanos };
    }

    /// <summary>True when units and nanos are in range and agree in sign (google.type.Money rules).</summary>
    public bool IsWellFormed() =>
        Nanos is > -1_000_000_000 and < 1_000_000_000 && !(Units > 0 && Nanos < 0) && !(Units < 0 && Nanos > 0);
}
