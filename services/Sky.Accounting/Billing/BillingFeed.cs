using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sky.Accounting.Ledger;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;

namespace Sky.Accounting.Billing;

/// <summary>
/// Wakes everything waiting for new billing events in this process (the feed after a posting, streams after a journal
/// append). Other hosts are not woken: they find the news on their next poll.
/// </summary>
public sealed class BillingSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Returns at the next pulse or after <paramref name="poll"/>, whichever is first.</summary>
    public async Task WaitAsync(TimeSpan poll, TimeProvider time, CancellationToken ct)
    {
        var pulse = Volatile.Read(ref _next).Task;
        await Task.WhenAny(pulse, Task.Delay(poll, time, ct));
        ct.ThrowIfCancellationRequested();
    }
}

/// <summary>
/// Turns ledger postings into <c>billing.usage.rated</c> events, exactly once each: it reads the ledger after the
/// journal's checkpoint (the ledger is the outbox, <see cref="ILedger.ReadFromAsync"/>) and appends the events with the
/// new checkpoint in one store write, which also puts them in the pub/sub outbox. Two hosts racing for the same
/// postings cannot both append (the write is conditional on the checkpoint). Event ids follow from the transaction
/// ("billing-usage-" + id), so even an at-least-once republish is recognisable.
/// </summary>
public sealed class UsageJournal(ILedger ledger, IBillingStore store, BillingSignal signal, [FromKeyedServices("accounting")] EventOutbox outbox)
{
    public const string UsageRatedType = "billing.usage.rated";
    public const int Batch = 500;

    /// <summary>Journals the next postings after the checkpoint; returns how many, 0 when there were none, -1 when another host won.</summary>
    public async Task<int> PumpAsync(CancellationToken ct)
    {
        var checkpoint = await store.UsageCheckpointAsync(ct);
        var events = new List<BillingJournalEntry>(Batch);
        var last = checkpoint;
        var read = 0;
        await foreach (var tx in ledger.ReadFromAsync(checkpoint, ct))
        {
            read++;
            last = tx.Sequence;
            if (tx.Usage.TenantId.Length > 0) events.Add(UsageRated(tx));
            if (read == Batch) break;
        }
        if (read == 0) return 0;
        var write = await store.AppendUsageAsync(checkpoint, last, events, ct);
        if (write is null) return -1;
        await outbox.DeliverAsync([.. events.Select(e => e.Published)], 0, write.OutboxIds);
        signal.Pulse();
        return read;
    }

    /// <summary>Journals every posting made so far (so an invoice is never announced before the usage it bills).</summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        while (await PumpAsync(ct) != 0) { }
    }

    private BillingJournalEntry UsageRated(LedgerTransaction tx)
    {
        var id = "billing-usage-" + tx.Id;
        var at = tx.PostedAt;
        var data = new BillingUsageRated { TenantId = tx.Usage.TenantId, Usage = tx.Usage, Time = Timestamp.FromDateTimeOffset(at) };
        var published = outbox.Prepare(Topics.Billing, UsageRatedType, data, tx.Usage.TenantId);
        published = published with { Event = published.Event with { Id = id, Time = at } };
        var streamed = new StreamBillingResponse { EventId = id, Type = UsageRatedType, Time = data.Time, UsageRated = tx.Usage };
        return new BillingJournalEntry(tx.Usage.TenantId, streamed, published);
    }
}

/// <summary>
/// Runs <see cref="UsageJournal"/> whenever usage is posted in this process (<see cref="BillingSignal"/>) and every
/// <see cref="Poll"/> (postings by other hosts). At start it first finishes any period close that died half-way.
/// </summary>
public sealed class BillingFeed(UsageJournal journal, BillingPeriods periods, BillingSignal signal, TimeProvider time, ILogger<BillingFeed> log) : IHostedService
{
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken ct)
    {
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop.WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var recovered = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!recovered)
                {
                    foreach (var (period, at) in await periods.UnfinishedAsync(ct))
                    {
                        log.LogWarning("billing period {Period} was closed in the ledger but not issued; issuing it now", period);
                        await periods.IssueAsync(period, at, ct);
                    }
                    recovered = true;
                }
                await journal.CatchUpAsync(ct);
                await signal.WaitAsync(Poll, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogWarning(e, "billing feed failed; retrying");
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}

/// <summary>
/// StreamBilling: a tenant's journal from a resume point (or from now), then live. Waits on <see cref="BillingSignal"/>
/// (appends made by this host) and polls every <see cref="BillingFeed.Poll"/> (appends made by another host).
/// </summary>
public sealed class BillingStreams(IBillingStore store, BillingSignal signal, TimeProvider time)
{
    public async IAsyncEnumerable<StreamBillingResponse> ReadAsync(string tenant, string afterEventId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        JournalCursor cursor;
        if (afterEventId.Length == 0) cursor = await store.EndAsync(tenant, ct);
        else cursor = await store.FindAsync(tenant, afterEventId, ct)
            ?? throw Sky.Hosting.Errors.RpcErrors.FailedPrecondition("EVENT_EXPIRED", afterEventId,
                $"event '{afterEventId}' is not in tenant '{tenant}''s billing stream any more (kept {IBillingStore.JournalRetention.TotalHours:0} hours); start again without after_event_id");
        while (!ct.IsCancellationRequested)
        {
            var (events, next) = await store.ReadAsync(tenant, cursor, 256, ct);
            cursor = next;
            foreach (var e in events) yield return e;
            if (events.Count == 0) await signal.WaitAsync(BillingFeed.Poll, time, ct);
        }
    }
}
