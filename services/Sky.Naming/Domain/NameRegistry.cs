using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using Sky.Hosting.Store;
using Sky.Naming.V1;

namespace Sky.Naming.Domain;

/// <summary>
/// The naming service's behaviour, independent of gRPC: validates, decides which zone a name belongs
/// to and whether the caller may act there, writes through the store, and publishes
/// "naming.zone.changed" / "naming.record.changed" on <see cref="Topics.Naming"/> after each accepted write.
/// Each event is prepared before its write and handed to the store with it (a durable store keeps it in the
/// outbox in the same step); after the write it is published with the store's answer as data, under the same id.
/// </summary>
public sealed class NameRegistry(INamingStore store, [FromKeyedServices("naming")] EventOutbox outbox, TimeProvider time)
{
    public const string RecordChangedType = "naming.record.changed";
    public const string ZoneChangedType = "naming.zone.changed";

    // A write re-resolves its zone when a concurrent zone change beat it; this bounds a pathological race.
    private const int MaxAttempts = 8;

    public async Task<Zone> CreateZoneAsync(Principal caller, Zone? input, CancellationToken ct)
    {
        var (name, zone) = ZoneRules.Validate(input, time.GetUtcNow());
        for (var attempt = 1; ; attempt++)
        {
            var parent = await store.FindZoneAsync(name.Canonical, includeSelf: false, ct);
            ZoneRules.RequireCreate(caller, name, parent);
            var created = zone.Clone();
            created.Parent = parent?.Name ?? "";
            var announce = ZoneEvent(NamingChangeType.Created, created.Clone());
            var write = await store.CreateZoneAsync(zone, parent, announce, ct);
            switch (write.Outcome)
            {
                case StoreOutcome.Done:
                    await outbox.DeliverAsync([announce], 0, write.Outbox ?? []);
                    return created;
                case StoreOutcome.AlreadyExists:
                    throw RpcErrors.AlreadyExists("zone", name.Canonical);
                case StoreOutcome.ZoneChanged when attempt < MaxAttempts:
                    continue;
                default:
                    throw Unresolved(write.Outcome, name);
            }
        }
    }

    public async Task<Zone> GetZoneAsync(string nameField, CancellationToken ct)
    {
        var name = FieldViolations.RequireName(nameField, "name");
        return await ExistingZoneAsync(name, ct) ?? throw RpcErrors.NotFound("zone", name.Canonical);
    }

    public async Task<(IReadOnlyList<Zone> Zones, PageResponse Page)> ListZonesAsync(string ownerFilter, string underFilter, PageRequest? page, CancellationToken ct)
    {
        var violations = new FieldViolations();
        var owner = ownerFilter.ToLowerInvariant();
        if (owner.Length > 0 && !ApiKeys.IsValidScope(owner))
            violations.Add("owner", "a provider name: 1 to 63 characters of [a-z0-9-], not starting or ending with '-'");
        var under = underFilter.Length > 0 ? violations.Name(underFilter, "under") : null;
        violations.ThrowIfAny();

        var zones = (await store.ListZonesAsync(ct))
            .Where(z => owner.Length == 0 || z.Owner == owner)
            .Where(z => under is null || NameTree.IsAtOrUnder(z.Name, under.Canonical))
            .ToList();
        return Paging.Slice(zones, page);
    }

    public async Task DeleteZoneAsync(Principal caller, string nameField, CancellationToken ct)
    {
        var name = FieldViolations.RequireName(nameField, "name");
        for (var attempt = 1; ; attempt++)
        {
            var zone = await ExistingZoneAsync(name, ct) ?? throw RpcErrors.NotFound("zone", name.Canonical);
            var parent = await store.FindZoneAsync(name.Canonical, includeSelf: false, ct);
            ZoneRules.RequireDelete(caller, zone, parent);
            var expected = zone.Clone();
            expected.Parent = parent?.Name ?? "";
            var announce = ZoneEvent(NamingChangeType.Deleted, expected);
            var write = await store.DeleteZoneAsync(zone, parent, announce, ct);
            switch (write.Outcome)
            {
                case StoreOutcome.Done:
                    var last = write.Zone!;
                    last.Parent = parent?.Name ?? "";
                    await outbox.DeliverAsync([Published(announce, ZoneData(NamingChangeType.Deleted, last, announce))], 0, write.Outbox ?? []);
                    return;
                case StoreOutcome.NotFound:
                    throw RpcErrors.NotFound("zone", name.Canonical);
                case StoreOutcome.ZoneNotEmpty:
                    throw RpcErrors.FailedPrecondition("ZONE_NOT_EMPTY", name.Canonical,
                        $"zone '{name}' still holds {write.Blocker}: delete its records and sub-zones first");
                case StoreOutcome.ZoneChanged when attempt < MaxAttempts:
                    continue;
                default:
                    throw Unresolved(write.Outcome, name);
            }
        }
    }

    public async Task<Record> CreateRecordAsync(Principal caller, Record? input, CancellationToken ct)
    {
        var (name, record) = RecordValidation.Validate(input);
        for (var attempt = 1; ; attempt++)
        {
            var zone = await store.FindZoneAsync(name.Canonical, includeSelf: true, ct)
                ?? throw RpcErrors.FailedPrecondition("ZONE_MISSING", name.Canonical,
                    $"no zone encloses '{name}': create the zone '{name.Provider}.{SkyName.RootLabel}' (or one below it) first");
            ZoneRules.RequireWrite(caller, zone, name.Canonical);
            var now = time.GetUtcNow();
            var announce = RecordEvent(NamingChangeType.Created, name, Expected(name, record, now, now, zone), 0);
            var write = await store.CreateRecordAsync(name, record, now, zone, announce, ct);
            switch (write.Outcome)
            {
                case StoreOutcome.Done:
                    await DeliverAsync(announce, NamingChangeType.Created, name, write);
                    return write.Record!;
                case StoreOutcome.AlreadyExists:
                    throw RpcErrors.AlreadyExists("record", name.Canonical);
                case StoreOutcome.ZoneChanged when attempt < MaxAttempts:
                    continue;
                default:
                    throw Unresolved(write.Outcome, name);
            }
        }
    }

    public async Task<Record> UpdateRecordAsync(Principal caller, Record? input, long expectedRevision, CancellationToken ct)
    {
        var (name, record) = RecordValidation.Validate(input);
        RequireExpectedRevision(expectedRevision);
        for (var attempt = 1; ; attempt++)
        {
            var zone = await store.FindZoneAsync(name.Canonical, includeSelf: true, ct) ?? throw RpcErrors.NotFound("record", name.Canonical);
            ZoneRules.RequireWrite(caller, zone, name.Canonical);
            // The record at the expected revision, for the event's created_at: a write that commits found exactly it.
            var current = await store.GetRecordAsync(name, ct);
            var now = time.GetUtcNow();
            var announce = RecordEvent(NamingChangeType.Updated, name,
                Expected(name, record, now, current?.CreatedAt?.ToDateTimeOffset() ?? now, zone), expectedRevision);
            var write = await store.UpdateRecordAsync(name, record, expectedRevision, now, zone, announce, ct);
            switch (write.Outcome)
            {
                case StoreOutcome.Done:
                    await DeliverAsync(announce, NamingChangeType.Updated, name, write);
                    return write.Record!;
                case StoreOutcome.ZoneChanged when attempt < MaxAttempts:
                    continue;
                default:
                    throw RecordFailure(write, name, expectedRevision);
            }
        }
    }

    public async Task<long> DeleteRecordAsync(Principal caller, string nameField, long expectedRevision, CancellationToken ct)
    {
        var name = FieldViolations.RequireName(nameField, "name");
        RequireExpectedRevision(expectedRevision);
        for (var attempt = 1; ; attempt++)
        {
            var zone = await store.FindZoneAsync(name.Canonical, includeSelf: true, ct) ?? throw RpcErrors.NotFound("record", name.Canonical);
            ZoneRules.RequireWrite(caller, zone, name.Canonical);
            // The record at the expected revision is what a deletion that commits removes.
            var current = await store.GetRecordAsync(name, ct);
            var announce = current is null ? null : RecordEvent(NamingChangeType.Deleted, name, current, expectedRevision);
            var write = await store.DeleteRecordAsync(name, expectedRevision, zone, announce, ct);
            switch (write.Outcome)
            {
                case StoreOutcome.Done:
                    await DeliverAsync(announce ?? RecordEvent(NamingChangeType.Deleted, name, write.Record!, expectedRevision),
                        NamingChangeType.Deleted, name, write);
                    return write.Revision;
                case StoreOutcome.ZoneChanged when attempt < MaxAttempts:
                    continue;
                default:
                    throw RecordFailure(write, name, expectedRevision);
            }
        }
    }

    public async Task<(IReadOnlyList<Record> Records, PageResponse Page)> ListRecordsAsync(string underFilter, PageRequest? page, CancellationToken ct)
    {
        var under = underFilter.Length > 0 ? FieldViolations.RequireName(underFilter, "under") : null;
        // Page over names, then read only that page's records.
        var names = await store.ListRecordNamesAsync(under?.Canonical, ct);
        var (slice, next) = Paging.Slice(names, page);
        return (await store.GetRecordsAsync(slice, ct), next);
    }

    /// <summary>The record at exactly the name, its endpoints in SRV order.</summary>
    public async Task<Record> ResolveAsync(string nameField, CancellationToken ct)
    {
        var name = FieldViolations.RequireName(nameField, "name");
        if (name.Kind == SkyNameKind.Lookup)
            throw RpcErrors.InvalidArgument("name", "at 0: a lookup name (_<service>._tcp...) has no record of its own: call Lookup");
        var record = await store.GetRecordAsync(name, ct) ?? throw RpcErrors.NotFound("record", name.Canonical);
        var ordered = SrvOrder.Order(record.Endpoints, e => e.Priority, e => e.Weight);
        record.Endpoints.Clear();
        record.Endpoints.Add(ordered);
        return record;
    }

    /// <summary>Every endpoint of every instance of the service, in SRV order, and how long the answer may be cached.</summary>
    public async Task<(IReadOnlyList<LookupEndpoint> Endpoints, TimeSpan Ttl)> LookupAsync(string nameField, CancellationToken ct)
    {
        var name = FieldViolations.RequireName(nameField, "name");
        if (name.Kind != SkyNameKind.Lookup)
            throw RpcErrors.InvalidArgument("name",
                "at 0: not a lookup name: Lookup takes _<service>._tcp.<region>.<provider>.sky (call Resolve for other names)");
        var instances = await store.ListInstancesAsync(name, ct);
        var endpoints = instances.SelectMany(r => r.Endpoints.Select(e => new LookupEndpoint
        {
            InstanceName = r.Name,
            Endpoint = e,
            ApiVersion = r.ApiVersion,
            SoftwareVersion = r.SoftwareVersion,
            Revision = r.Revision,
        }));
        var ttl = instances.Count == 0 ? RecordValidation.DefaultTtl : instances.Min(r => r.Ttl?.ToTimeSpan() ?? RecordValidation.DefaultTtl);
        return (SrvOrder.Order(endpoints, e => e.Endpoint.Priority, e => e.Endpoint.Weight), ttl);
    }

    private async Task<Zone?> ExistingZoneAsync(SkyName name, CancellationToken ct)
    {
        var zone = await store.FindZoneAsync(name.Canonical, includeSelf: true, ct);
        return zone?.Name == name.Canonical ? zone : null;
    }

    private static void RequireExpectedRevision(long expectedRevision)
    {
        if (expectedRevision <= 0)
            throw RpcErrors.InvalidArgument("expected_revision", "required (> 0): the revision of the record as last read");
    }

    private static Exception RecordFailure(RecordWrite write, SkyName name, long expectedRevision) => write.Outcome switch
    {
        StoreOutcome.NotFound => RpcErrors.NotFound("record", name.Canonical),
        StoreOutcome.StaleRevision => RpcErrors.Aborted(
            $"record '{name}' is at revision {write.PreviousRevision}, not {expectedRevision}: read it again and retry"),
        _ => Unresolved(write.Outcome, name),
    };

    private static Exception Unresolved(StoreOutcome outcome, SkyName name) => outcome == StoreOutcome.ZoneChanged
        ? RpcErrors.Aborted($"the zones around '{name}' kept changing during the write; retry")
        : new InvalidOperationException($"unexpected store outcome {outcome} for '{name}'");

    // Events are published after the write is stored and whatever the caller's cancellation: an accepted write is always announced.
    private PendingEvent ZoneEvent(NamingChangeType change, Zone zone) =>
        outbox.Prepare(Topics.Naming, ZoneChangedType, new NamingZoneChanged { Change = change, Zone = zone, Time = Timestamp.FromDateTimeOffset(time.GetUtcNow()) }, zone.Name);

    private static NamingZoneChanged ZoneData(NamingChangeType change, Zone zone, PendingEvent announce) =>
        new() { Change = change, Zone = zone, Time = Timestamp.FromDateTimeOffset(announce.Event.Time) };

    /// <summary>The record event as prepared: its revision (and a new record's) is filled from the write.</summary>
    private PendingEvent RecordEvent(NamingChangeType change, SkyName name, Record record, long previousRevision) =>
        outbox.Prepare(Topics.Naming, RecordChangedType, RecordData(change, name, record, 0, previousRevision, time.GetUtcNow()), name.Canonical, revisionOf: 0);

    private static NamingRecordChanged RecordData(NamingChangeType change, SkyName name, Record record, long revision, long previousRevision, DateTimeOffset at) => new()
    {
        Change = change,
        Name = name.Canonical,
        Zone = record.Zone,
        Owner = record.Owner,
        Location = new Location { Provider = name.Provider, Region = name.Region ?? "" },
        Revision = revision,
        PreviousRevision = previousRevision,
        Record = record.Clone(),
        Time = Timestamp.FromDateTimeOffset(at),
    };

    /// <summary>The record as the store will keep it (what a prepared event carries if its host dies before publishing).</summary>
    private static Record Expected(SkyName name, Record record, DateTimeOffset now, DateTimeOffset created, Zone zone)
    {
        var expected = record.Clone();
        expected.Name = name.Canonical;
        expected.Revision = 0;
        expected.CreatedAt = Timestamp.FromDateTimeOffset(created);
        expected.UpdatedAt = Timestamp.FromDateTimeOffset(now);
        expected.Zone = zone.Name;
        expected.Owner = zone.Owner;
        return expected;
    }

    /// <summary>Publishes a committed record write with the store's answer as data, under the prepared event's id.</summary>
    private Task DeliverAsync(PendingEvent announce, NamingChangeType change, SkyName name, RecordWrite write) =>
        outbox.DeliverAsync([Published(announce, RecordData(change, name, write.Record!, write.Revision, write.PreviousRevision, announce.Event.Time))],
            write.Revision, write.Outbox ?? []);

    private static PendingEvent Published(PendingEvent announce, Google.Protobuf.IMessage data) =>
        announce with { Event = announce.Event with { Data = data }, RevisionOf = -1 };
}
