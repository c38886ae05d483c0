using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Sky.Pricing.Tests;

/// <summary>
/// Properties of <see cref="EgressTiers.Cost"/> over random tiers and volumes: splitting a transfer never changes
/// its price (so the cost is continuous and additive), more volume never costs less, and each GB costs between
/// the cheapest and dearest tier price.
/// </summary>
public sealed class EgressTiersProperties
{
    public sealed record Case(EgressTiers Tiers, decimal A, decimal B, decimal Used);

    public static class Cases
    {
        // Prices with up to 4 decimal places, bounds up to 200,000 GB, volumes in hundredths of a GB: every
        // product is exact in decimal, so the properties must hold with ==, not within a tolerance.
        private static readonly Gen<EgressTiers> Tiers =
            from count in Gen.Choose(1, 5)
            from steps in Gen.ArrayOf(Gen.Choose(1, 60_000), count - 1)
            from prices in Gen.ArrayOf(Gen.Choose(0, 2_000), count)
            select Build(steps, prices);

        // Volumes cluster near the tier edges often enough to test them, and range far past them too.
        private static readonly Gen<decimal> Volume = Gen.OneOf(
            Gen.Choose(0, 30_000_000).Select(c => c / 100m),
            Gen.Elements(0m, 1m, 1_024m, 10_240m, 51_200m, 153_600m),
            Gen.Choose(-100, 100).Select(c => 10_240m + c / 100m));

        public static Arbitrary<Case> Arbitrary() =>
            (from tiers in Tiers
             from a in Volume
             from b in Volume
             from used in Volume
             select new Case(tiers, a, b, used)).ToArbitrary();

        private static EgressTiers Build(int[] steps, int[] prices)
        {
            var bands = new List<EgressBand>();
            long bound = 0;
            for (var i = 0; i < steps.Length; i++)
            {
                bound += steps[i];
                bands.Add(new EgressBand(bound, prices[i] / 10_000m));
            }
            bands.Add(new EgressBand(0, prices[^1] / 10_000m));
            return new EgressTiers(bands);
        }
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(Cases)])]
    public bool Splitting_a_transfer_never_changes_its_cost(Case c) =>
        c.Tiers.Cost(c.A + c.B, c.Used) == c.Tiers.Cost(c.A, c.Used) + c.Tiers.Cost(c.B, c.Used + c.A);

    [Property(MaxTest = 500, Arbitrary = [typeof(Cases)])]
    public bool Cost_from_zero_is_additive(Case c) =>
        c.Tiers.Cost(c.A + c.B) == c.Tiers.Cost(c.A) + c.Tiers.Cost(c.B, alreadyUsedGb: c.A);

    [Property(MaxTest = 500, Arbitrary = [typeof(Cases)])]
    public bool More_volume_never_costs_less(Case c)
    {
        var (low, high) = c.A <= c.B ? (c.A, c.B) : (c.B, c.A);
        return c.Tiers.Cost(low, c.Used) <= c.Tiers.Cost(high, c.Used);
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(Cases)])]
    public bool Each_gb_costs_between_the_cheapest_and_dearest_tier(Case c)
    {
        // Continuity: a small change in volume moves the cost by at most that change times the dearest price.
        var min = c.Tiers.Min(t => t.PricePerGb);
        var max = c.Tiers.Max(t => t.PricePerGb);
        var cost = c.Tiers.Cost(c.A, c.Used);
        return cost >= c.A * min && cost <= c.A * max;
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(Cases)])]
    public bool At_each_edge_the_cost_is_the_sum_of_the_full_tiers_below(Case c)
    {
        decimal lower = 0, full = 0;
        foreach (var band in c.Tiers.Where(t => !t.IsUnbounded))
        {
            full += (band.UpToGb - lower) * band.PricePerGb;
            if (c.Tiers.Cost(band.UpToGb) != full) return false;
            lower = band.UpToGb;
        }
        return true;
    }
}
