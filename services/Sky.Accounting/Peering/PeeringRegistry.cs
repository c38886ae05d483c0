using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Store;

namespace Sky.Accounting.Peering;

/// <summary>
/// Peering agreements between providers, independent of gRPC: validates (<see cref="AgreementRules"/>), keeps at most
/// one agreement in force per pair of providers at any moment, and announces each change on <see cref="Topics.Peering"/>
/// ("peering.agreement.created", "peering.agreement.ended", subject = agreement id). Each event is prepared before its
/// write and handed to the store with it (a durable store keeps it in the outbox in the same step), then published.
/// </summary>
public sealed class PeeringRegistry(IPeeringStore store, [FromKeyedServices("accounting")] EventOutbox outbox, TimeProvider time)
{
    public const string CreatedType = "peering.agreement.created";
    public const string EndedType = "peering.agreement.ended";

    // A write decided on a snapshot another write has since changed is decided again; this bounds a pathological race.
    private const int MaxAttempts = 8;

    /// <summary>Creates the agreement, or returns the stored one when this is a retry of the same request.</summary>
    public async Task<PeeringAgreement> CreateAsync(CreatePeeringAgreementRequest request, CancellationToken ct)
    {
        var requested = AgreementRules.ValidateCreate(request, time.GetUtcNow());
        var serverPicksId = requested.AgreementId.Length == 0;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var agreement = requested.Clone();
            if (serverPicksId) agreement.AgreementId = AgreementRules.NewId(agreement);
            else if (await store.FindAsync(agreement.AgreementId, ct) is { } taken) return Retried(taken, request, agreement);

            var snapshot = await store.ReadAsync(ct);
            if (snapshot.Agreements.FirstOrDefault(held => AgreementRules.Overlap(held, agreement)) is { } clash)
                throw Overlapping(agreement, clash);

            var data = new PeeringAgreementCreated { Agreement = agreement.Clone() };
            var announce = outbox.Prepare(Topics.Peering, CreatedType, data, agreement.AgreementId);
            data.Time = Timestamp.FromDateTimeOffset(announce.Event.Time);
            var write = await store.CreateAsync(agreement, snapshot.Revision, announce, ct);
            switch (write.Outcome)
            {
                case PeeringWriteOutcome.Done:
                    await outbox.DeliverAsync([announce], 0, write.Outbox ?? []);
                    return agreement;
                case PeeringWriteOutcome.IdTaken when !serverPicksId:
                    return Retried(write.Existing!, request, agreement);
            }
            // Stale, or a picked id that happens to be taken: decide again on what the store holds now.
        }
        throw RpcErrors.Aborted("peering agreements kept changing during the write; retry");
    }

    /// <summary>
    /// Ends the agreement at the request's end time (now when unset). One that would then never apply (the end is at or
    /// before its effective_from) is removed, and null is returned. Idempotent: an agreement that already ends by then,
    /// or was removed, is returned as it is (null for removed) and nothing is published.
    /// </summary>
    public async Task<PeeringAgreement?> EndAsync(DeletePeeringAgreementRequest request, CancellationToken ct)
    {
        var (id, end) = AgreementRules.ValidateDelete(request, time.GetUtcNow());
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var snapshot = await store.ReadAsync(ct);
            var current = snapshot.Agreements.FirstOrDefault(a => a.AgreementId == id);
            if (current is null)
            {
                var stored = await store.FindAsync(id, ct) ?? throw RpcErrors.NotFound("peering agreement", id);
                if (stored.Removed) return null;
                continue;   // created since the snapshot
            }
            if (AgreementRules.Until(current) is { } until && until <= end) return current;

            var remove = end <= AgreementRules.From(current);
            var ended = current.Clone();
            // A removed agreement never applied: its period is empty, [from, from).
            ended.EffectiveUntil = remove ? current.EffectiveFrom.Clone() : Timestamp.FromDateTimeOffset(end);
            var data = new PeeringAgreementEnded { Agreement = ended.Clone(), Removed = remove };
            var announce = outbox.Prepare(Topics.Peering, EndedType, data, id);
            data.Time = Timestamp.FromDateTimeOffset(announce.Event.Time);
            var write = await store.EndAsync(ended, remove, snapshot.Revision, announce, ct);
            if (write.Outcome == PeeringWriteOutcome.Done)
            {
                await outbox.DeliverAsync([announce], 0, write.Outbox ?? []);
                return remove ? null : ended;
            }
        }
        throw RpcErrors.Aborted("peering agreements kept changing during the write; retry");
    }

    /// <summary>The agreements matching the filters, newest effective_from first (then by id, so pages are stable).</summary>
    public async Task<(IReadOnlyList<PeeringAgreement> Agreements, PageResponse Page)> ListAsync(ListPeeringAgreementsRequest request, CancellationToken ct)
    {
        var (provider, activeAt) = AgreementRules.ValidateList(request);
        var snapshot = await store.ReadAsync(ct);
        var matching = snapshot.Agreements
            .Where(a => provider is null || a.ProviderA == provider || a.ProviderB == provider)
            .Where(a => activeAt is not { } at || AgreementRules.InEffect(a, at))
            .OrderByDescending(AgreementRules.From)
            .ThenBy(a => a.AgreementId, StringComparer.Ordinal)
            .ToList();
        return Paging.Slice(matching, request.Page);
    }

    /// <summary>A create whose id is taken: the stored agreement when the request asks for exactly it, else ALREADY_EXISTS.</summary>
    private static PeeringAgreement Retried(StoredAgreement taken, CreatePeeringAgreementRequest request, PeeringAgreement requested) =>
        !taken.Removed && AgreementRules.SameTerms(taken.Agreement, request, requested)
            ? taken.Agreement
            : throw RpcErrors.AlreadyExists("peering agreement", requested.AgreementId);

    private static Exception Overlapping(PeeringAgreement agreement, PeeringAgreement clash)
    {
        var until = AgreementRules.Until(clash) is { } u ? "until " + AgreementRules.Format(u) : "open-ended";
        return RpcErrors.FailedPrecondition("PEERING_AGREEMENT_OVERLAP", clash.AgreementId,
            $"{clash.ProviderA} and {clash.ProviderB} already have agreement '{clash.AgreementId}' from " +
            $"{AgreementRules.Format(AgreementRules.From(clash))} {until}, which overlaps the requested period: " +
            "end it first or choose a period that does not overlap it");
    }
}
