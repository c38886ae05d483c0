using System.Buffers;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Hosting.Errors;

namespace Sky.Directory.Query;

/// <summary>A ranking criterion; lower values rank first.</summary>
internal enum Criterion { Price, SpotPrice, Load, Distance }

/// <summary>
/// A validated Preference: each weighted criterion (hourly or spot price, load, distance from `near`) is
/// min-max normalised over the matching offers and summed with its weight; lower scores first. An offer
/// missing a weighted criterion ranks after every offer that has them all (fewer missing first); ties by offer_id.
/// With one criterion normalising changes nothing, so the raw value is the score.
/// </summary>
internal sealed class Ranking
{
    private readonly (Criterion Criterion, double Weight)[] criteria;
    private readonly string nearProvider = "", nearRegion = "", nearZone = "";
    private readonly int nearCentre = -1;
    // Kilometres from `near` to each known region centre (by centre id); empty when near's centre is unknown.
    private readonly double[] kmFromNear = [];

    private Ranking(Preference p)
    {
        var list = new List<(Criterion, double)>(3);
        if (p.PriceWeight > 0) list.Add((p.Spot ? Criterion.SpotPrice : Criterion.Price, p.PriceWeight));
        if (p.LoadWeight > 0) list.Add((Criterion.Load, p.LoadWeight));
        if (p.DistanceWeight > 0)
        {
            list.Add((Criterion.Distance, p.DistanceWeight));
            nearProvider = Symbols.Find(p.Near.Provider.ToLowerInvariant());
            nearRegion = Symbols.Find(p.Near.Region.ToLowerInvariant());
            nearZone = Symbols.Find(p.Near.Zone.ToLowerInvariant());
            nearCentre = RegionCentres.IdOf(nearProvider, nearRegion);
            if (nearCentre >= 0)
            {
                kmFromNear = new double[RegionCentres.Count];
                for (var i = 0; i < kmFromNear.Length; i++) kmFromNear[i] = RegionCentres.DistanceKm(nearCentre, i);
            }
        }
        criteria = [.. list];
    }

    /// <summary>The only criterion, when there is one; null when several are mixed.</summary>
    public Criterion? Single => criteria.Length == 1 ? criteria[0].Criterion : null;

    /// <summary>The ranking a preference asks for; null when it asks for none (all weights 0).</summary>
    public static Ranking? From(Preference? preference)
    {
        if (preference is null) return null;
        Check(preference.PriceWeight, "preference.price_weight");
        Check(preference.LoadWeight, "preference.load_weight");
        Check(preference.DistanceWeight, "preference.distance_weight");
        if (preference.DistanceWeight > 0)
        {
            if (preference.Near is null) throw RpcErrors.InvalidArgument("preference.near", "required when distance_weight > 0");
            if (preference.Near.Provider.Length == 0) throw RpcErrors.InvalidArgument("preference.near.provider", "required when distance_weight > 0");
            if (preference.Near.Region.Length == 0) throw RpcErrors.InvalidArgument("preference.near.region", "required when distance_weight > 0");
        }
        if (preference.Near is { Region.Length: > 0, Provider.Length: 0 })
            throw RpcErrors.InvalidArgument("preference.near.provider", "required with a region");
        if (preference.Near is { Zone.Length: > 0, Region.Length: 0 })
            throw RpcErrors.InvalidArgument("preference.near.region", "required with a zone");
        return preference.PriceWeight == 0 && preference.LoadWeight == 0 && preference.DistanceWeight == 0 ? null : new Ranking(preference);
    }

    private static void Check(double weight, string field)
    {
        if (!double.IsFinite(weight) || weight < 0) throw RpcErrors.InvalidArgument(field, "must be a finite number >= 0");
    }

    /// <summary>A criterion's raw value for a slot; NaN when the offer lacks it.</summary>
    public double Raw(Criterion criterion, OfferColumns c, int slot)
    {
        switch (criterion)
        {
            // Nano-units convert to double exactly below 2^53 (9 million per hour), so the order is the exact one.
            case Criterion.Price: return c.Price[slot] is var p && p != OfferView.NoPrice ? p : double.NaN;
            case Criterion.SpotPrice: return c.Spot[slot] is var s && s != OfferView.NoPrice ? s : double.NaN;
            case Criterion.Load: return c.Load[slot];
            default: return Distance(c, slot);
        }
    }

    // Same zone 0, same region 1, other regions 2 + great-circle km between region centres, unknown NaN.
    private double Distance(OfferColumns c, int slot)
    {
        var centre = c.Centre[slot];
        // Centre ids are unique per (provider, region): equal ids are the same region, no text compared.
        var sameRegion = nearCentre >= 0
            ? centre == nearCentre
            : string.Equals(c.Provider[slot], nearProvider) && string.Equals(c.Region[slot], nearRegion);
        if (sameRegion) return nearZone.Length == 0 || string.Equals(c.Zone[slot], nearZone) ? 0 : 1;
        return centre >= 0 && nearCentre >= 0 ? 2 + kmFromNear[centre] : double.NaN;
    }

    // One loop per criterion over the matches' slots (no switch per offer).
    private void Fill(Criterion criterion, OfferColumns c, int[] matches, int count, double[] raw)
    {
        switch (criterion)
        {
            case Criterion.Price:
                for (var i = 0; i < count; i++) raw[i] = c.Price[matches[i]] is var p && p != OfferView.NoPrice ? p : double.NaN;
                break;
            case Criterion.SpotPrice:
                for (var i = 0; i < count; i++) raw[i] = c.Spot[matches[i]] is var p && p != OfferView.NoPrice ? p : double.NaN;
                break;
            case Criterion.Load:
                for (var i = 0; i < count; i++) raw[i] = c.Load[matches[i]];
                break;
            default:
                for (var i = 0; i < count; i++) raw[i] = Distance(c, matches[i]);
                break;
        }
    }

    /// <summary>The page at <paramref name="offset"/> of the ranked matching slots; sorts only the first offset + size.</summary>
    public (IReadOnlyList<Offer>, Sky.Common.V1.PageResponse) Page(OfferColumns c, int[] matches, int count, int offset, int size, string binding)
    {
        if (offset >= count) return ([], new Sky.Common.V1.PageResponse());
        var score = ArrayPool<double>.Shared.Rent(count);
        var raw = ArrayPool<double>.Shared.Rent(count);
        var missing = ArrayPool<int>.Shared.Rent(count);
        var entries = ArrayPool<OfferQuery.Entry>.Shared.Rent(count);
        try
        {
            Array.Clear(score, 0, count);
            Array.Clear(missing, 0, count);
            foreach (var (criterion, weight) in criteria)
            {
                Fill(criterion, c, matches, count, raw);
                double min = double.PositiveInfinity, max = double.NegativeInfinity;
                for (var i = 0; i < count; i++)
                {
                    var r = raw[i];
                    if (r < min) min = r;
                    if (r > max) max = r;
                }
                var scale = max > min ? weight / (max - min) : 0;
                for (var i = 0; i < count; i++)
                {
                    if (double.IsNaN(raw[i])) missing[i]++;
                    else score[i] += (raw[i] - min) * scale;
                }
            }
            for (var i = 0; i < count; i++) entries[i] = new OfferQuery.Entry(score[i], matches[i], missing[i]);
            var wanted = (int)Math.Min((long)offset + size, count);
            var n = TopK.Select(entries, count, wanted, new OfferQuery.EntryOrder(c));
            var offers = new Offer[n - offset];
            for (var i = offset; i < n; i++) offers[i - offset] = c.Views[entries[i].Slot]!.Offer;
            var next = n < count ? QueryPageToken.AtOffset(binding, n) : "";
            return (offers, new Sky.Common.V1.PageResponse { NextPageToken = next });
        }
        finally
        {
            ArrayPool<double>.Shared.Return(score);
            ArrayPool<double>.Shared.Return(raw);
            ArrayPool<int>.Shared.Return(missing);
            ArrayPool<OfferQuery.Entry>.Shared.Return(entries);
        }
    }
}
