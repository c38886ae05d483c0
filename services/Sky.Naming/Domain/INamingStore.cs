using Sky.Hosting.Events;
using Sky.Naming.V1;
using StackExchange.Redis;

namespace Sky.Naming.Domain;

/// <summary>How a conditional store write ended.</summary>
public enum StoreOutcome
{
    Done,
    AlreadyExists,
    NotFound,
    /// <summary>The record's current revision is not the expected one.</summary>
    StaleRevision,
    /// <summary>The zone the caller was authorised against is no longer the deciding one (created, deleted or re-created meanwhile): resolve again.</summary>
    ZoneChanged,
    /// <summary>The zone still holds records or sub-zones.</summary>
    ZoneNotEmpty,
}

/// <summary>
/// A record write's outcome. <see cref="Record"/> is the stored record (for a deletion its last state);
/// <see cref="Revision"/> the revision of this write (of the deletion); <see cref="PreviousRevision"/>
/// the revision before it (for <see cref="StoreOutcome.StaleRevision"/> and AlreadyExists, the current one).
/// <see cref="Outbox"/> lists the outbox entries the announcing event was stored under (none without an outbox).
/// </summary>
public sealed record RecordWrite(StoreOutcome Outcome, Record? Record = null, long Revision = 0, long PreviousRevision = 0,
    IReadOnlyList<RedisValue>? Outbox = null);

/// <summary>A zone write's outcome: the zone (for a deletion its last state), or what blocks a deletion.</summary>
public sealed record ZoneWrite(StoreOutcome Outcome, Zone? Zone = null, string? Blocker = null, IReadOnlyList<RedisValue>? Outbox = null);

/// <summary>
/// Where zones and records live. Every write is one atomic step that re-checks, inside the store,
/// the zone decision the caller was authorised against (<c>expected*</c>), so a concurrent zone change
/// can never let a write through on a stale decision. Revisions come from one store-wide counter.
/// A durable store stores the write's <c>announce</c> event in the naming outbox in the same atomic step
/// (<see cref="EventOutbox"/>), so an accepted write is always announced, even if the host dies right after it.
/// Records and zones come back with their output-only fields (zone, owner, parent) derived when read.
/// </summary>
public interface INamingStore : IRecordReader
{
    /// <summary>The deepest zone enclosing <paramref name="name"/> (itself included when <paramref name="includeSelf"/>), with its parent, or null.</summary>
    ValueTask<Zone?> FindZoneAsync(string name, bool includeSelf, CancellationToken ct = default);

    /// <summary>Every zone with its parent, ordered by name.</summary>
    ValueTask<IReadOnlyList<Zone>> ListZonesAsync(CancellationToken ct = default);

    /// <summary>Creates <paramref name="zone"/> if absent and its deepest enclosing zone is still <paramref name="expectedParent"/> (null: none).</summary>
    ValueTask<ZoneWrite> CreateZoneAsync(Zone zone, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default);

    /// <summary>
    /// Deletes the zone if it still has <paramref name="expected"/>'s owner, its deepest enclosing zone is
    /// still <paramref name="expectedParent"/>, and it holds no records or sub-zones.
    /// </summary>
    ValueTask<ZoneWrite> DeleteZoneAsync(Zone expected, Zone? expectedParent, PendingEvent? announce = null, CancellationToken ct = default);

    /// <summary>Stores a new record (revision, created_at and updated_at assigned here) if the name is free and belongs to <paramref name="expectedZone"/>.</summary>
    ValueTask<RecordWrite> CreateRecordAsync(SkyName name, Record record, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default);

    /// <summary>Replaces a record's contents if its revision is <paramref name="expectedRevision"/> and it belongs to <paramref name="expectedZone"/>.</summary>
    ValueTask<RecordWrite> UpdateRecordAsync(SkyName name, Record record, long expectedRevision, DateTimeOffset now, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default);

    /// <summary>Deletes a record if its revision is <paramref name="expectedRevision"/> and it belongs to <paramref name="expectedZone"/>.</summary>
    ValueTask<RecordWrite> DeleteRecordAsync(SkyName name, long expectedRevision, Zone expectedZone, PendingEvent? announce = null, CancellationToken ct = default);

    /// <summary>Names that have a record, at or below <paramref name="under"/> (all when null), in ordinal order.</summary>
    ValueTask<IReadOnlyList<string>> ListRecordNamesAsync(string? under, CancellationToken ct = default);

    /// <summary>The records of <paramref name="names"/>, in that order; names deleted meanwhile are left out.</summary>
    ValueTask<IReadOnlyList<Record>> GetRecordsAsync(IReadOnlyList<string> names, CancellationToken ct = default);
}
