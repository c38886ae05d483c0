using Sky.Accounting.V1;
using Sky.Hosting.Events;

namespace Sky.Accounting.Peering;

/// <summary>
/// Peering agreements in this process. Writes are serialised by one lock; there is no outbox (state and events live
/// and die with the process), so a write hands back no entry ids. Agreements are cloned in and out: callers never share
/// a stored instance.
/// </summary>
public sealed class MemoryPeeringStore : IPeeringStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredAgreement> _byId = new(StringComparer.Ordinal);
    private long _revision;

    public ValueTask<PeeringSnapshot> ReadAsync(CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult(new PeeringSnapshot(
                _byId.Values.Where(s => !s.Removed).Select(s => s.Agreement.Clone()).ToList(), _revision));
    }

    public ValueTask<StoredAgreement?> FindAsync(string agreementId, CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult(_byId.TryGetValue(agreementId, out var stored) ? Copy(stored) : null);
    }

    public ValueTask<PeeringWrite> CreateAsync(PeeringAgreement agreement, long expectedRevision, PendingEvent announce, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_byId.TryGetValue(agreement.AgreementId, out var taken))
                return ValueTask.FromResult(new PeeringWrite(PeeringWriteOutcome.IdTaken, Copy(taken)));
            if (_revision != expectedRevision) return ValueTask.FromResult(PeeringWrite.Stale);
            _byId[agreement.AgreementId] = new StoredAgreement(agreement.Clone(), Removed: false);
            _revision++;
            return ValueTask.FromResult(new PeeringWrite(PeeringWriteOutcome.Done));
        }
    }

    public ValueTask<PeeringWrite> EndAsync(PeeringAgreement ended, bool remove, long expectedRevision, PendingEvent announce, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_revision != expectedRevision || !_byId.TryGetValue(ended.AgreementId, out var current) || current.Removed)
                return ValueTask.FromResult(PeeringWrite.Stale);
            _byId[ended.AgreementId] = new StoredAgreement(ended.Clone(), remove);
            _revision++;
            return ValueTask.FromResult(new PeeringWrite(PeeringWriteOutcome.Done));
        }
    }

    private static StoredAgreement Copy(StoredAgreement stored) => stored with { Agreement = stored.Agreement.Clone() };
}
