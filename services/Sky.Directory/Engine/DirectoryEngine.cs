using Microsoft.Extensions.DependencyInjection;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Sky.Directory.Domain;
using Sky.Directory.Query;
using Sky.Directory.Store;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;

namespace Sky.Directory.Engine;

/// <summary>Directory settings a host may change.</summary>
public sealed record DirectoryOptions
{
    /// <summary>The one currency of every price in the directory.</summary>
    public string Currency { get; init; } = "USD";

    /// <summary>Changes kept for watches to resume from; older revisions are compacted.</summary>
    public int HistoryCapacity { get; init; } = 200_000;

    /// <summary>How often lapsed leases are looked for (an offer goes within its TTL plus this).</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Load the built-in catalog the first time a store is used.</summary>
    public bool SeedBuiltinCatalog { get; init; } = true;

    /// <summary>Responses a watcher may fall behind by before its stream is ended (RESOURCE_EXHAUSTED).</summary>
    public int WatchBacklog { get; init; } = 10_000;

    /// <summary>QueryOffers answers kept until the view changes; 0 turns the cache off.</summary>
    public int QueryCacheEntries { get; init; } = 1024;
}

/// <summary>
/// The directory: an in-memory, indexed view of every offer (so queries never leave the process),
/// fed in revision order by the <see cref="IDirectoryLog"/> that holds the truth; a bounded history
/// of changes for watches; leases swept by <see cref="LeaseSweeper"/>. Writes go to the log and
/// return once the view has them. Every write path checks the caller's scope here, not in the adapter.
/// </summary>
public sealed partial class DirectoryEngine(IDirectoryLog log, TimeProvider time,
    [FromKeyedServices("directory")] EventOutbox outbox, DirectoryOptions options)
{
    private const int MaxAttempts = 8;
    public const int WatchChunk = 1000;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly OfferIndex _index = new();
    private readonly History _history = new(options.HistoryCapacity);
    private readonly List<Watcher> _watchers = [];
    private readonly Dictionary<GridKind, (long Revision, IReadOnlyList<IMessage> Entries)> _gridCache = [];
    private long _revision;
    // Bumped under the write lock whenever the view changes (a load, an applied change): a cached answer is valid
    // exactly while the generation it was computed at is the current one.
    private long _generation;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ByteString, CachedQuery> _queries = new();

    private sealed record CachedQuery(long Generation, IReadOnlyList<Offer> Offers, Sky.Common.V1.PageResponse Page);

    public DirectoryOptions Options => options;
    public TimeProvider Time => time;

    /// <summary>The revision the view reflects.</summary>
    public long Revision => Interlocked.Read(ref _revision);

    /// <summary>Number of offers in the view.</summary>
    public int Count
    {
        get { _lock.EnterReadLock(); try { return _index.Count; } finally { _lock.ExitReadLock(); } }
    }

    /// <summary>True once the view has been loaded from the log; until then calls fail UNAVAILABLE.</summary>
    public bool IsReady => Volatile.Read(ref _ready);
    private bool _ready;
    private int _starting;

    /// <summary>Loads the view from the log, follows it, and seeds the built-in catalog once per store.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (IsReady || Interlocked.Exchange(ref _starting, 1) == 1) return;
        try
        {
            await log.StartAsync(Load, Apply, ct);
            Volatile.Write(ref _ready, true);
            if (options.SeedBuiltinCatalog && await log.ClaimSeedAsync(ct))
                await SeedBuiltinAsync(ct);
        }
        finally { Interlocked.Exchange(ref _starting, 0); }
    }

    private void EnsureReady()
    {
        if (!IsReady) throw RpcErrors.Unavailable("the directory has not loaded its store yet (is Redis reachable?); retry shortly");
    }

    // ---- the view ----------------------------------------------------------------------------

    /// <summary>Replaces the view with a snapshot at <paramref name="revision"/>; history restarts after it.</summary>
    private void Load(IReadOnlyList<LogEntry> offers, long revision)
    {
        _lock.EnterWriteLock();
        try
        {
            _index.Clear();
            foreach (var entry in offers) _index.Upsert(OfferView.From(entry.Offer!));
            _history.Clear(revision + 1);
            Interlocked.Exchange(ref _revision, revision);
            _generation++;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Applies committed changes in revision order and hands each watcher the ones it selects.</summary>
    private void Apply(IReadOnlyList<LogEntry> entries, long revision)
    {
        _lock.EnterWriteLock();
        try
        {
            var applied = new List<History.Item>(entries.Count);
            foreach (var entry in entries)
            {
                if (entry.Revision <= _revision) continue;
                if (entry.Type == OfferChangeType.Unspecified) continue; // a grid write: only the revision moves
                if (entry.Offer is { } offer)
                {
                    var previous = _index.Get(entry.OfferId);
                    var view = OfferView.From(offer);
                    _index.Upsert(view);
                    applied.Add(new(new OfferChange { Type = entry.Type, Offer = offer, Revision = entry.Revision }, previous, view));
                }
                else if (_index.Remove(entry.OfferId) is { } removed)
                {
                    applied.Add(new(new OfferChange { Type = entry.Type, Offer = removed.Offer, Revision = entry.Revision }, removed, null));
                }
            }
            foreach (var item in applied) _history.Add(item);
            if (applied.Count > 0) _generation++;
            if (revision > _revision) Interlocked.Exchange(ref _revision, revision);
            foreach (var watcher in _watchers) watcher.Offer(applied, _revision);
        }
        finally { _lock.ExitWriteLock(); }
    }

    private OfferView? Get(string offerId)
    {
        _lock.EnterReadLock();
        try { return _index.Get(offerId); }
        finally { _lock.ExitReadLock(); }
    }

    // ---- register / renew / deregister / expire ---------------------------------------------

    /// <summary>Registers (or replaces) an offer under a lease. Providers may register only their own offers.</summary>
    public async Task<(Offer Offer, TimeSpan Ttl)> RegisterAsync(Offer? requested, Duration? ttl, Principal caller, CancellationToken ct)
    {
        EnsureReady();
        var clean = OfferValidation.Validate(requested, options.Currency);
        var leaseTtl = OfferValidation.LeaseTtl(ttl);
        var provider = clean.Location.Provider;
        if (!caller.ActsForProvider(provider))
            throw RpcErrors.PermissionDenied($"{caller} may not register offers of provider '{provider}'");
        var offerId = OfferIds.For(provider, clean.Key);

        var current = Get(offerId)?.Offer;
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow();
            var stored = Stamp(clean, offerId, "registered", current, now);
            var leaseId = current is { LeaseId.Length: > 0 } ? current.LeaseId : OfferIds.NewLeaseId();
            var grant = new LeaseGrant(leaseId, provider, leaseTtl, LeaseGrant.Expiry(now, leaseTtl));
            stored.LeaseId = leaseId;
            stored.LeaseExpiresAt = Timestamp.FromDateTimeOffset(grant.ExpiresAt);
            var type = current is null ? OfferChangeType.Registered : OfferChangeType.Updated;
            var announce = PutEvent(type, stored, current, leaseTtl, now);
            var result = await log.CommitAsync([new LogWrite(type, offerId, stored, current?.Revision ?? 0, grant)], [announce], ct);
            if (result.Committed)
            {
                // The log has set stored.Revision; from here the offer may be in the view: read it, never change it.
                await outbox.DeliverAsync([announce], result.FirstRevision, result.Outbox);
                return (stored, leaseTtl);
            }
            if (attempt == MaxAttempts) throw RpcErrors.Aborted($"offer {offerId} kept changing; try again");
            current = await log.ReadOfferAsync(offerId, ct);
        }
    }

    /// <summary>Sets the output-only fields on <paramref name="clean"/> (a validated copy this engine owns) and returns it.</summary>
    private static Offer Stamp(Offer clean, string offerId, string origin, Offer? current, DateTimeOffset now)
    {
        var stored = clean;
        stored.OfferId = offerId;
        stored.Origin = origin;
        stored.CreatedAt = current?.CreatedAt ?? Timestamp.FromDateTimeOffset(now);
        stored.UpdatedAt = Timestamp.FromDateTimeOffset(now);
        return stored;
    }

    /// <summary>Renews leases the caller holds (others' and unknown leases come back not alive).</summary>
    public Task<IReadOnlyList<LeaseStatus>> KeepAliveAsync(IReadOnlyList<string> leaseIds, Principal caller, CancellationToken ct)
    {
        EnsureReady();
        const int max = 10_000;
        if (leaseIds.Count > max) throw RpcErrors.InvalidArgument("lease_ids", $"at most {max} per message");
        return log.RenewAsync(leaseIds, caller, time.GetUtcNow(), ct);
    }

    /// <summary>Removes an offer (idempotent). Providers may remove only their own offers.</summary>
    public async Task<(bool Removed, long Revision)> DeregisterAsync(string offerId, Principal caller, CancellationToken ct)
    {
        EnsureReady();
        if (offerId.Length == 0) throw RpcErrors.InvalidArgument("offer_id", "required");
        var current = Get(offerId)?.Offer;
        for (var attempt = 1; ; attempt++)
        {
            if (current is null) return (false, 0);
            if (!caller.ActsForProvider(current.Location.Provider))
                throw RpcErrors.PermissionDenied($"{caller} may not remove offers of provider '{current.Location.Provider}'");
            var announce = outbox.Prepare(Topics.Directory, "directory.offer.deregistered", new DirectoryOfferDeregistered
            {
                OfferId = offerId, Location = current.Location, Offer = current, Time = Now(),
            }, offerId, revisionOf: 0);
            var result = await log.CommitAsync([new LogWrite(OfferChangeType.Deregistered, offerId, null, current.Revision)], [announce], ct);
            if (result.Committed)
            {
                await outbox.DeliverAsync([announce], result.FirstRevision, result.Outbox);
                return (true, result.LastRevision);
            }
            if (attempt == MaxAttempts) throw RpcErrors.Aborted($"offer {offerId} kept changing; try again");
            current = await log.ReadOfferAsync(offerId, ct);
        }
    }

    /// <summary>Removes the offers whose leases have lapsed; returns how many. Safe on many hosts at once.</summary>
    public async Task<int> ExpireDueLeasesAsync(CancellationToken ct)
    {
        EnsureReady();
        var now = time.GetUtcNow();
        var removed = 0;
        foreach (var (leaseId, offerId) in await log.DueLeasesAsync(now, 1000, ct))
        {
            var last = Get(offerId)?.Offer ?? await log.ReadOfferAsync(offerId, ct);
            var announce = outbox.Prepare(Topics.Directory, "directory.offer.expired", new DirectoryOfferExpired
            {
                OfferId = offerId, Location = last?.Location, Offer = last, LeaseId = leaseId, Time = Now(),
            }, offerId, revisionOf: 0);
            var result = await log.CommitAsync([new LogWrite(OfferChangeType.Expired, offerId, null, -1, OnlyIfLeaseDue: now)], [announce], ct);
            if (!result.Committed) continue; // renewed meanwhile, or another host expired it first
            removed++;
            await outbox.DeliverAsync([announce], result.FirstRevision, result.Outbox);
        }
        return removed;
    }

    /// <summary>The event announcing a put, built before the commit (its revision is filled from the commit).</summary>
    private PendingEvent PutEvent(OfferChangeType type, Offer stored, Offer? previous, TimeSpan ttl, DateTimeOffset now)
    {
        var at = Timestamp.FromDateTimeOffset(now);
        return type == OfferChangeType.Registered
            ? outbox.Prepare(Topics.Directory, "directory.offer.registered", new DirectoryOfferRegistered
            {
                OfferId = stored.OfferId, Location = stored.Location, Offer = stored, Ttl = Duration.FromTimeSpan(ttl), Time = at,
            }, stored.OfferId, revisionOf: 0)
            : outbox.Prepare(Topics.Directory, "directory.offer.updated", new DirectoryOfferUpdated
            {
                OfferId = stored.OfferId, Location = stored.Location, Offer = stored, Time = at,
                ChangedFields = { ChangedFields(previous, stored) },
            }, stored.OfferId, revisionOf: 0);
    }

    private static readonly HashSet<int> OutputOnly =
    [
        Offer.OfferIdFieldNumber, Offer.LeaseIdFieldNumber, Offer.LeaseExpiresAtFieldNumber, Offer.RevisionFieldNumber,
        Offer.CreatedAtFieldNumber, Offer.UpdatedAtFieldNumber,
    ];

    /// <summary>Names of the client-set fields that differ between two versions of an offer.</summary>
    public static IEnumerable<string> ChangedFields(Offer? before, Offer after)
    {
        foreach (var field in Offer.Descriptor.Fields.InFieldNumberOrder())
        {
            if (OutputOnly.Contains(field.FieldNumber)) continue;
            var a = before is null ? null : field.Accessor.GetValue(before);
            var b = field.Accessor.GetValue(after);
            if (!Equals(a, b)) yield return field.Name;
        }
    }

    // ---- reads -------------------------------------------------------------------------------

    /// <summary>One offer with its current lease expiry; NOT_FOUND when absent or lapsed.</summary>
    public async Task<Offer> GetOfferAsync(string offerId, CancellationToken ct)
    {
        if (offerId.Length == 0) throw RpcErrors.InvalidArgument("offer_id", "required");
        EnsureReady();
        var offer = Get(offerId)?.Offer ?? throw RpcErrors.NotFound("offer", offerId);
        var withLease = (await WithLeasesAsync([offer], ct))[0];
        if (withLease.LeaseExpiresAt is { } expires && expires.ToDateTimeOffset() <= time.GetUtcNow())
            throw RpcErrors.NotFound("offer", offerId);
        return withLease;
    }

    /// <summary>A page of matching offers, best first, with the revision the answer reflects.</summary>
    public async Task<QueryOffersResponse> QueryAsync(QueryOffersRequest request, CancellationToken ct)
    {
        EnsureReady();
        IReadOnlyList<Offer> offers;
        Sky.Common.V1.PageResponse page;
        long revision;
        // A query's answer is a pure function of the view and the request, so answers are cached until the view
        // changes: many clients asking the same question (the cheapest A100s, a service's instances) cost one lookup
        // between writes, as Kubernetes' watch cache serves lists. The key is the request's encoding; the cache is
        // emptied when it fills. Leases are refreshed below on every answer, cached or not.
        var key = options.QueryCacheEntries > 0 ? request.ToByteString() : null;
        _lock.EnterReadLock();
        try
        {
            if (key is not null && _queries.TryGetValue(key, out var hit) && hit.Generation == _generation)
            {
                // The view has not changed since, so the answer holds at the current revision (a grid write moves
                // the revision, not the view).
                (offers, page, revision) = (hit.Offers, hit.Page, _revision);
            }
            else
            {
                (offers, page) = OfferQuery.Execute(_index, request);
                revision = _revision;
                if (key is not null)
                {
                    if (_queries.Count >= options.QueryCacheEntries) _queries.Clear();
                    _queries[key] = new CachedQuery(_generation, offers, page);
                }
            }
        }
        finally { _lock.ExitReadLock(); }
        var response = new QueryOffersResponse { Page = page.Clone(), Revision = revision };
        response.Offers.AddRange(await WithLeasesAsync(offers, ct));
        return response;
    }

    /// <summary>The same query without the lease refresh or paging (for callers inside the process, e.g. benchmarks).</summary>
    public IReadOnlyList<Offer> QueryInProcess(QueryOffersRequest request)
    {
        _lock.EnterReadLock();
        try { return OfferQuery.Execute(_index, request).Offers; }
        finally { _lock.ExitReadLock(); }
    }

    public ListAcceleratorsResponse ListAccelerators(ListAcceleratorsRequest request)
    {
        EnsureReady();
        _lock.EnterReadLock();
        try
        {
            var (rows, page) = AcceleratorListing.Execute(_index, request);
            var response = new ListAcceleratorsResponse { Page = page };
            response.Accelerators.AddRange(rows);
            return response;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Leases are renewed without a new revision, so the stored expiry is refreshed from the log on the way out.</summary>
    private async Task<IReadOnlyList<Offer>> WithLeasesAsync(IReadOnlyList<Offer> offers, CancellationToken ct)
    {
        var leased = new List<string>(offers.Count);
        foreach (var offer in offers)
            if (offer.LeaseId.Length > 0) leased.Add(offer.LeaseId);
        if (leased.Count == 0) return offers;
        var expiries = await log.LeaseExpiriesAsync(leased, ct);
        var result = new Offer[offers.Count];
        var next = 0;
        for (var i = 0; i < offers.Count; i++)
        {
            // Copy only offers whose lease was renewed since they were stored; the view's objects are never changed.
            var offer = result[i] = offers[i];
            if (offer.LeaseId.Length == 0 || expiries[next++] is not { } expires ||
                (offer.LeaseExpiresAt is { } stored && stored.ToDateTimeOffset() == expires)) continue;
            var copy = result[i] = offer.Clone();
            copy.LeaseExpiresAt = Timestamp.FromDateTimeOffset(expires);
        }
        return result;
    }

    private Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());
}
