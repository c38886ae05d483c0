using Sky.Directory.V1;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using StackExchange.Redis;

namespace Sky.Directory.Store;

/// <summary>One write in a commit: put (register/update) or remove an offer, under a condition.</summary>
/// <param name="Type">REGISTERED or UPDATED for a put, EXPIRED or DEREGISTERED for a removal.</param>
/// <param name="OfferId">The offer.</param>
/// <param name="Offer">For a put: the offer as it is to be stored, lease fields set. The log takes it over: on commit it
/// sets its revision, and the view may hold this very object, so the caller must not change it afterwards.</param>
/// <param name="ExpectedRevision">The offer's current revision the write was computed from: 0 = must be absent, -1 = any.</param>
/// <param name="Lease">For a put: the lease to (re)grant; null for catalog offers.</param>
/// <param name="OnlyIfLeaseDue">For an expiry: remove only if the offer's lease is still due at this time (not renewed meanwhile).</param>
public sealed record LogWrite(
    OfferChangeType Type,
    string OfferId,
    Offer? Offer,
    long ExpectedRevision,
    LeaseGrant? Lease = null,
    DateTimeOffset? OnlyIfLeaseDue = null)
{
    public bool IsPut => Type is OfferChangeType.Registered or OfferChangeType.Updated;
}

/// <summary>A lease as granted: its id, the provider that holds it, its TTL and when it lapses.</summary>
public sealed record LeaseGrant(string LeaseId, string Provider, TimeSpan Ttl, DateTimeOffset ExpiresAt)
{
    /// <summary>When a lease granted or renewed at <paramref name="now"/> lapses, in whole milliseconds (as every store keeps it).</summary>
    public static DateTimeOffset Expiry(DateTimeOffset now, TimeSpan ttl) =>
        DateTimeOffset.FromUnixTimeMilliseconds((now + ttl).ToUnixTimeMilliseconds());
}

/// <summary>A committed change as every host applies it, in revision order.</summary>
/// <param name="Revision">Directory revision of the change.</param>
/// <param name="Type">What happened; UNSPECIFIED for a grid write (no offer changes, the revision still advances).</param>
/// <param name="OfferId">The offer; empty for a grid write.</param>
/// <param name="Offer">For a put: the stored offer with its revision; null for removals and grid writes.</param>
public sealed record LogEntry(long Revision, OfferChangeType Type, string OfferId, Offer? Offer);

/// <summary>
/// The outcome of a commit: the revisions it took, or the write whose condition failed; and the outbox entries its
/// events were stored under (none for a store without an outbox), for <see cref="EventOutbox.DeliverAsync"/>.
/// </summary>
public sealed record CommitResult(long FirstRevision, long LastRevision, int ConflictIndex = -1, IReadOnlyList<RedisValue>? OutboxEntries = null)
{
    public bool Committed => ConflictIndex < 0;
    public IReadOnlyList<RedisValue> Outbox => OutboxEntries ?? [];
    public static CommitResult Conflict(int index) => new(0, 0, index);
}

/// <summary>Which grid.</summary>
public enum GridKind { Egress, Throughput }

/// <summary>A grid entry as stored: its (src, dst) key, its source provider and its encoded message.</summary>
public sealed record GridEntry(string Key, string SrcProvider, byte[] Data);

/// <summary>
/// Where the directory's state lives and how changes reach every host. The engine keeps the queryable
/// view in memory; the log is the source of truth: in memory for one process, or Redis, where a Lua
/// script gives each commit its revision and appends it to a stream every host tails (etcd's model:
/// one revision counter, a history that is compacted, watches that resume from a revision).
/// </summary>
public interface IDirectoryLog : IAsyncDisposable
{
    /// <summary>
    /// Hands the current state to <paramref name="load"/> (every offer, and the revision it reflects), then delivers
    /// every later committed change, from any host, to <paramref name="apply"/> in revision order, a batch at a time.
    /// A host that falls behind the retained history is given a fresh snapshot through <paramref name="load"/>.
    /// </summary>
    Task StartAsync(Action<IReadOnlyList<LogEntry>, long> load, Action<IReadOnlyList<LogEntry>, long> apply, CancellationToken ct);

    /// <summary>
    /// Commits <paramref name="writes"/> atomically, giving them consecutive revisions, unless a write's condition
    /// fails. A durable log stores <paramref name="announce"/> in the directory's outbox in the same commit, so the
    /// change and its events cannot part. Returns once this host's view has applied the commit (read your writes).
    /// </summary>
    Task<CommitResult> CommitAsync(IReadOnlyList<LogWrite> writes, IReadOnlyList<PendingEvent> announce, CancellationToken ct);

    /// <summary>The stored offer and its lease, read from the source of truth (used to retry after a conflict).</summary>
    Task<Offer?> ReadOfferAsync(string offerId, CancellationToken ct);

    /// <summary>Renews leases the caller holds; one status per id, in order (alive false for unknown, lapsed or others').</summary>
    Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<string> leaseIds, Principal caller, DateTimeOffset now, CancellationToken ct);

    /// <summary>When each lease lapses (null for unknown leases).</summary>
    Task<IReadOnlyList<DateTimeOffset?>> LeaseExpiriesAsync(IReadOnlyList<string> leaseIds, CancellationToken ct);

    /// <summary>Up to <paramref name="max"/> leases due at <paramref name="now"/> with the offers they keep alive.</summary>
    Task<IReadOnlyList<(string LeaseId, string OfferId)>> DueLeasesAsync(DateTimeOffset now, int max, CancellationToken ct);

    /// <summary>
    /// Writes grid entries (replacing those of <paramref name="replaceProviders"/> first) under a new revision, storing
    /// <paramref name="announce"/> in the outbox with it as <see cref="CommitAsync"/> does (the revision is write 0's).
    /// </summary>
    Task<(int Removed, CommitResult Commit)> PutGridAsync(GridKind kind, IReadOnlyList<GridEntry> entries, IReadOnlySet<string> replaceProviders,
        IReadOnlyList<PendingEvent> announce, CancellationToken ct);

    /// <summary>Every entry of a grid, and the revision of the grid's last write (0 = never written).</summary>
    Task<(IReadOnlyList<GridEntry> Entries, long Revision)> ReadGridAsync(GridKind kind, CancellationToken ct);

    /// <summary>
    /// The <see cref="PriceBook"/>: for each of <paramref name="items"/> (offer ids, or egress grid keys), the version in force
    /// at <paramref name="revision"/>, or null when the item had no price then (not yet written, or removed).
    /// </summary>
    Task<IReadOnlyList<PricePoint?>> PricesAtAsync(PriceBookKind kind, long revision, IReadOnlyList<string> items, CancellationToken ct);

    /// <summary>
    /// True exactly once per store: the first host to ask seeds the built-in catalog (so a shared Redis is
    /// seeded once, and an operator who removed built-in offers does not get them back on restart).
    /// </summary>
    Task<bool> ClaimSeedAsync(CancellationToken ct);
}
