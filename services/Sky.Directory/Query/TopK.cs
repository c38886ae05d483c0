namespace Sky.Directory.Query;

/// <summary>Partial sort: the best k of n items in order, in O(n log k) rather than O(n log n).</summary>
internal static class TopK
{
    /// <summary>
    /// Reorders items[0..count) so that items[0..min(k, count)) are the smallest by <paramref name="comparer"/>,
    /// ascending; returns that length. The rest of the range is left in no useful order.
    /// </summary>
    public static int Select<T, TComparer>(T[] items, int count, int k, TComparer comparer)
        where TComparer : struct, IComparer<T>
    {
        if (k <= 0 || count == 0) return 0;
        if (k >= count / 2)
        {
            Array.Sort(items, 0, count, comparer);
            return Math.Min(k, count);
        }
        // Max-heap of the best k so far: its root is the worst of them, the one a better item evicts.
        for (var i = k / 2 - 1; i >= 0; i--) SiftDown(items, i, k, comparer);
        for (var j = k; j < count; j++)
        {
            if (comparer.Compare(items[j], items[0]) >= 0) continue;
            (items[0], items[j]) = (items[j], items[0]);
            SiftDown(items, 0, k, comparer);
        }
        Array.Sort(items, 0, k, comparer);
        return k;
    }

    private static void SiftDown<T, TComparer>(T[] heap, int i, int size, TComparer comparer)
        where TComparer : struct, IComparer<T>
    {
        var item = heap[i];
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && comparer.Compare(heap[child + 1], heap[child]) > 0) child++;
            if (comparer.Compare(heap[child], item) <= 0) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = item;
    }
}
