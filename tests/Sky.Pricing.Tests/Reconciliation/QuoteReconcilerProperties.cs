using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Pricing.Reconciliation;
using static Sky.Pricing.Tests.Reconciliation.Usages;

namespace Sky.Pricing.Tests.Reconciliation;

/// <summary>
/// Random jobs and transfers quoted and then billed by the one rater: with nothing changed, billed equals quoted exactly and
/// nothing needs explaining; with random changes (runtime, prices, peering, failover, late usage), billed - quoted is the
/// sum of the causes to the nano, line by line, and every cause is one of the changes actually made.
/// </summary>
public sealed class QuoteReconcilerProperties
{
    /// <summary>
    /// One quote line and what may happen to it. Compute: price in ten-thousandths per node-hour, quantity in tenths of a
    /// node-second; egress: price in hundred-thousandths per GB (tiered below it), quantity in hundredths of a GB. Peering:
    /// 0 none, 1 a 25 % discount, 2 free.
    /// </summary>
    public sealed record LineSpec(bool Egress, int Price, bool Spot, int Nodes, int Quantity, int QuotePeering,
        int RuntimePercent, int NewPrice, int UsagePeering, bool Moved, int LateQuantity);

    /// <summary>A quote and, when <see cref="FailedSeconds"/> &gt; 0, a failed attempt outside it.</summary>
    public sealed record Job(LineSpec[] Lines, int FailedSeconds);

    public static class Jobs
    {
        private static Gen<int> Sometimes(int none, Gen<int> changed) => Gen.Frequency((3, Gen.Constant(none)), (1, changed));

        private static readonly Gen<LineSpec> Line =
            from egress in Gen.Elements(false, true)
            from price in Gen.Choose(0, 50_000)
            from spot in Gen.Elements(false, true)
            from nodes in Gen.Choose(1, 8)
            from quantity in Gen.Choose(0, 2_000_000)
            from quotePeering in Gen.Choose(0, 2)
            from runtime in Sometimes(100, Gen.Choose(0, 300))
            from newPrice in Sometimes(-1, Gen.Choose(0, 50_000))
            from usagePeering in Sometimes(-1, Gen.Choose(0, 2))
            from moved in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
            from late in Sometimes(0, Gen.Choose(1, 100_000))
            select new LineSpec(egress, price, spot && !egress, nodes, quantity, quotePeering, runtime, newPrice,
                usagePeering < 0 ? quotePeering : usagePeering, moved, late);

        public static Arbitrary<Job> Arbitrary() =>
            (from count in Gen.Choose(1, 4)
             from lines in Gen.ArrayOf(Line, count)
             from failed in Sometimes(0, Gen.Choose(1, 36_000))
             select new Job(lines, failed)).ToArbitrary();
    }

    private sealed record Scenario(List<QuotedLine> Lines, List<BilledUsage> Usages, HashSet<(string LineId, CauseKind Kind)> Allowed);

    private static readonly QuoteReconciler Reconciler = new(Rater);

    private static IEgressAdjuster? Peering(int kind) => kind switch
    {
        1 => PeeringAgreement.Discount("discount", "aws", "", "gcp", "", 25m),
        2 => PeeringAgreement.Free("free", "aws", "", "gcp", ""),
        _ => null,
    };

    private static EgressTiers Tiers(int price)
    {
        var perGb = price / 100_000m;
        return new EgressTiers([new EgressBand(10_240, perGb), new EgressBand(51_200, perGb * 0.9m), new EgressBand(0, perGb / 2)]);
    }

    /// <summary>The quote and its usage, each rated by the one rater; with <paramref name="perturb"/> false, usage exactly as quoted.</summary>
    private static Scenario Build(Job job, bool perturb)
    {
        var lines = new List<QuotedLine>();
        var usages = new List<BilledUsage>();
        var allowed = new HashSet<(string, CauseKind)>();
        for (var i = 0; i < job.Lines.Length; i++)
        {
            var spec = job.Lines[i];
            var id = $"line-{i}";
            var runtime = perturb ? spec.RuntimePercent : 100;
            var moved = perturb && spec.Moved;
            var newPrice = perturb && !moved && spec.NewPrice >= 0 ? spec.NewPrice : spec.Price;
            var usagePeering = perturb && !moved ? spec.UsagePeering : spec.QuotePeering;
            var late = perturb ? spec.LateQuantity : 0;
            BilledUsage usage;
            if (spec.Egress)
            {
                var gb = spec.Quantity / 100m;
                lines.Add(EgressLine(id, $"grid-{i}", Tiers(spec.Price), gb, Peering(spec.QuotePeering)));
                usage = moved
                    ? EgressUsage($"u-{i}", id, $"grid-{i}-b", Tiers(spec.Price + 1_000), gb * runtime / 100m, Peering(spec.QuotePeering),
                        route: new EgressRoute("aws", "us-west-2", "gcp", "us-central1"))
                    : EgressUsage($"u-{i}", id, $"grid-{i}", Tiers(newPrice), gb * runtime / 100m, Peering(usagePeering),
                        revision: newPrice == spec.Price ? 1 : 2);
                if (late > 0) usages.Add(EgressUsage($"late-{i}", id, $"grid-{i}", Tiers(spec.Price), late / 100m, late: true));
            }
            else
            {
                var seconds = spec.Quantity / 10m;
                lines.Add(ComputeLine(id, $"offer-{i}", spec.Price / 10_000m, seconds, spec.Nodes, spec.Spot));
                usage = moved
                    ? ComputeUsage($"u-{i}", id, $"offer-{i}-b", (spec.Price + 1_234) / 10_000m, seconds * runtime / 100m, spec.Nodes)
                    : ComputeUsage($"u-{i}", id, $"offer-{i}", newPrice / 10_000m, seconds * runtime / 100m, spec.Nodes, spec.Spot,
                        revision: newPrice == spec.Price || spec.Spot ? 1 : 2);
                if (late > 0) usages.Add(ComputeUsage($"late-{i}", id, $"offer-{i}", spec.Price / 10_000m, late / 10m, spec.Nodes, late: true));
            }
            usages.Insert(usages.Count - (late > 0 ? 1 : 0), usage);

            if (runtime != 100) allowed.UnionWith([(id, CauseKind.LongerRun), (id, CauseKind.ShorterRun)]);
            if (newPrice != spec.Price) allowed.Add((id, spec.Spot ? CauseKind.SpotPriceChange : CauseKind.PriceBookRevision));
            if (usagePeering != spec.QuotePeering) allowed.UnionWith([(id, CauseKind.PeeringStarted), (id, CauseKind.PeeringEnded)]);
            if (moved) allowed.Add((id, CauseKind.Failover));
            if (late > 0) allowed.Add((id, CauseKind.LateUsage));
        }
        if (perturb && job.FailedSeconds > 0)
        {
            usages.Add(ComputeUsage("failed", null, "offer-0", 0.5m, job.FailedSeconds, reference: "job/task#1"));
            allowed.Add(("", CauseKind.Failover));
        }
        return new Scenario(lines, usages, allowed);
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Jobs)])]
    public bool Unchanged_usage_bills_exactly_the_quote_with_nothing_to_explain(Job job)
    {
        var scenario = Build(job, perturb: false);
        var r = Reconciler.Reconcile(scenario.Lines, scenario.Usages);
        return r.Billed == r.Quoted && r.Causes.Count == 0 && r.Lines.All(l => l.Billed == l.Quoted)
            && Rounding.ToCents(r.Billed) == Rounding.ToCents(r.Quoted);
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(Jobs)])]
    public void Every_difference_is_itemized_exactly_and_only_by_the_changes_made(Job job)
    {
        var scenario = Build(job, perturb: true);
        var r = Reconciler.Reconcile(scenario.Lines, scenario.Usages);

        Assert.Equal(scenario.Usages.Sum(u => u.Amount), r.Billed);
        Assert.Equal(r.Billed - r.Quoted, r.Causes.Sum(c => c.Amount));
        foreach (var line in r.Lines.Where(l => l.LineId.Length > 0))
            Assert.Equal(line.Billed - line.Quoted, r.Causes.Where(c => c.LineId == line.LineId).Sum(c => c.Amount));
        foreach (var cause in r.Causes)
        {
            Assert.NotEqual(0m, cause.Amount);
            Assert.True(scenario.Allowed.Contains((cause.LineId, cause.Kind)), $"{cause.Kind} on '{cause.LineId}' without its change: {cause.Description}");
        }
        var response = r.ToResponse("q", "s", final: true);
        Assert.Equal(response.Difference.ToDecimal(), response.Causes.Sum(c => c.Amount.ToDecimal()));
    }
}
