using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using Sky.Transfer.V1;
using StackExchange.Redis;

namespace Sky.Transfer.Jobs;

/// <summary>
/// Runs transfers in this process: the copy (<see cref="ObjectCopier"/>, which checkpoints every part), the progress
/// (kept live for watchers, written to the store every <see cref="TransferOptions.ProgressInterval"/>, published as
/// <c>transfer.progress</c>), cancellation (here or from another process, through the store), and the end: the final
/// state, <c>transfer.completed</c> and the usage (<c>transfer.usage</c>, once) commit together through the transfer
/// outbox. A host that stops leaves its transfers RUNNING with their checkpoints; the next process to see its heartbeat
/// lapse adopts and resumes them (<see cref="TransferRecovery"/>).
/// </summary>
public sealed class TransferRunner(
    ITransferStore store, ObjectCopier copier, ObjectStores stores, TransferCatalog catalog,
    [FromKeyedServices("transfer")] EventOutbox outbox, TimeProvider time, TransferOptions options, ILogger<TransferRunner> log) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, LiveTransfer> _live = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public bool IsLive(string transferId) => _live.ContainsKey(transferId);

    /// <summary>The transfer as it stands now, when it runs here.</summary>
    public TransferJob? Current(string transferId) => _live.TryGetValue(transferId, out var live) ? live.Snapshot() : null;

    /// <summary>
    /// Writes the new transfer (PENDING) and starts copying it in the background. Its plan's <paramref name="quote"/> (null
    /// when the plan has none) is kept for the usage to name its lines, and issued again with subject_id = the transfer
    /// (<c>transfer.quote.issued</c>) in the transfer's first commit, so accounting ties the quote to the transfer it started.
    /// </summary>
    public async Task StartAsync(TransferJob job, Quote? quote, CancellationToken ct)
    {
        job.Progress ??= new TransferProgress();
        job.Progress.State = TransferState.Pending;
        job.Progress.UpdatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        var events = new List<PendingEvent> { Progressed(job) };
        if (quote is not null)
        {
            var started = quote.Clone();
            started.SubjectId = job.TransferId;
            // Kept before the transfer is written: a transfer that exists always finds its quote at its end.
            await store.KeepQuoteAsync(started, ct);
            events.Add(QuoteIssued(outbox, started, time.GetUtcNow()));
        }
        await LaunchAsync(job, events, ct);
    }

    /// <summary><c>transfer.quote.issued</c> for <paramref name="quote"/> (CloudEvent subject = the quote id).</summary>
    public static PendingEvent QuoteIssued(EventOutbox outbox, Quote quote, DateTimeOffset now) =>
        outbox.Prepare(Topics.Transfer, "transfer.quote.issued", new TransferQuoteIssued { Quote = quote, Time = Timestamp.FromDateTimeOffset(now) }, quote.QuoteId);

    /// <summary>Continues a transfer this process just adopted (its previous run stopped), from its checkpoint.</summary>
    public async Task ResumeAsync(TransferJob job, CancellationToken ct)
    {
        job.Resumes++;
        job.Progress.UpdatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        await LaunchAsync(job, [], ct);
        log.LogInformation("transfer {Id}: resumed from its checkpoint ({Done} of {Total} bytes done before)", job.TransferId, job.Progress.BytesDone, job.Progress.BytesTotal);
    }

    /// <summary>
    /// Registers the transfer as running here before its write commits, so <see cref="TransferRecovery"/> never takes a
    /// transfer this process is starting for one it left; then writes it and starts the copy.
    /// </summary>
    private async Task LaunchAsync(TransferJob job, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        var live = new LiveTransfer(job, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (!_live.TryAdd(job.TransferId, live)) return;
        try
        {
            await CommitAsync(job, events, ct);
        }
        catch
        {
            _live.TryRemove(job.TransferId, out _);
            throw;
        }
        live.Done = Task.Run(() => RunAsync(live), CancellationToken.None);
    }

    /// <summary>Asks a transfer running here to stop; returns its state once it has (null when it does not run here).</summary>
    public async Task<TransferState?> CancelAsync(string transferId)
    {
        if (!_live.TryGetValue(transferId, out var live)) return null;
        live.CancelRequested = true;
        await live.Cancel.CancelAsync();
        await live.Done.WaitAsync(TimeSpan.FromSeconds(30));
        return live.Snapshot().Progress.State;
    }

    /// <summary>How often a watcher hears of a running transfer's progress, at most (a state change is not held back).</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The transfer now, then after changes at most every <see cref="WatchInterval"/> (a new state at once), until it is
    /// final or stops running here (only for a transfer running here).
    /// </summary>
    public async IAsyncEnumerable<TransferJob> WatchAsync(string transferId, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!_live.TryGetValue(transferId, out var live)) yield break;
        TransferJob? last = null;
        var lastAt = DateTimeOffset.MinValue;
        while (_live.ContainsKey(transferId) || last is null)
        {
            var changed = live.Changed;
            var now = live.Snapshot();
            if (last is null || !now.Progress.Equals(last.Progress) || now.Error != last.Error)
            {
                var wait = lastAt + WatchInterval - time.GetUtcNow();
                if (last is not null && now.Progress.State == last.Progress.State && wait > TimeSpan.Zero)
                {
                    // Held back until the interval is up; woken by every change in between, so a new state is not.
                    await Task.WhenAny(Task.Delay(wait, time, ct), changed);
                    ct.ThrowIfCancellationRequested();
                    continue;
                }
                last = now;
                lastAt = time.GetUtcNow();
                yield return now;
            }
            if (TransferStates.IsFinal(now.Progress.State)) yield break;
            await Task.WhenAny(changed, Task.Delay(WatchInterval, time, ct));
            ct.ThrowIfCancellationRequested();
        }
    }


    private async Task RunAsync(LiveTransfer live)
    {
        var id = live.Id;
        var ct = live.Cancel.Token;
        using var ticker = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task? ticks = null;
        var request = CopyRequestOf(live.Snapshot());
        await using var throttled = options.MaxBytesPerSecond > 0 ? new ThrottledObjectStore(request.Destination, options.MaxBytesPerSecond) : null;
        if (throttled is not null) request = request with { Destination = throttled };
        try
        {
            live.Update(j =>
            {
                j.Progress.State = TransferState.Running;
                j.StartedAt ??= Timestamp.FromDateTimeOffset(time.GetUtcNow());
            });
            await CommitAsync(live.Snapshot(), [Progressed(live.Snapshot())], ct);
            ticks = TickAsync(live, ticker.Token);
            var outcome = await copier.RunAsync(request, options.Copy, p => live.Update(j => Apply(j, p)), ct);
            live.Update(j =>
            {
                Apply(j, outcome.Final);
                j.Progress.State = outcome.Failures.Count == 0 ? TransferState.Succeeded : TransferState.Failed;
                if (outcome.Failures.Count > 0)
                    j.Error = $"{outcome.Failures.Count} of {outcome.Final.ObjectsTotal} objects failed; first: {outcome.Failures[0].SourceKey}: {outcome.Failures[0].Reason}";
            });
        }
        catch (OperationCanceledException) when (live.CancelRequested)
        {
            await AbortAsync(live);
            live.Update(j => j.Progress.State = TransferState.Cancelled);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // This host is stopping: the transfer stays RUNNING with its checkpoint, to be resumed by whoever adopts it.
            await LeaveAsync(live, ticker, ticks);
            return;
        }
        catch (TransferOwnershipLostException)
        {
            log.LogWarning("transfer {Id}: another process adopted it; this one stops copying", id);
            await LeaveAsync(live, ticker, ticks);
            return;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The store (checkpoint or transfer record) is unreachable: nothing can be recorded, so the copy stops as it
            // is and stays RUNNING; TransferRecovery resumes it from the checkpoint once the store answers again.
            log.LogWarning("transfer {Id}: the store failed ({Error}); the copy stops and resumes from its checkpoint when the store is back", id, e.Message);
            await LeaveAsync(live, ticker, ticks);
            return;
        }
        catch (Exception e) when (e is CopyPreconditionException or ObjectStoreException or InvalidOperationException or ArgumentException)
        {
            live.Update(j =>
            {
                j.Progress.State = TransferState.Failed;
                j.Error = e.Message;
            });
        }
        await StopTickerAsync(ticker, ticks);
        await FinishAsync(live);
    }

    /// <summary>Stops running a transfer here without ending it (its checkpoint and state stay for whoever resumes it).</summary>
    private async Task LeaveAsync(LiveTransfer live, CancellationTokenSource ticker, Task? ticks)
    {
        await StopTickerAsync(ticker, ticks);
        live.Finish();
        _live.TryRemove(live.Id, out _);
    }

    private static async Task StopTickerAsync(CancellationTokenSource ticker, Task? ticks)
    {
        await ticker.CancelAsync();
        if (ticks is not null) await ticks.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task AbortAsync(LiveTransfer live)
    {
        try
        {
            await copier.AbortAsync(CopyRequestOf(live.Snapshot()), CancellationToken.None);
        }
        catch (Exception e) when (e is ObjectStoreException or InvalidOperationException)
        {
            log.LogWarning(e, "transfer {Id}: aborting its partial uploads failed; the store's lifecycle rules must clean them up", live.Id);
        }
    }

    /// <summary>The final write: state, transfer.completed and transfer.usage in one commit, then the checkpoint goes.</summary>
    private async Task FinishAsync(LiveTransfer live)
    {
        var now = time.GetUtcNow();
        live.Update(j =>
        {
            j.EndedAt = Timestamp.FromDateTimeOffset(now);
            j.Progress.UpdatedAt = j.EndedAt;
            j.Progress.RateBytesPerSecond = 0;
            j.Progress.Eta = null;
        });
        var job = live.Snapshot();
        try
        {
            var events = new List<PendingEvent>
            {
                Progressed(job),
                outbox.Prepare(Topics.Transfer, "transfer.completed", new TransferCompleted { Transfer = job, Time = job.EndedAt }, job.TransferId),
            };
            if (await UsageAsync(job) is { } usage) events.Add(outbox.Prepare(Topics.Transfer, "transfer.usage", usage, job.TransferId));
            await CommitAsync(job, events, CancellationToken.None);
            if (job.Progress.State != TransferState.Cancelled) await copier.ForgetAsync(job.TransferId, CancellationToken.None);
            log.LogInformation("transfer {Id}: {State}, {Bytes} bytes in {Objects} objects", job.TransferId, job.Progress.State, job.Progress.BytesDone, job.Progress.ObjectsDone);
        }
        catch (TransferOwnershipLostException)
        {
            log.LogWarning("transfer {Id}: another process adopted it before it ended here", job.TransferId);
        }
        finally
        {
            live.Finish();
            _live.TryRemove(job.TransferId, out _);
        }
    }

    /// <summary>Writes progress to the store every interval, publishes it every event interval, and follows cancellations made elsewhere.</summary>
    private async Task TickAsync(LiveTransfer live, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.ProgressInterval, time);
        var lastEvent = time.GetUtcNow();
        TransferProgress? written = null;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var now = time.GetUtcNow();
                live.Update(j => Rate(j, live, now));
                var job = live.Snapshot();
                if (await store.CancelRequestedAsync(job.TransferId, ct))
                {
                    live.CancelRequested = true;
                    await live.Cancel.CancelAsync();
                    return;
                }
                if (written is not null && written.BytesDone == job.Progress.BytesDone && written.ObjectsDone == job.Progress.ObjectsDone
                    && written.BytesTotal == job.Progress.BytesTotal) continue;
                var publish = now - lastEvent >= options.ProgressEventInterval;
                await CommitAsync(job, publish ? [Progressed(job)] : [], ct);
                if (publish) lastEvent = now;
                written = job.Progress;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (TransferOwnershipLostException)
        {
            await live.Cancel.CancelAsync();
        }
    }

    private void Apply(TransferJob job, CopyProgress p)
    {
        job.Progress.BytesDone = p.BytesDone;
        job.Progress.BytesTotal = p.BytesTotal;
        job.Progress.ObjectsDone = p.ObjectsDone;
        job.Progress.ObjectsTotal = p.ObjectsTotal;
        job.Progress.ObjectsFailed = p.ObjectsFailed;
        job.Progress.BytesResent = p.BytesResent;   // counted over every run of the copy (the checkpoint keeps it)
        job.Progress.UpdatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow());
    }

    /// <summary>Rate over the last <see cref="TransferOptions.RateWindow"/> and the ETA at that rate.</summary>
    private void Rate(TransferJob job, LiveTransfer live, DateTimeOffset now)
    {
        var samples = live.Samples;
        samples.Enqueue((now, job.Progress.BytesDone));
        while (samples.Count > 1 && now - samples.Peek().At > options.RateWindow) samples.Dequeue();
        var (at, bytes) = samples.Peek();
        var seconds = (now - at).TotalSeconds;
        var rate = seconds > 0 ? (long)((job.Progress.BytesDone - bytes) / seconds) : 0;
        job.Progress.RateBytesPerSecond = rate;
        var left = job.Progress.BytesTotal - job.Progress.BytesDone;
        job.Progress.Eta = rate > 0 && left >= 0 ? Duration.FromTimeSpan(TimeSpan.FromSeconds(Math.Ceiling((double)left / rate))) : null;
        job.Progress.UpdatedAt = Timestamp.FromDateTimeOffset(now);
    }

    private CopyRequest CopyRequestOf(TransferJob job)
    {
        var (source, sourceKey) = stores.Resolve(job.Spec.SourceUri);
        var (destination, destinationKey) = stores.Resolve(job.Spec.DestinationUri);
        return new CopyRequest(job.TransferId, source, sourceKey, destination, destinationKey);
    }

    private PendingEvent Progressed(TransferJob job) =>
        outbox.Prepare(Topics.Transfer, "transfer.progress", new TransferProgressed
        {
            TransferId = job.TransferId, TenantId = job.TenantId, Progress = job.Progress.Clone(), Time = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        }, job.TransferId);

    private async Task CommitAsync(TransferJob job, IReadOnlyList<PendingEvent> events, CancellationToken ct)
    {
        var entries = await store.PutAsync(job, events, ct);
        if (events.Count > 0) await outbox.DeliverAsync(events, 0, entries);
    }

    /// <summary>
    /// What the finished transfer used, priced at the directory's prices now: the bytes copied split over the plan's
    /// routes as planned, summed per region pair (a pair the egress grid has no price for, such as a local folder, is
    /// not billed), and the plan's gateway VMs for the copy's wall time, each naming its line of the transfer's quote.
    /// Null when nothing was used.
    /// </summary>
    private async Task<TransferUsage?> UsageAsync(TransferJob job)
    {
        if (job.Plan is null || (job.Progress.BytesDone == 0 && job.Plan.Gateways.Count == 0)) return null;
        var quote = job.QuoteId.Length > 0 ? await store.GetQuoteAsync(job.QuoteId, CancellationToken.None) : null;
        var usage = TransferUsageBuilder.Build(job, await catalog.CurrentAsync(CancellationToken.None), job.Progress.BytesDone, quote);
        if (usage.Egress.Count == 0 && usage.Gateways.Count == 0) return null;
        usage.Time = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        return usage;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_live.Values.Select(l => l.Done.ContinueWith(_ => { }, TaskScheduler.Default)));
        _stopping.Dispose();
    }

    /// <summary>A transfer running here: its latest state (under a lock), its cancellation, and a signal per change for watchers.</summary>
    private sealed class LiveTransfer(TransferJob job, CancellationTokenSource cancel)
    {
        private readonly Lock _gate = new();
        private readonly TransferJob _job = job.Clone();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id { get; } = job.TransferId;
        public CancellationTokenSource Cancel { get; } = cancel;
        public volatile bool CancelRequested;
        public Task Done { get; set; } = Task.CompletedTask;
        public Queue<(DateTimeOffset At, long Bytes)> Samples { get; } = new();

        public Task Changed { get { lock (_gate) return _changed.Task; } }

        public TransferJob Snapshot()
        {
            lock (_gate) return _job.Clone();
        }

        public void Update(Action<TransferJob> change)
        {
            TaskCompletionSource fired;
            lock (_gate)
            {
                change(_job);
                fired = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            fired.TrySetResult();
        }

        public void Finish() => Update(_ => { });
    }
}
