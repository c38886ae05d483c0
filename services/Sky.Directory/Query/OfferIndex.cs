namespace Sky.Directory.Query;

/// <summary>
/// The offers a directory holds: each in a slot of <see cref="OfferColumns"/> (its hot fields as columns), with
/// posting lists (value -> slots) on the fields selectors mostly test for equality: kind, provider, region, zone,
/// service, instance_type, gpu name, availability and origin. A query scans the smallest posting set its selector
/// allows, or every slot. Re-registering an offer with new dynamic values (price, load, availability) reuses its
/// slot and only touches the posting lists whose key changed.
/// Writers must be serialised against readers (the engine's ReaderWriterLockSlim); concurrent readers are fine.
/// </summary>
public sealed class OfferIndex
{
    private static readonly IndexedField[] Fields = Enum.GetValues<IndexedField>();
    private static readonly string[] NoGpu = [""];

    private readonly Dictionary<string, int> slotById = new(StringComparer.Ordinal);
    private readonly Stack<int> freeSlots = new();
    private readonly Dictionary<string, HashSet<int>>[] postings =
        [.. Fields.Select(_ => new Dictionary<string, HashSet<int>>(StringComparer.Ordinal))];
    private int highWater;

    internal OfferColumns Columns { get; } = new();

    public int Count => slotById.Count;

    /// <summary>Slots in use are below this bound.</summary>
    internal int HighWater => highWater;

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
        if (slot >= Columns.Capacity) Columns.Grow(Math.Max(1024, Columns.Capacity * 2));
        slotById[offer.OfferId] = slot;
        Columns.Set(slot, offer);
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
        highWater = 0;
    }

    /// <summary>Value (lower case, "" for none) -> slots with it, for one indexed field.</summary>
    internal Dictionary<string, HashSet<int>> Postings(IndexedField field) => postings[(int)field];

    internal static bool IsMultiValued(IndexedField field) => field == IndexedField.Gpu;

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

    private void Repost(IndexedField field, OfferView old, OfferView now, int slot)
    {
        var map = postings[(int)field];
        if (field != IndexedField.Gpu)
        {
            var (a, b) = (KeysOf(old, field)[0], KeysOf(now, field)[0]);
            if (a == b) return;
            Drop(map, a, slot);
            Add(map, b, slot);
            return;
        }
        var before = KeysOf(old, field);
        var after = KeysOf(now, field);
        if (before.AsSpan().SequenceEqual(after)) return;
        foreach (var key in before) Drop(map, key, slot);
        foreach (var key in after) Add(map, key, slot);
    }

    private static void Add(Dictionary<string, HashSet<int>> map, string key, int slot)
    {
        if (!map.TryGetValue(key, out var set)) map[key] = set = [];
        set.Add(slot);
    }

    private static void Drop(Dictionary<string, HashSet<int>> map, string key, int slot)
    {
        if (!map.TryGetValue(key, out var set)) return;
        set.Remove(slot);
        // Drop empty sets so that glob hints only walk live keys.
        if (set.Count == 0) map.Remove(key);
    }
}
