using Sky.Directory.V1;
using Sky.Hosting.Identity;

using Sky.Hosting.Events;

namespace Sky.Directory.Store;

/// <summary>
/// The directory's source of truth in this process (embedded default). One lock orders commits and
/// applies each to the engine's view before the next, so revisions reach the view in order.
/// </summary>
public sealed class MemoryDirectoryLog : IDirectoryLog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Offer> _offers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private readonly SortedSet<(long ExpiresTicks, string LeaseId)> _byExpiry = new();
    private readonly Dictionary<GridKind, Dictionary<string, GridEntry>> _grids = new() { [GridKind.Egress] = new(), [GridKind.Throughput] = new() };
    private readonly Dictionary<GridKind, long> _gridRevisions = new() { [GridKind.Egress] = 0, [GridKind.Throughput] = 0 };
    private readonly PriceBook.Versions _offerPrices = new(), _egressPrices = new();
    private Action<IReadOnlyList<LogEntry>, long> _apply = (_, _) => { };
    private long _revision;
    private bool _seeded;

    private sealed class Lease(string offerId, string provider, TimeSpan ttl, DateTimeOffset expiresAt)
    {
        public string OfferId { get; } = offerId;
        public string Provider { get; } = provider;
        public TimeSpan Ttl { get; } = ttl;
        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;
    }

    public Task StartAsync(Action<IReadOnlyList<LogEntry>, long> load, Action<IReadOnlyList<LogEntry>, long> apply, CancellationToken ct)
    {
        lock (_gate) _apply = apply;
        return Task.CompletedTask;
    }

    // No outbox: the state and the events live and die with this one process, so the engine publishes after the commit.
    public Task<CommitResult> CommitAsync(IReadOnlyList<LogWrite> writes, IReadOnlyList<PendingEvent> announce, CancellationToken ct)
    {
        lock (_gate)
        {
            for (var i = 0; i < writes.Count; i++)
                if (!Holds(writes[i])) return Task.FromResult(CommitResult.Conflict(i));
            var entries = new LogEntry[writes.Count];
            var first = _revision + 1;
            for (var i = 0; i < writes.Count; i++)
                entries[i] = Write(writes[i], ++_revision);
            _apply(entries, _revision);
            return Task.FromResult(new CommitResult(first, _revision));
        }
    }

    private bool Holds(LogWrite write)
    {
        _offers.TryGetValue(write.OfferId, out var current);
        if (write.ExpectedRevision >= 0 && (current?.Revision ?? 0) != write.ExpectedRevision) return false;
        if (write.OnlyIfLeaseDue is { } due)
            return current is not null && _leases.TryGetValue(current.LeaseId, out var lease) && lease.ExpiresAt <= due;
        return true;
    }

    private LogEntry Write(LogWrite write, long revision)
    {
        if (_offers.Remove(write.OfferId, out var previous) && previous.LeaseId.Length > 0 && _leases.Remove(previous.LeaseId, out var old))
            _byExpiry.Remove((old.ExpiresAt.UtcTicks, previous.LeaseId));
        if (!write.IsPut)
        {
            _offerPrices.Append(write.OfferId, revision, []);
            return new LogEntry(revision, write.Type, write.OfferId, null);
        }

        var offer = write.Offer!;
        offer.Revision = revision;
        if (write.Lease is { } grant)
        {
            _leases[grant.LeaseId] = new Lease(write.OfferId, grant.Provider, grant.Ttl, grant.ExpiresAt);
            _byExpiry.Add((grant.ExpiresAt.UtcTicks, grant.LeaseId));
        }
        _offers[write.OfferId] = offer;
        _offerPrices.Append(write.OfferId, revision, PriceBook.OfferBody(offer));
        return new LogEntry(revision, write.Type, write.OfferId, offer);
    }

    public Task<Offer?> ReadOfferAsync(string offerId, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_offers.GetValueOrDefault(offerId));
    }

    public Task<IReadOnlyList<LeaseStatus>> RenewAsync(IReadOnlyList<string> leaseIds, Principal caller, DateTimeOffset now, CancellationToken ct)
    {
        var statuses = new LeaseStatus[leaseIds.Count];
        lock (_gate)
        {
            for (var i = 0; i < leaseIds.Count; i++)
            {
                var id = leaseIds[i];
                statuses[i] = new LeaseStatus { LeaseId = id };
                if (!_leases.TryGetValue(id, out var lease) || lease.ExpiresAt <= now || !caller.ActsForProvider(lease.Provider)) continue;
                _byExpiry.Remove((lease.ExpiresAt.UtcTicks, id));
                lease.ExpiresAt = LeaseGrant.Expiry(now, lease.Ttl);
                _byExpiry.Add((lease.ExpiresAt.UtcTicks, id));
                statuses[i].Alive = true;
                statuses[i].Ttl = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(lease.Ttl);
            }
        }
        return Task.FromResult<IReadOnlyList<LeaseStatus>>(statuses);
    }

    public Task<IReadOnlyList<DateTimeOffset?>> LeaseExpiriesAsync(IReadOnlyList<string> leaseIds, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<DateTimeOffset?>>(
                [.. leaseIds.Select(id => _leases.TryGetValue(id, out var lease) ? lease.ExpiresAt : (DateTimeOffset?)null)]);
    }

    public Task<IReadOnlyList<(string LeaseId, string OfferId)>> DueLeasesAsync(DateTimeOffset now, int max, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<(string, string)>>(
                [.. _byExpiry.TakeWhile(e => e.ExpiresTicks <= now.UtcTicks).Take(max).Select(e => (e.LeaseId, _leases[e.LeaseId].OfferId))]);
    }

    public Task<(int Removed, CommitResult Commit)> PutGridAsync(GridKind kind, IReadOnlyList<GridEntry> entries, IReadOnlySet<string> replaceProviders,
        IReadOnlyList<PendingEvent> announce, CancellationToken ct)
    {
        lock (_gate)
        {
            var grid = _grids[kind];
            var revision = ++_revision;
            var removed = grid.Where(e => replaceProviders.Contains(e.Value.SrcProvider)).Select(e => e.Key).ToList();
            foreach (var key in removed) grid.Remove(key);
            foreach (var entry in entries) grid[entry.Key] = entry;
            if (kind == GridKind.Egress)
            {
                foreach (var key in removed.Where(k => !grid.ContainsKey(k))) _egressPrices.Append(key, revision, []);
                foreach (var entry in entries) _egressPrices.Append(entry.Key, revision, PriceBook.GridBody(entry.Data));
            }
            _gridRevisions[kind] = revision;
            _apply([new LogEntry(revision, OfferChangeType.Unspecified, "", null)], revision);
            return Task.FromResult((removed.Count, new CommitResult(revision, revision)));
        }
    }

    public Task<(IReadOnlyList<GridEntry> Entries, long Revision)> ReadGridAsync(GridKind kind, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<(IReadOnlyList<GridEntry>, long)>(([.. _grids[kind].Values], _gridRevisions[kind]));
    }

    public Task<IReadOnlyList<PricePoint?>> PricesAtAsync(PriceBookKind kind, long revision, IReadOnlyList<string> items, CancellationToken ct)
    {
        var book = kind == PriceBookKind.Offer ? _offerPrices : _egressPrices;
        lock (_gate) return Task.FromResult<IReadOnlyList<PricePoint?>>([.. items.Select(item => book.At(item, revision))]);
    }

    public Task<bool> ClaimSeedAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            if (_seeded) return Task.FromResult(false);
            _seeded = true;
            return Task.FromResult(true);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
