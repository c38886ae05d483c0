using System.Buffers;
using System.Numerics;
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
    // Clients repeat the same few selectors (a placement loop, a dashboard): parsed selectors are immutable, so the
    // last few thousand are kept; the cache is simply emptied when it fills.
    private const int CachedSelectors = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Selector> Parsed = new(StringComparer.Ordinal);

    /// <summary>Parses a selector; a malformed one fails with INVALID_ARGUMENT on <paramref name="field"/>, "at OFFSET: why".</summary>
    public static Selector ParseSelector(string text, string field = "selector")
    {
        text ??= "";
        if (Parsed.TryGetValue(text, out var cached)) return cached;
        try
        {
            var selector = Selector.Parse(text);
            if (Parsed.Count >= CachedSelectors) Parsed.Clear();
            Parsed[text] = selector;
            return selector;
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
        try
        {
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
        finally
        {
            plan.Release();
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
            plan.Release();
        }
    }

    internal static int PageSize(PageRequest? page)
    {
        var size = page?.PageSize ?? 0;
        if (size < 0) throw RpcErrors.InvalidArgument("page.page_size", "must be >= 0");
        return size == 0 ? Paging.DefaultPageSize : Math.Min(size, Paging.MaxPageSize);
    }

    // ---- plan and scan ----

    /// <summary>Below this many candidates a scan enumerates the smallest posting list; above, it intersects bitmaps.</summary>
    private const int BitmapPlanThreshold = 2048;

    /// <summary>
    /// Which slots a scan reads and which conditions it still tests there: the members of the smallest posting
    /// list's hint (few candidates), or a bitmap intersecting every hint's lists (many), or every live slot.
    /// </summary>
    internal sealed class ScanPlan
    {
        public IndexHint? Hint;
        public List<Posting> Lists = [];
        public List<string> Keys = [];
        public ulong[]? Bits;
        public bool RentedBits;
        /// <summary>The words of <see cref="Bits"/> that hold the candidates: [Lo, Hi). Words outside are not cleared (rented).</summary>
        public int Lo, Hi;
        /// <summary>An upper bound of the matches.</summary>
        public int Estimate;
        public Condition[] Conditions = [];

        public void Release()
        {
            if (RentedBits) ArrayPool<ulong>.Shared.Return(Bits!);
            RentedBits = false;
        }
    }

    internal static ScanPlan Plan(OfferIndex index, Selector selector)
    {
        var candidates = new List<(IndexHint Hint, List<Posting> Lists, List<string> Keys, int Total)>(selector.Hints.Length);
        var best = -1;
        foreach (var hint in selector.Hints)
        {
            var postings = index.Postings(hint.Field);
            var lists = new List<Posting>();
            var keys = new List<string>();
            var total = 0;
            if (hint.Keys is not null)
            {
                foreach (var key in hint.Keys)
                    if (postings.TryGetValue(key, out var posting)) { lists.Add(posting); keys.Add(key); total += posting.Count; }
            }
            else
            {
                foreach (var (key, posting) in postings)
                    if (key.Length > 0 && hint.Glob!.Matches(key)) { lists.Add(posting); keys.Add(key); total += posting.Count; }
            }
            candidates.Add((hint, lists, keys, total));
            if (best < 0 || total < candidates[best].Total) best = candidates.Count - 1;
        }

        var words = index.Words;
        var bits = ArrayPool<ulong>.Shared.Rent(Math.Max(1, words));
        int estimate, lo = 0, hi = words;
        IEnumerable<IndexHint> used;
        if (best < 0)
        {
            Array.Copy(index.Live, bits, words);
            estimate = index.Count;
            used = [];
        }
        else
        {
            var chosen = candidates[best];
            if (chosen.Total < BitmapPlanThreshold)
            {
                ArrayPool<ulong>.Shared.Return(bits);
                return new ScanPlan { Hint = chosen.Hint, Lists = chosen.Lists, Keys = chosen.Keys, Estimate = chosen.Total, Conditions = selector.ConditionsBeside([chosen.Hint]) };
            }
            // Many candidates: AND the hints' lists as bitmaps (a few thousand words each) so the conditions they
            // imply are never tested per slot. Only the words the chosen lists span are built and scanned (offers
            // registered together sit together, so a service's instances often fill a narrow band of slots).
            lo = int.MaxValue;
            hi = 0;
            foreach (var posting in chosen.Lists) { lo = Math.Min(lo, posting.FirstWord); hi = Math.Max(hi, posting.EndWord); }
            hi = Math.Min(hi, words);
            lo = Math.Min(lo, hi);
            Union(chosen.Lists, bits, lo, hi);
            var scratch = candidates.Count > 1 ? ArrayPool<ulong>.Shared.Rent(Math.Max(1, words)) : null;
            try
            {
                for (var i = 0; i < candidates.Count; i++)
                {
                    if (i == best) continue;
                    var lists = candidates[i].Lists;
                    var other = lists is [{ Bits: { } only }] ? only : Union(lists, scratch!, lo, hi);
                    for (var w = lo; w < hi; w++) bits[w] &= other[w];
                }
            }
            finally
            {
                if (scratch is not null) ArrayPool<ulong>.Shared.Return(scratch);
            }
            estimate = chosen.Total;
            used = candidates.Select(c => c.Hint);
        }

        // Numeric ranges narrow the bitmap with vector compares over their columns; the rest are tested per slot.
        var rest = new List<Condition>();
        foreach (var condition in selector.ConditionsBeside(used))
            if (!condition.AndInto(index.Columns, bits, lo, hi)) rest.Add(condition);
        return new ScanPlan { Bits = bits, RentedBits = true, Lo = lo, Hi = hi, Estimate = estimate, Conditions = [.. rest] };
    }

    // Words [lo, hi) of the lists' union; the rest of `bits` is left as it was.
    private static ulong[] Union(List<Posting> lists, ulong[] bits, int lo, int hi)
    {
        Array.Clear(bits, lo, hi - lo);
        foreach (var posting in lists) posting.OrInto(bits, lo, hi);
        return bits;
    }

    /// <summary>Receives the matching slots of a scan, a batch at a time.</summary>
    internal interface ISlotVisitor
    {
        void Visit(ReadOnlySpan<int> slots);

        /// <summary>
        /// Before a batch of slots is tested: keeps (in place, at the front) only the slots the visitor would not drop
        /// whether they match or not, and returns how many. <see cref="Prune"/> does the same for a dense bitmap word.
        /// </summary>
        int Admit(Span<int> slots);

        /// <summary>
        /// Before a bitmap word's 64 slots are tested: clears the slots the visitor would drop whether they match or
        /// not (it has already seen enough matches and they cannot beat its current page).
        /// </summary>
        ulong Prune(int word, ulong bits);
    }

    private const int BatchSize = 128;

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
            if (plan.Bits is { } bits)
            {
                for (var w = plan.Lo; w < plan.Hi; w++)
                {
                    var word = bits[w];
                    if (word != 0) word = visitor.Prune(w, word);
                    while (word != 0)
                    {
                        batch[n++] = (w << 6) + BitOperations.TrailingZeroCount(word);
                        word &= word - 1;
                        if (n == BatchSize) { Flush(c, plan.Conditions, batch, n, ref visitor); n = 0; }
                    }
                }
            }
            else if (plan.Hint is { } hint)
            {
                var dedupe = hint.Field == IndexedField.Gpu && plan.Lists.Count > 1;
                for (var s = 0; s < plan.Lists.Count; s++)
                {
                    var key = plan.Keys[s];
                    foreach (var slot in plan.Lists[s].Slots)
                    {
                        // An offer with two selected accelerator models sits in two lists: take it from the first.
                        if (dedupe && c.Views[slot]!.GpuNames.Length > 1 && FirstSelectedGpu(c.Views[slot]!, hint) != key) continue;
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
        n = visitor.Admit(batch.AsSpan(0, n));
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

        public readonly ulong Prune(int word, ulong bits) => bits;

        public readonly int Admit(Span<int> slots) => slots.Length;
    }

    // ---- offer_id order and single-criterion rankings: a bounded heap over the scan ----

    // Unranked pages continue after the last offer_id returned (robust to offers added or removed between pages);
    // ranked pages continue at an offset into the ranking.
    private static (IReadOnlyList<Offer>, PageResponse) Best(
        OfferIndex index, ScanPlan plan, Ranking? ranking, Criterion? criterion, string? afterId, int offset, int size, string binding)
    {
        var k = (int)Math.Min((long)offset + size, Math.Max(1, plan.Estimate));
        // A page deep into the matches keeps most of them anyway: sorting them all beats a heap that large.
        if ((long)k * 2 >= plan.Estimate) return SortAll(index, plan, ranking, criterion, afterId, offset, size, binding);
        var best = new BestVisitor(index.Columns, ranking, criterion, afterId, k);
        try
        {
            Scan(index, plan, ref best);
            var n = best.Sort();
            return Page(index.Columns, best.Heap, n, best.Count, ranking is null, offset, binding);
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(best.Heap);
        }
    }

    private static (IReadOnlyList<Offer>, PageResponse) SortAll(
        OfferIndex index, ScanPlan plan, Ranking? ranking, Criterion? criterion, string? afterId, int offset, int size, string binding)
    {
        var c = index.Columns;
        var collector = new Collector(ArrayPool<int>.Shared.Rent(Math.Max(1, plan.Estimate)));
        var entries = ArrayPool<Entry>.Shared.Rent(Math.Max(1, plan.Estimate));
        try
        {
            Scan(index, plan, ref collector);
            var count = 0;
            var afterKey = afterId is null ? 0 : OfferView.SortKeyOf(afterId);
            for (var i = 0; i < collector.Count; i++)
            {
                var slot = collector.Slots[i];
                if (afterId is not null && c.IdKey[slot] is var id && (id < afterKey || id == afterKey && string.CompareOrdinal(c.Views[slot]!.OfferId, afterId) <= 0)) continue;
                var key = criterion is { } which ? ranking!.Raw(which, c, slot) : 0;
                entries[count++] = new Entry(double.IsNaN(key) ? double.PositiveInfinity : key, slot);
            }
            var n = TopK.Select(entries, count, (int)Math.Min((long)offset + size, count), new EntryOrder(c));
            return Page(c, entries, n, count, ranking is null, offset, binding);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(collector.Slots);
            ArrayPool<Entry>.Shared.Return(entries);
        }
    }

    // The page from the best n entries (sorted) of `count` matches.
    private static (IReadOnlyList<Offer>, PageResponse) Page(OfferColumns c, Entry[] best, int n, int count, bool unranked, int offset, string binding)
    {
        if (unranked)
        {
            var page = new Offer[n];
            for (var i = 0; i < n; i++) page[i] = c.Views[best[i].Slot]!.Offer;
            var next = count > n ? QueryPageToken.AfterOffer(binding, page[^1].OfferId) : "";
            return (page, new PageResponse { NextPageToken = next });
        }
        if (offset >= n) return ([], new PageResponse());
        var offers = new Offer[n - offset];
        for (var i = offset; i < n; i++) offers[i - offset] = c.Views[best[i].Slot]!.Offer;
        var more = count > n ? QueryPageToken.AtOffset(binding, n) : "";
        return (offers, new PageResponse { NextPageToken = more });
    }

    /// <summary>
    /// A ranked match: how many weighted criteria it lacks (mixed rankings), its key (one criterion's value, +infinity
    /// when missing, or a mix's score) and its slot. Ordered by missing, key, then offer_id.
    /// </summary>
    internal readonly record struct Entry(double Key, int Slot, int Missing = 0);

    /// <summary>Keeps the k best matches seen so far in a max-heap (its root is the worst of them).</summary>
    private struct BestVisitor(OfferColumns c, Ranking? ranking, Criterion? criterion, string? afterId, int k) : ISlotVisitor
    {
        public readonly Entry[] Heap = ArrayPool<Entry>.Shared.Rent(k);
        /// <summary>
        /// Matches seen (after the page token's offer_id, for unranked pages): exact up to k + 1, after which only
        /// "more than k" matters (for the next page token) and the scan prunes what cannot enter the page.
        /// </summary>
        public int Count;
        private int size;
        private double threshold = double.PositiveInfinity;
        private UInt128 thresholdId;
        private int thresholdSlot;
        private readonly UInt128 afterKey = afterId is null ? 0 : OfferView.SortKeyOf(afterId);

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

        /// <summary>Below this many candidates in a word, testing them one by one (<see cref="Admit"/>) beats a 64-wide vector mask.</summary>
        private const int DenseWord = 16;

        public readonly ulong Prune(int word, ulong bits)
        {
            // A word whose cheapest price cannot beat the page is skipped whole (the zone map; ties stay for offer_id).
            if (Count > k && threshold < double.PositiveInfinity &&
                criterion switch { Criterion.Price => c.WordMinPrice[word], Criterion.SpotPrice => c.WordMinSpot[word], _ => long.MinValue } > (long)threshold)
                return 0;
            if (BitOperations.PopCount(bits) < DenseWord) return bits;
            var start = word << 6;
            if (afterId is not null) bits &= ColumnMasks.Compare(c.IdHigh, start, (ulong)(afterKey >> 64), atLeast: true);
            if (Count <= k || bits == 0) return bits;
            // Keep ties with the worst kept entry: the offer_id decides those.
            switch (criterion)
            {
                case null: return bits & ColumnMasks.Compare(c.IdHigh, start, (ulong)(thresholdId >> 64), atLeast: false);
                case Criterion.Price when threshold < double.PositiveInfinity: return bits & ColumnMasks.PricesAtMost(c.Price, start, (long)threshold);
                case Criterion.SpotPrice when threshold < double.PositiveInfinity: return bits & ColumnMasks.PricesAtMost(c.Spot, start, (long)threshold);
                case Criterion.Load when threshold < double.PositiveInfinity: return bits & ColumnMasks.AtMost(c.Load, start, threshold);
                default: return bits;
            }
        }

        // The same tests as Prune, slot by slot: cheap scalar compares that spare the conditions most losing slots.
        public readonly int Admit(Span<int> slots)
        {
            var kept = slots.Length;
            if (afterId is not null) kept = KeepAtLeast(slots, c.IdHigh, (ulong)(afterKey >> 64));
            if (Count <= k || kept == 0) return kept;
            slots = slots[..kept];
            switch (criterion)
            {
                case null: return KeepAtMost(slots, c.IdHigh, (ulong)(thresholdId >> 64));
                case Criterion.Price when threshold < double.PositiveInfinity: return KeepPrices(slots, c.Price, (long)threshold);
                case Criterion.SpotPrice when threshold < double.PositiveInfinity: return KeepPrices(slots, c.Spot, (long)threshold);
                case Criterion.Load when threshold < double.PositiveInfinity: return KeepAtMost(slots, c.Load, threshold);
                default: return kept;
            }
        }

        private static int KeepAtLeast(Span<int> slots, ulong[] column, ulong min)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (column[slot] >= min) slots[kept++] = slot;
            return kept;
        }

        private static int KeepAtMost<T>(Span<int> slots, T[] column, T max) where T : INumber<T>
        {
            var kept = 0;
            foreach (var slot in slots)
                if (column[slot] <= max) slots[kept++] = slot;
            return kept;
        }

        private static int KeepPrices(Span<int> slots, long[] column, long max)
        {
            var kept = 0;
            foreach (var slot in slots)
                if (column[slot] is var x && x != OfferView.NoPrice && x <= max) slots[kept++] = slot;
            return kept;
        }

        private void Remember(Entry worst)
        {
            threshold = worst.Key;
            thresholdSlot = worst.Slot;
            thresholdId = c.IdKey[worst.Slot];
        }

        private readonly bool Precedes(int slot)
        {
            var id = c.IdKey[slot];
            return id != thresholdId ? id < thresholdId : c.CompareIds(slot, thresholdSlot) < 0;
        }

        // Nano-units convert to double exactly below 2^53 (9 million per hour); a missing price ranks last.
        private static double PriceKey(long nanos) => nanos == OfferView.NoPrice ? double.PositiveInfinity : nanos;

        private void Offer(double key, int slot)
        {
            if (size < k)
            {
                Heap[size] = new Entry(key, slot);
                SiftUp(size++);
                if (size == k) Remember(Heap[0]);
            }
            // Most matches lose to the worst kept one on the key, or on the packed offer_id.
            else if (key < threshold || key == threshold && Precedes(slot))
            {
                Heap[0] = new Entry(key, slot);
                SiftDown(0);
                Remember(Heap[0]);
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

    /// <summary>By missing criteria, key, then offer_id.</summary>
    internal readonly struct EntryOrder(OfferColumns c) : IComparer<Entry>
    {
        public int Compare(Entry a, Entry b) =>
            a.Missing != b.Missing ? (a.Missing < b.Missing ? -1 : 1)
            : a.Key != b.Key ? (a.Key < b.Key ? -1 : 1)
            : c.CompareIds(a.Slot, b.Slot);
    }
}
