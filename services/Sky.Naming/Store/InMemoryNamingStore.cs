using Sky.Hosting.Events;
using Google.Protobuf.WellKnownTypes;
using Sky.Naming.Domain;
using Sky.Naming.V1;

namespace Sky.Naming.Store;

/// <summary>
/// The embedded store: zones and records in this process, every operation under one lock so each
/// write is atomic like the Redis scripts. Callers only ever see copies.
/// </summary>
public sealed class InMemoryNamingStore : INamingStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Zone> _zones = new(StringComparer.Ordinal);
    // Records as stored: revision and created_at set, zone and owner derived on read.
    private readonly SortedDictionary<string, Record> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _instancesByService = new(StringComparer.Ordinal);
    private readonly ZoneIndex _index;
    private long _revision;

    public InMemoryNamingStore() => _index = new ZoneIndex(_zones);

    public ValueTask<Record?> GetRecordAsync(SkyName name, CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult(_records.TryGetValue(name.Canonical, out var record) ? Read(record) : null);
    }

    public ValueTask<IReadOnlyList<Record>> ListInstancesAsync(SkyName lookupName, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var names = _instancesByService.GetValueOrDefault(NameTree.ServiceOf(lookupName)) ?? [];
            return ValueTask.FromResult<IReadOnlyList<Record>>(names.Select(n => Read(_records[n])).ToList());
        }
    }

    public ValueTask<Zone?> FindZoneAsync(string name, bool includeSelf, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var zone = _index.Enclosing(name, includeSelf);
            return ValueTask.FromResult(zone is null ? null : _index.WithParent(zone.Name));
        }
    }

    public ValueTask<IReadOnlyList<Zone>> ListZonesAsync(CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult<IReadOnlyList<Zone>>(_index.AllWithParents().ToList());
    }

    public ValueTask<ZoneWrite> CreateZoneAsync(Zone zone, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!StillDecides(zone.Name, includeSelf: false, expectedParent)) return Result(new ZoneWrite(StoreOutcome.ZoneChanged));
            if (_zones.ContainsKey(zone.Name)) return Result(new ZoneWrite(StoreOutcome.AlreadyExists));
            var stored = zone.Clone();
            stored.Parent = "";
            _zones.Add(stored.Name, stored);
            return Result(new ZoneWrite(StoreOutcome.Done, stored.Clone()));
        }
    }

    public ValueTask<ZoneWrite> DeleteZoneAsync(Zone expected, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_zones.TryGetValue(expected.Name, out var zone)) return Result(new ZoneWrite(StoreOutcome.NotFound));
            if (zone.Owner != expected.Owner || !StillDecides(expected.Name, includeSelf: false, expectedParent))
                return Result(new ZoneWrite(StoreOutcome.ZoneChanged));
            // With no sub-zones below it, every record at or below the zone's name belongs to it.
            var subZone = _zones.Keys.Where(n => n != zone.Name && NameTree.IsAtOrUnder(n, zone.Name)).Order(StringComparer.Ordinal).FirstOrDefault();
            if (subZone is not null) return Result(new ZoneWrite(StoreOutcome.ZoneNotEmpty, Blocker: $"the sub-zone '{subZone}'"));
            var record = _records.Keys.FirstOrDefault(n => NameTree.IsAtOrUnder(n, zone.Name));
            if (record is not null) return Result(new ZoneWrite(StoreOutcome.ZoneNotEmpty, Blocker: $"the record '{record}'"));
            _zones.Remove(zone.Name);
            return Result(new ZoneWrite(StoreOutcome.Done, zone.Clone()));
        }
    }

    public ValueTask<RecordWrite> CreateRecordAsync(SkyName name, Record record, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!StillDecides(name.Canonical, includeSelf: true, expectedZone)) return Result(new RecordWrite(StoreOutcome.ZoneChanged));
            if (_records.TryGetValue(name.Canonical, out var existing))
                return Result(new RecordWrite(StoreOutcome.AlreadyExists, PreviousRevision: existing.Revision));
            var stored = Stored(record, ++_revision, Timestamp.FromDateTimeOffset(now), now);
            _records.Add(name.Canonical, stored);
            if (name.Kind == SkyNameKind.Instance)
            {
                var service = NameTree.ServiceOf(name);
                if (!_instancesByService.TryGetValue(service, out var instances)) _instancesByService[service] = instances = new(StringComparer.Ordinal);
                instances.Add(name.Canonical);
            }
            return Result(new RecordWrite(StoreOutcome.Done, Read(stored), stored.Revision));
        }
    }

    public ValueTask<RecordWrite> UpdateRecordAsync(SkyName name, Record record, long expectedRevision, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!StillDecides(name.Canonical, includeSelf: true, expectedZone)) return Result(new RecordWrite(StoreOutcome.ZoneChanged));
            if (!_records.TryGetValue(name.Canonical, out var current)) return Result(new RecordWrite(StoreOutcome.NotFound));
            if (current.Revision != expectedRevision) return Result(new RecordWrite(StoreOutcome.StaleRevision, PreviousRevision: current.Revision));
            var stored = Stored(record, ++_revision, current.CreatedAt, now);
            _records[name.Canonical] = stored;
            return Result(new RecordWrite(StoreOutcome.Done, Read(stored), stored.Revision, current.Revision));
        }
    }

    public ValueTask<RecordWrite> DeleteRecordAsync(SkyName name, long expectedRevision, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!StillDecides(name.Canonical, includeSelf: true, expectedZone)) return Result(new RecordWrite(StoreOutcome.ZoneChanged));
            if (!_records.TryGetValue(name.Canonical, out var current)) return Result(new RecordWrite(StoreOutcome.NotFound));
            if (current.Revision != expectedRevision) return Result(new RecordWrite(StoreOutcome.StaleRevision, PreviousRevision: current.Revision));
            var last = Read(current);
            _records.Remove(name.Canonical);
            if (name.Kind == SkyNameKind.Instance && _instancesByService.TryGetValue(NameTree.ServiceOf(name), out var instances))
            {
                instances.Remove(name.Canonical);
                if (instances.Count == 0) _instancesByService.Remove(NameTree.ServiceOf(name));
            }
            return Result(new RecordWrite(StoreOutcome.Done, last, ++_revision, current.Revision));
        }
    }

    public ValueTask<IReadOnlyList<string>> ListRecordNamesAsync(string? under, CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult<IReadOnlyList<string>>(
                _records.Keys.Where(n => under is null || NameTree.IsAtOrUnder(n, under)).ToList());
    }

    public ValueTask<IReadOnlyList<Record>> GetRecordsAsync(IReadOnlyList<string> names, CancellationToken ct = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<Record>>(names
                .Select(n => _records.GetValueOrDefault(n))
                .OfType<Record>()
                .Select(Read)
                .ToList());
        }
    }

    /// <summary>Whether the zone deciding <paramref name="name"/> is still the one the caller was authorised against.</summary>
    private bool StillDecides(string name, bool includeSelf, Zone? expected)
    {
        var actual = _index.Enclosing(name, includeSelf);
        return actual?.Name == expected?.Name && actual?.Owner == expected?.Owner;
    }

    private Record Read(Record stored) => _index.Attach(stored.Clone());

    private static Record Stored(Record record, long revision, Timestamp createdAt, DateTimeOffset now)
    {
        var stored = record.Clone();
        stored.Revision = revision;
        stored.CreatedAt = createdAt;
        stored.UpdatedAt = Timestamp.FromDateTimeOffset(now);
        stored.Zone = "";
        stored.Owner = "";
        return stored;
    }

    private static ValueTask<T> Result<T>(T value) => ValueTask.FromResult(value);
}
