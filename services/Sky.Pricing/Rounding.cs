namespace Sky.Pricing;

/// <summary>
/// The one place money is rounded. Amounts stay exact decimals through every computation (quotes, plans,
/// rating); they are rounded only when shown or invoiced, to the cent, half away from zero ("half-up" as
/// invoices do it, not banker's rounding, so 0.125 shows as 0.13; a credit rounds like the charge it
/// reverses).
/// </summary>
public static class Rounding
{
    /// <summary>Decimal places of a cent.</summary>
    public const int CentDecimals = 2;

    /// <summary>The amount rounded to the cent, half away from zero.</summary>
    public static decimal ToCents(decimal amount) => Math.Round(amount, CentDecimals, MidpointRounding.AwayFromZero);

    /// <summary>Decimal places of Money (units + nanos).</summary>
    public const int NanoDecimals = 9;

    /// <summary>The amount rounded to the nano, half away from zero: what fits in Money when a contract carries it.</summary>
    public static decimal ToNanos(decimal amount) => Math.Round(amount, NanoDecimals, MidpointRounding.AwayFromZero);

    /// <summary>The amount as a contract carries it (Money: units and nanos), rounded to the nano by <see cref="ToNanos"/>.</summary>
    public static Sky.Common.V1.Money ToMoney(decimal amount, string currency) => Sky.Common.V1.Money.FromDecimal(ToNanos(amount), currency);
}
