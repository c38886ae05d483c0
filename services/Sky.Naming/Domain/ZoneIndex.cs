using Sky.Naming.V1;

namespace Sky.Naming.Domain;

/// <summary>
/// A set of zones keyed by name that answers "which zone does this name belong to" (the deepest
/// enclosing one). Zones' parents and records' zone/owner are derived with it when read, never
/// stored, so creating or deleting a zone can never leave them stale.
/// </summary>
public sealed class ZoneIndex
{
    private readonly IReadOnlyDictionary<string, Zone> _byName;

    /// <summary>A live view over zones keyed by name (the dictionary is not copied).</summary>
    public ZoneIndex(IReadOnlyDictionary<string, Zone> byName) => _byName = byName;

    public ZoneIndex(IEnumerable<Zone> zones) : this(zones.ToDictionary(z => z.Name, StringComparer.Ordinal)) { }

    public int Count => _byName.Count;

    public Zone? Get(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The deepest zone enclosing <paramref name="canonical"/> (itself included when <paramref name="includeSelf"/>), or null.</summary>
    public Zone? Enclosing(string canonical, bool includeSelf)
    {
        foreach (var candidate in NameTree.Enclosing(canonical, includeSelf))
            if (_byName.TryGetValue(candidate, out var zone))
                return zone;
        return null;
    }

    /// <summary>A copy of the zone named <paramref name="name"/> with its parent filled in, or null.</summary>
    public Zone? WithParent(string name)
    {
        if (!_byName.TryGetValue(name, out var zone)) return null;
        var copy = zone.Clone();
        copy.Parent = Enclosing(name, includeSelf: false)?.Name ?? "";
        return copy;
    }

    /// <summary>Every zone, with parents, ordered by name.</summary>
    public IEnumerable<Zone> AllWithParents() =>
        _byName.Keys.Order(StringComparer.Ordinal).Select(n => WithParent(n)!);

    /// <summary>Sets the output-only zone and owner of <paramref name="record"/> from the zone it belongs to.</summary>
    public Record Attach(Record record)
    {
        var zone = Enclosing(record.Name, includeSelf: true);
        record.Zone = zone?.Name ?? "";
        record.Owner = zone?.Owner ?? "";
        return record;
    }
}
