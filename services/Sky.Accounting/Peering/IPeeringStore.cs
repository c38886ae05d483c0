using Sky.Accounting.V1;
using Sky.Hosting.Events;
using StackExchange.Redis;

namespace Sky.Accounting.Peering;

/// <summary>
/// An agreement as the store holds it. A removed agreement (ended before it took effect) stays as a tombstone: its id
/// is never given out again, since subscribers such as placement's PeeringFeed treat a removal as final.
/// </summary>
public sealed record StoredAgreement(PeeringAgreement Agreement, bool Removed);

/// <summary>The live agreements and the store revision they were read at (every accepted write bumps it).</summary>
public sealed record PeeringSnapshot(IReadOnlyList<PeeringAgreement> Agreements, long Revision);

/// <summary>How a conditional peering write ended.</summary>
public enum PeeringWriteOutcome
{
    Done,
    /// <summary>The id is taken (by a live or a removed agreement); <see cref="PeeringWrite.Existing"/> says by what.</summary>
    IdTaken,
    /// <summary>Another write committed since the snapshot the decision was made on: read again and decide again.</summary>
    Stale,
}

/// <summary>A write's outcome, with the outbox entries its event was stored under (none for a store without an outbox).</summary>
public sealed record PeeringWrite(PeeringWriteOutcome Outcome, StoredAgreement? Existing = null, IReadOnlyList<RedisValue>? Outbox = null)
{
    public static PeeringWrite Stale { get; } = new(PeeringWriteOutcome.Stale);
}

/// <summary>
/// Where peering agreements live. The rules that span agreements (no two overlap for one pair of providers) are
/// checked by <see cref="PeeringRegistry"/> on a <see cref="PeeringSnapshot"/>; every write is conditional on the
/// snapshot's revision, so two writes decided on the same snapshot cannot both commit. A durable store appends the
/// write's event to the accounting outbox in the same atomic step (<see cref="EventOutbox"/>).
/// </summary>
public interface IPeeringStore
{
    /// <summary>Every live agreement (removed ones left out) and the revision, read together.</summary>
    ValueTask<PeeringSnapshot> ReadAsync(CancellationToken ct = default);

    /// <summary>The agreement with this id, live or removed; null when the id was never used.</summary>
    ValueTask<StoredAgreement?> FindAsync(string agreementId, CancellationToken ct = default);

    /// <summary>Stores a new agreement if its id was never used and the revision is still <paramref name="expectedRevision"/>.</summary>
    ValueTask<PeeringWrite> CreateAsync(PeeringAgreement agreement, long expectedRevision, PendingEvent announce, CancellationToken ct = default);

    /// <summary>
    /// Replaces a live agreement with its <paramref name="ended"/> version, or turns it into a tombstone when
    /// <paramref name="remove"/> (then <paramref name="ended"/> is its last state), if the revision is still
    /// <paramref name="expectedRevision"/>.
    /// </summary>
    ValueTask<PeeringWrite> EndAsync(PeeringAgreement ended, bool remove, long expectedRevision, PendingEvent announce, CancellationToken ct = default);
}
