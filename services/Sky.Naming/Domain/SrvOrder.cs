namespace Sky.Naming.Domain;

/// <summary>
/// RFC 2782 target selection order: ascending priority; within one priority a weighted random draw
/// (running-sum method), a fresh one each call. Two choices where the RFC leaves room:
/// targets start in random order ("any order"), so equal weights (notably the default 0) take turns
/// first; and the draw is exactly proportional to weight: it runs over 1..total, plus 0 only when a
/// zero-weight target is left, which then has a 1 in (total + 1) chance (the RFC's "very small chance").
/// </summary>
public static class SrvOrder
{
    public static List<T> Order<T>(IEnumerable<T> targets, Func<T, int> priority, Func<T, int> weight, Random? random = null)
    {
        random ??= Random.Shared;
        var ordered = new List<T>();
        foreach (var group in targets.GroupBy(priority).OrderBy(g => g.Key))
        {
            var shuffled = group.ToArray();
            random.Shuffle(shuffled);
            // Zero weights first, as the RFC places them, so a draw of 0 picks one of them.
            var pending = shuffled.OrderBy(t => Weight(t) == 0 ? 0 : 1).ToList();
            while (pending.Count > 0)
            {
                var total = pending.Sum(t => (long)Weight(t));
                var anyZero = Weight(pending[0]) == 0;
                var draw = total == 0 ? 0 : random.NextInt64(anyZero ? 0 : 1, total + 1);
                var pick = PickIndex(pending, Weight, draw);
                ordered.Add(pending[pick]);
                pending.RemoveAt(pick);
            }
        }
        return ordered;

        int Weight(T target) => Math.Max(0, weight(target));
    }

    /// <summary>The first target whose running weight sum is >= <paramref name="draw"/>.</summary>
    private static int PickIndex<T>(List<T> pending, Func<T, int> weight, long draw)
    {
        long running = 0;
        for (var i = 0; i < pending.Count; i++)
        {
            running += weight(pending[i]);
            if (running >= draw) return i;
        }
        return pending.Count - 1;
    }
}
