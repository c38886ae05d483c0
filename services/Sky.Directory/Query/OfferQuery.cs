using System.Buffers;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Store;

namespace Sky.Directory.Query;

/// <summary>
/// QueryOffers over an <see cref="OfferIndex"/>: scan the smallest posting set the selector's equality / in /
/// glob clauses allow (or every slot), test the other conditions on the index's columns, and keep only the
/// best offset + page_size matches in a bounded heap as they come (offer_id order, or one ranking criterion).
/// A mix of criteria needs each one's range over all matches first: those collect the matching slots, score them
/// and partially sort just the page.
/// </summary>
public static class OfferQuery
{
    /// <summary>Parses a selector; a malformed one fails with INVALID_ARGUMENT on <paramref name="field"/>, "at OFFSET: why".</summary>
    public static Selector ParseSelector(string text, string field = "selector")
    {
        try
        {
            return Selector.Parse(text ?? "");
        }
        catch (SelectorException e)
        {
            throw RpcErrors.InvalidArgument(field, $"at {e.Position}: {e.Message}");
        }
    }

    /// <summary>
    /// Runs a query: the page of matching offers, best first, and the next page token. The caller fills in
    /// the revision. Throws INVALID_ARGUMENT for a bad selector, preference, page size or page token.
    /// </summary>
    public static (IReadOnlyList<Offer> Offers, PageResponse Page) Execute(OfferIndex index, QueryOffersRequest request)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(request);
        var selector = ParseSelector(request.Selector);
        var ranking = Ranking.From(request.Preference);
        var size = PageSize(request.Page);
        var binding = QueryPageToken.Binding(request.Selector, request.Preference);
        var token = QueryPageToken.Decode(request.Page?.PageToken, binding, ranking is not null);
        var plan = Plan(index, selector);

        if (ranking is null) return Best(index, plan, null, null, token.AfterId, 0, size, binding);
        if (ranking.Single is { } criterion) return Best(index, plan, ranking, criterion, null, token.Offset, size, binding);

        var collector = new Collector(ArrayPool<int>.Shared.Rent(Math.Max(1, plan.Estimate)));
        try
        {
            Scan(index, plan, ref collector);
            return ranking.Page(index.Columns, collector.Slots, collector.Count, token.Offset, size, binding);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(collector.Slots);
        }
    }

    /// <summary>Every matching offer in slot order (for callers that need the whole set, e.g. a Watch catching up).</summary>
    public static List<OfferView> Matching(OfferIndex index, Selector selector)
    {
        var plan = Plan(index, selector);
        var collector = new Collector(ArrayPool<int>.Shared.Rent(Math.Max(1, plan.Estimate)));
        try
        {
            Scan(index, plan, ref collector);
            var list = new List<OfferView>(collector.Count);
            for (var i = 0; i < collector.Count; i++) list.Add(index.Columns.Views[collector.Slots[i]]!);
            return list;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(collector.Slots);
        }
    }

    internal static int PageSize(PageRequest? page)
    {
        var size = page?.PageSize ?? 0;
        if (size < 0) throw RpcErrors.InvalidArgument("page.page_size", "must be >= 0");
        return size == 0 ? Paging.DefaultPageSize : Math.Min(size, Paging.MaxPageSize);
    }

    // ---- plan and scan ----

    /// <summary>
    /// The posting sets of the selector's most selective hint (no hint: every slot), their total size, and the
    /// conditions still to test on each candidate.
    /// </summary>
    internal sealed record ScanPlan(IndexHint? Hint, List<HashSet<int>> Sets, List<string> Keys, int Estimate, Condition[] Conditions);

    internal static ScanPlan Plan(OfferIndex index, Selector selector)
    {
        ScanPlan? best = null;
        foreach (var hint in selector.Hints)
        {
            var postings = index.Postings(hint.Field);
            var sets = new List<HashSet<int>>();
            var keys = new List<string>();
            var total = 0;
            if (hint.Keys is not null)
            {
                foreach (var key in hint.Keys)
                    if (postings.TryGetValue(key, out var set)) { sets.Add(set); keys.Add(key); total += set.Count; }
            }
            else
            {
                foreach (var (key, set) in postings)
                    if (key.Length > 0 && hint.Glob!.Matches(key)) { sets.Add(set); keys.Add(key); total += set.Count; }
            }
            if (best is null || total < best.Estimate) best = new ScanPlan(hint, sets, keys, total, []);
            if (total == 0) break;
        }
        if (best is null || best.Estimate >= index.Count) return new ScanPlan(null, [], [], index.Count, selector.ConditionsBeside(null));
        return best with { Conditions = selector.ConditionsBeside(best.Hint) };
    }

    /// <summary>Receives the matching slots of a scan, a batch at a time.</summary>
    internal interface ISlotVisitor
    {
        void Visit(ReadOnlySpan<int> slots);
    }

    private const int BatchSize = 1024;

    /// <summary>
    /// Calls <paramref name="visitor"/> with every slot the plan's candidates and conditions admit. Candidates go
    /// in batches through one condition at a time (generic so the JIT inlines the visitor).
    /// </summary>
    internal static void Scan<TVisitor>(OfferIndex index, ScanPlan plan, ref TVisitor visitor) where TVisitor : struct, ISlotVisitor
    {
        var c = index.Columns;
        var batch = ArrayPool<int>.Shared.Rent(BatchSize);
        try
        {
            var n = 0;
            if (plan.Hint is null)
            {
                var views = c.Views;
                var end = index.HighWater;
                for (var slot = 0; slot < end; slot++)
                {
                    if (views[slot] is null) continue;
                    batch[n++] = slot;
                    if (n == BatchSize) { Flush(c, plan.Conditions, batch, n, ref visitor); n = 0; }
                }
            }
            else
            {
                var dedupe = OfferIndex.IsMultiValued(plan.Hint.Field) && plan.Sets.Count > 1;
                for (var s = 0; s < plan.Sets.Count; s++)
                {
                    var key = plan.Keys[s];
                    foreach (var slot in plan.Sets[s])
                    {
                        // An offer with two selected accelerator models sits in two sets: take it from the first.
                        if (dedupe && c.Views[slot]!.GpuNames.Length > 1 && FirstSelectedGpu(c.Views[slot]!, plan.Hint) != key) continue;
                        batch[n++] = slot;
                        if (n == BatchSize) { Flush(c, plan.Conditions, batch, n, ref visitor); n = 0; }
                    }
                }
            }
            if (n > 0) Flush(c, plan.Conditions, batch, n, ref visitor);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(batch);
        }
    }

    private static void Flush<TVisitor>(OfferColumns c, Condition[] conditions, int[] batch, int n, ref TVisitor visitor) where TVisitor : struct, ISlotVisitor
    {
        for (var i = 0; i < conditions.Length && n > 0; i++) n = conditions[i].Filter(c, batch.AsSpan(0, n));
        if (n > 0) visitor.Visit(batch.AsSpan(0, n));
    }

    private static string? FirstSelectedGpu(OfferView view, IndexHint hint)
    {
        foreach (var name in view.GpuNames)
            if (hint.Keys is not null ? Array.IndexOf(hint.Keys, name) >= 0 : name.Length > 0 && hint.Glob!.Matches(name))
                return name;
        return null;
    }

    private struct Collector(int[] slots) : ISlotVisitor
    {
        public readonly int[] Slots = slots;
        public int Count;

        public void Visit(ReadOnlySpan<int> batch)
        {
            batch.CopyTo(Slots.AsSpan(Count));
            Count += batch.Length;
        }
    }

    // ---- offer_id order and single-criterion rankings: a bounded heap over the scan ----

    // Unranked pages continue after the last offer_id returned (robust to offers added or removed between pages);
    // ranked pages continue at an offset into the ranking.
    private static (IReadOnlyList<Offer>, PageResponse) Best(
        OfferIndex index, ScanPlan plan, Ranking? ranking, Criterion? criterion, string? afterId, int offset, int size, string binding)
    {
        var k = (int)Math.Min((long)offset + size, Math.Max(1, plan.Estimate));
        var best = new BestVisitor(index.Columns, ranking, criterion, afterId, k);
        try
        {
            Scan(index, plan, ref best);
            var n = best.Sort();
            var c = index.Columns;
            if (ranking is null)
            {
                var page = new Offer[n];
                for (var i = 0; i < n; i++) page[i] = c.Views[best.Heap[i].Slot]!.Offer;
                var next = best.Count > n ? QueryPageToken.AfterOffer(binding, page[^1].OfferId) : "";
                return (page, new PageResponse { NextPageToken = next });
            }
            if (offset >= n) return ([], new PageResponse());
            var offers = new Offer[n - offset];
            for (var i = offset; i < n; i++) offers[i - offset] = c.Views[best.Heap[i].Slot]!.Offer;
            var more = best.Count > n ? QueryPageToken.AtOffset(binding, n) : "";
            return (offers, new PageResponse { NextPageToken = more });
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(best.Heap);
        }
    }

    /// <summary>A heap entry: the criterion's value (+infinity when missing, so missing ranks last) and the slot.</summary>
    internal readonly record struct Entry(double Key, int Slot);

    /// <summary>Keeps the k best matches seen so far in a max-heap (its root is the worst of them).</summary>
    private struct BestVisitor(OfferColumns c, Ranking? ranking, Criterion? criterion, string? afterId, int k) : ISlotVisitor
    {
        public readonly Entry[] Heap = ArrayPool<Entry>.Shared.Rent(k);
        /// <summary>Matches seen (after the page token's offer_id, for unranked pages).</summary>
        public int Count;
        private int size;
        private readonly ulong afterKey = afterId is null ? 0 : OfferView.SortKeyOf(afterId);

        public void Visit(ReadOnlySpan<int> slots)
        {
            // One loop per kind of key, so the loop body has no switch.
            switch (criterion)
            {
                case null:
                    foreach (var slot in slots)
                    {
                        if (afterId is not null && AtOrBeforeAfterId(slot)) continue;
                        Count++;
                        Offer(0, slot);
                    }
                    break;
                case Criterion.Price:
                    Count += slots.Length;
                    foreach (var slot in slots) Offer(PriceKey(c.Price[slot]), slot);
                    break;
                case Criterion.SpotPrice:
                    Count += slots.Length;
                    foreach (var slot in slots) Offer(PriceKey(c.Spot[slot]), slot);
                    break;
                default:
                    Count += slots.Length;
                    foreach (var slot in slots)
                    {
                        var key = ranking!.Raw(criterion.Value, c, slot);
                        Offer(double.IsNaN(key) ? double.PositiveInfinity : key, slot);
                    }
                    break;
            }
        }

        // Nano-units convert to double exactly below 2^53 (9 million per hour); a missing price ranks last.
        private static double PriceKey(long nanos) => nanos == OfferView.NoPrice ? double.PositiveInfinity : nanos;

        private void Offer(double key, int slot)
        {
            if (size < k)
            {
                Heap[size] = new Entry(key, slot);
                SiftUp(size++);
            }
            else if (key < Heap[0].Key || key == Heap[0].Key && c.CompareIds(slot, Heap[0].Slot) < 0)
            {
                Heap[0] = new Entry(key, slot);
                SiftDown(0);
            }
        }

        /// <summary>Sorts the kept entries best first; returns how many there are.</summary>
        public readonly int Sort()
        {
            var cmp = new EntryOrder(c);
            Array.Sort(Heap, 0, size, cmp);
            return size;
        }

        private readonly bool AtOrBeforeAfterId(int slot)
        {
            var key = c.IdKey[slot];
            if (key != afterKey) return key < afterKey;
            return string.CompareOrdinal(c.Views[slot]!.OfferId, afterId) <= 0;
        }

        private readonly bool Before(Entry a, Entry b) => a.Key != b.Key ? a.Key < b.Key : c.CompareIds(a.Slot, b.Slot) < 0;

        private readonly void SiftUp(int i)
        {
            var item = Heap[i];
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Before(Heap[parent], item)) break;
                Heap[i] = Heap[parent];
                i = parent;
            }
            Heap[i] = item;
        }

        private readonly void SiftDown(int i)
        {
            var item = Heap[i];
            while (true)
            {
                var child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && Before(Heap[child], Heap[child + 1])) child++;
                if (!Before(item, Heap[child])) break;
                Heap[i] = Heap[child];
                i = child;
            }
            Heap[i] = item;
        }
    }

    private readonly struct EntryOrder(OfferColumns c) : IComparer<Entry>
    {
        public int Compare(Entry a, Entry b) => a.Key != b.Key ? (a.Key < b.Key ? -1 : 1) : c.CompareIds(a.Slot, b.Slot);
    }
}
