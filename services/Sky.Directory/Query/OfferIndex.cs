namespace Sky.Directory.Query;

/// <summary>
/// The offers a directory holds: each in a slot of <see cref="OfferColumns"/> (its hot fields as columns), with
/// posting lists (value -> slots) on the fields selectors mostly test for equality: kind, provider, region, zone,
/// service, instance_type, gpu name, availability and origin. Large posting lists also keep a bitmap over slots,
/// so a query can intersect several clauses word by word before it reads any column.
/// Re-registering an offer with new dynamic values (price, load) reuses its slot and touches no posting list.
/// Writers must be serialised against readers (the engine's ReaderWriterLockSlim); concurrent readers are fine.
/// </summary>
public sealed class OfferIndex
{
    /// <summary>Posting lists at least this large keep a bitmap (1 bit per slot beats a hash entry per member).</summary>
    internal const int BitmapThreshold = 1024;

    private static readonly IndexedField[] Fields = Enum.GetValues<IndexedField>();
    private static readonly string[] NoGpu = [""];

    private readonly Dictionary<string, int> slotById = new(StringComparer.Ordinal);
    private readonly Stack<int> freeSlots = new();
    private readonly Dictionary<string, Posting>[] postings =
        [.. Fields.Select(_ => new Dictionary<string, Posting>(StringComparer.Ordinal))];
    private ulong[] live = [];
    private int highWater;

    internal OfferColumns Columns { get; } = new();

    public int Count => slotById.Count;

    /// <summary>Slots in use are below this bound.</summary>
    internal int HighWater => highWater;

    /// <summary>Bitmap of the slots in use, <see cref="Words"/> long.</summary>
    internal ulong[] Live => live;

    /// <summary>Words of a bitmap covering every slot below <see cref="HighWater"/>.</summary>
    internal int Words => (highWater + 63) >> 6;

    /// <summary>Every offer, in slot order.</summary>
    public IEnumerable<OfferView> All
    {
        get
        {
            var views = Columns.Views;
            for (var slot = 0; slot < highWater; slot++)
                if (views[slot] is { } view) yield return view;
        }
    }

    /// <summary>Inserts the offer, or replaces the one with the same OfferId.</summary>
    public void Upsert(OfferView offer)
    {
        ArgumentNullException.ThrowIfNull(offer);
        if (slotById.TryGetValue(offer.OfferId, out var slot))
        {
            var old = Columns.Views[slot]!;
            foreach (var field in Fields) Repost(field, old, offer, slot);
            Columns.Set(slot, offer);
            return;
        }
        slot = freeSlots.Count > 0 ? freeSlots.Pop() : highWater++;
        if (slot >= Columns.Capacity) Grow(Math.Max(1024, Columns.Capacity * 2));
        slotById[offer.OfferId] = slot;
        Columns.Set(slot, offer);
        live[slot >> 6] |= 1UL << slot;
        foreach (var field in Fields)
            foreach (var key in KeysOf(offer, field)) Add(postings[(int)field], key, slot);
    }

    /// <summary>Removes an offer; returns its view, or null when there was none.</summary>
    public OfferView? Remove(string offerId)
    {
        if (!slotById.Remove(offerId, out var slot)) return null;
        var old = Columns.Views[slot]!;
        foreach (var field in Fields)
            foreach (var key in KeysOf(old, field)) Drop(postings[(int)field], key, slot);
        Columns.Clear(slot);
        live[slot >> 6] &= ~(1UL << slot);
        freeSlots.Push(slot);
        return old;
    }

    public OfferView? Get(string offerId) => slotById.TryGetValue(offerId, out var slot) ? Columns.Views[slot] : null;

    public void Clear()
    {
        slotById.Clear();
        freeSlots.Clear();
        foreach (var field in postings) field.Clear();
        for (var slot = 0; slot < highWater; slot++) Columns.Clear(slot);
        Array.Clear(live);
        highWater = 0;
    }

    /// <summary>Value (lower case, "" for none) -> its posting list, for one indexed field.</summary>
    internal Dictionary<string, Posting> Postings(IndexedField field) => postings[(int)field];

    /// <summary>Posting keys of an offer for a field: one for single-valued fields; the gpu names, or "" for none.</summary>
    internal static string[] KeysOf(OfferView view, IndexedField field) => field switch
    {
        IndexedField.Kind => [view.Kind],
        IndexedField.Provider => [view.Provider],
        IndexedField.Region => [view.Region],
        IndexedField.Zone => [view.Zone],
        IndexedField.Service => [view.Service],
        IndexedField.InstanceType => [view.InstanceType],
        IndexedField.Availability => [view.Availability],
        IndexedField.Origin => [view.Origin],
        IndexedField.Gpu => view.GpuNames.Length > 0 ? view.GpuNames : NoGpu,
        _ => throw new InvalidOperationException($"unknown field {field}"),
    };

    private void Grow(int capacity)
    {
        Columns.Grow(capacity);
        Array.Resize(ref live, capacity >> 6);
        foreach (var field in postings)
            foreach (var posting in field.Values)
                if (posting.Bits is not null) Array.Resize(ref posting.Bits, capacity >> 6);
    }

    private void Repost(IndexedField field, OfferView old, OfferView now, int slot)
    {
        var map = postings[(int)field];
        var before = KeysOf(old, field);
        var after = KeysOf(now, field);
        if (before.AsSpan().SequenceEqual(after)) return;
        foreach (var key in before) Drop(map, key, slot);
        foreach (var key in after) Add(map, key, slot);
    }

    private void Add(Dictionary<string, Posting> map, string key, int slot)
    {
        if (!map.TryGetValue(key, out var posting)) map[key] = posting = new Posting();
        if (!posting.Slots.Add(slot)) return;
        posting.MinSlot = Math.Min(posting.MinSlot, slot);
        posting.MaxSlot = Math.Max(posting.MaxSlot, slot);
        if (posting.Bits is not null) posting.Bits[slot >> 6] |= 1UL << slot;
        else if (posting.Slots.Count >= BitmapThreshold)
        {
            posting.Bits = new ulong[Columns.Capacity >> 6];
            foreach (var member in posting.Slots) posting.Bits[member >> 6] |= 1UL << member;
        }
    }

    private static void Drop(Dictionary<string, Posting> map, string key, int slot)
    {
        if (!map.TryGetValue(key, out var posting) || !posting.Slots.Remove(slot)) return;
        // Drop empty lists so that glob hints only walk live keys; a bitmap goes below half the threshold.
        if (posting.Slots.Count == 0) map.Remove(key);
        else if (posting.Bits is not null)
        {
            if (posting.Slots.Count < BitmapThreshold / 2) posting.Bits = null;
            else posting.Bits[slot >> 6] &= ~(1UL << slot);
        }
    }
}

/// <summary>The slots holding one value of one field; large lists also as a bitmap over all slots.</summary>
internal sealed class Posting
{
    public readonly HashSet<int> Slots = [];
    public ulong[]? Bits;
    /// <summary>Bounds of the slots ever added (not narrowed on removal): a scan of this list reads no word outside them.</summary>
    public int MinSlot = int.MaxValue, MaxSlot = -1;

    public int Count => Slots.Count;

    /// <summary>First bitmap word holding a member (or past the end when empty).</summary>
    public int FirstWord => MaxSlot < 0 ? int.MaxValue : MinSlot >> 6;

    /// <summary>One past the last bitmap word holding a member.</summary>
    public int EndWord => MaxSlot < 0 ? 0 : (MaxSlot >> 6) + 1;

    /// <summary>ORs the members into words [<paramref name="lo"/>, <paramref name="hi"/>) of <paramref name="bits"/>; members outside are skipped.</summary>
    public void OrInto(ulong[] bits, int lo, int hi)
    {
        if (Bits is not null)
        {
            for (var w = lo; w < hi; w++) bits[w] |= Bits[w];
            return;
        }
        if (lo > 0 || hi < EndWord)
        {
            foreach (var slot in Slots)
                if ((slot >> 6) is var w && w >= lo && w < hi) bits[w] |= 1UL << slot;
            return;
        }
        foreach (var slot in Slots) bits[slot >> 6] |= 1UL << slot;
    }
}
