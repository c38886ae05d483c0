using System.Globalization;
using Sky.Common.V1;
using Sky.Directory.V1;

namespace Sky.Cli.Commands;

/// <summary>
/// <c>sky dir query --prefer/--near/--spot</c> as a directory <see cref="Preference"/>:
/// <c>cheapest</c> (price 1), <c>least-loaded</c> (load 1), <c>nearest=PROVIDER/REGION[/ZONE]</c> (distance 1
/// from there) or explicit weights <c>price=W,load=W,distance=W</c> (any subset, each &gt;= 0).
/// </summary>
public static class OfferPreference
{
    public const string Help = "Ranking: cheapest, least-loaded, nearest=PROVIDER/REGION[/ZONE] or weights price=W,load=W,distance=W (lower score first; default: by offer id)";

    /// <summary>The preference to send; null when nothing asks for a ranking (the directory then orders by offer id).</summary>
    public static Preference? Parse(string? prefer, string? near, bool spot)
    {
        var preference = new Preference();
        Location? nearFromPrefer = null;
        var text = prefer?.Trim() ?? "";

        if (text.Length == 0) { }
        else if (text == "cheapest") preference.PriceWeight = 1;
        else if (text == "least-loaded") preference.LoadWeight = 1;
        else if (text == "nearest") preference.DistanceWeight = 1;
        else if (text.StartsWith("nearest=", StringComparison.Ordinal))
        {
            preference.DistanceWeight = 1;
            nearFromPrefer = Flags.ParseLocation("--prefer nearest", text["nearest=".Length..], minParts: 2);
        }
        else ParseWeights(text, preference);

        var nearFlag = near is null ? null : Flags.ParseLocation("--near", near, minParts: 2);
        if (nearFromPrefer is not null && nearFlag is not null)
            throw new FormatException("--near: the reference location is already given by --prefer nearest=...; give it once");
        var reference = nearFromPrefer ?? nearFlag;

        if (reference is not null && preference.DistanceWeight == 0)
        {
            // --near on its own means "nearest to there"; next to a ranking without distance it would do nothing.
            if (text.Length > 0) throw new FormatException($"--near: '--prefer {text}' has no distance weight, so a reference location would change nothing");
            preference.DistanceWeight = 1;
        }
        if (preference.DistanceWeight > 0 && reference is null)
            throw new FormatException("--prefer: ranking by distance needs a reference location: nearest=PROVIDER/REGION or --near PROVIDER/REGION");
        if (reference is not null) preference.Near = reference;

        if (spot)
        {
            // --spot ranks by the spot price; alone it means "cheapest spot first".
            if (text.Length == 0 && reference is null) preference.PriceWeight = 1;
            else if (preference.PriceWeight == 0) throw new FormatException("--spot: ranks by the spot price, but the ranking has no price weight (add price=W to --prefer)");
            preference.Spot = true;
        }

        return preference.PriceWeight == 0 && preference.LoadWeight == 0 && preference.DistanceWeight == 0 ? null : preference;
    }

    private static void ParseWeights(string text, Preference preference)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var key = eq < 0 ? part : part[..eq];
            if (eq < 0 || key is not ("price" or "load" or "distance"))
                throw new FormatException($"--prefer: '{text}' is not cheapest, least-loaded, nearest=PROVIDER/REGION or weights such as price=1,load=0.5,distance=0.2");
            if (!seen.Add(key)) throw new FormatException($"--prefer: the {key} weight is given twice");
            var valueText = part[(eq + 1)..];
            if (!double.TryParse(valueText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight))
                throw new FormatException($"--prefer: {key} weight '{valueText}' is not a number >= 0");
            switch (key)
            {
                case "price": preference.PriceWeight = weight; break;
                case "load": preference.LoadWeight = weight; break;
                default: preference.DistanceWeight = weight; break;
            }
        }
    }
}
