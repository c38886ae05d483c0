using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sky.Naming.Domain;

namespace Sky.Naming.Tests;

/// <summary>RFC 2782 ordering: priorities ascending, weighted shuffle within a priority. Seeded, so every count here is deterministic.</summary>
public sealed class SrvOrderTests
{
    private sealed record Target(string Name, int Priority, int Weight);

    private static List<Target> Order(IEnumerable<Target> targets, Random random) =>
        SrvOrder.Order(targets, t => t.Priority, t => t.Weight, random);

    [Fact]
    public void Lower_priorities_come_first_whatever_the_weights()
    {
        var targets = new[] { new Target("c", 20, 65535), new Target("a", 0, 0), new Target("b", 10, 1), new Target("a2", 0, 5) };
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
            Assert.Equal([0, 0, 10, 20], Order(targets, random).Select(t => t.Priority));
    }

    [Fact]
    public void A_zero_weight_target_is_picked_first_rarely_when_a_weighted_one_competes()
    {
        var targets = new[] { new Target("zero", 0, 0), new Target("heavy", 0, 100) };
        var random = new Random(2782);
        const int runs = 10_000;
        var zeroFirst = Enumerable.Range(0, runs).Count(_ => Order(targets, random)[0].Name == "zero");
        // The running-sum draw picks "zero" first only on a draw of 0 out of 0..100: about 1 in 101.
        Assert.InRange(zeroFirst, 1, runs / 20);
    }

    [Fact]
    public void Weights_share_first_place_in_proportion()
    {
        // Small weights, where an inclusive 0..sum draw would favour whoever is first in line (1:3 -> 40/60).
        var targets = new[] { new Target("light", 0, 1), new Target("heavy", 0, 3) };
        var random = new Random(42);
        const int runs = 20_000;
        var heavyFirst = Enumerable.Range(0, runs).Count(_ => Order(targets, random)[0].Name == "heavy");
        // Expected 3/4 of runs (15,000); a seeded run lands well inside +-3 %.
        Assert.InRange(heavyFirst, runs * 72 / 100, runs * 78 / 100);
    }

    [Fact]
    public void Equal_weights_including_the_default_zero_take_turns_in_first_place()
    {
        var targets = new[] { new Target("a", 0, 0), new Target("b", 0, 0) };
        var random = new Random(9);
        const int runs = 10_000;
        var aFirst = Enumerable.Range(0, runs).Count(_ => Order(targets, random)[0].Name == "a");
        Assert.InRange(aFirst, runs * 45 / 100, runs * 55 / 100);
    }

    [Property(MaxTest = 200)]
    public Property Ordering_is_a_permutation_sorted_by_priority(int seed, NonEmptyArray<int> entries)
    {
        // Each entry encodes a priority (0..3, so groups are common) and a weight (0..65535).
        var targets = entries.Get.Select((e, i) => new Target($"t{i}", (int)((uint)e % 4), (int)((uint)e / 4 % 65536))).ToList();
        var ordered = Order(targets, new Random(seed));
        var isPermutation = ordered.Select(t => t.Name).Order().SequenceEqual(targets.Select(t => t.Name).Order());
        var sorted = ordered.Select(t => t.Priority).SequenceEqual(ordered.Select(t => t.Priority).Order());
        return (isPermutation && sorted).ToProperty();
    }
}
