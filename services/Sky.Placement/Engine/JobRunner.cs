using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Catalog;
using Sky.Placement.Optimizer;
using Sky.Placement.Providers;
using Sky.Placement.Tasks;
using Sky.Placement.V1;

namespace Sky.Placement.Engine;

/// <summary>
/// Runs launched jobs: each task once the tasks it depends on have succeeded, through the compute provider of its
/// placement. A capacity, quota or provider error blocks the zone, region or provider it names (as SkyPilot's blocked
/// resources), the task is planned again with every other task where it is, and tried again after a back-off with
/// jitter; a region known to have zero quota is blocked before trying. A spot preemption blocks the region and the
/// task recovers elsewhere. Every attempt is recorded; every state change and every span of use is published
/// (placement.job.&lt;state&gt;, placement.job.attempt, placement.job.usage with a stable idempotency key). Every log
/// line also goes to the <see cref="IJobLogStore"/> (batched; stored before the task's or job's end is recorded), so the
/// log outlives this process.
/// </summary>
public sealed class JobRunner(
    IJobStore store, IJobLogStore logs, ComputeProviders providers, JobPlanner planner, DirectoryFeed feed, TimeProvider time, PlacementOptions options,
    [FromKeyedServices("placement")] EventOutbox outbox, ILogger<JobRunner> log)
{
    private readonly ConcurrentDictionary<string, LiveJob> _live = new(StringComparer.Ordinal);

    /// <summary>A job in this process: its record, its log, who watches it, and how to stop it.</summary>
    private sealed class LiveJob(Job job, TaskGraph graph, PlanningPolicy policy, IReadOnlyDictionary<string, Candidate> placed, long priceBook, JobLogWriter stored,
        IReadOnlyDictionary<string, QuoteLine> quoted)
    {
        public readonly Lock Gate = new();
        public Job Job = job;
        public readonly TaskGraph Graph = graph;
        public PlanningPolicy Policy = policy;
        public readonly Dictionary<string, Candidate> Placed = new(placed, StringComparer.Ordinal);
        /// <summary>The directory revision each task's placement was priced at: the plan's, or the snapshot a failover was planned on.</summary>
        public readonly Dictionary<string, long> PricedAt = placed.Keys.ToDictionary(t => t, _ => priceBook, StringComparer.Ordinal);
        /// <summary>The quote's compute line of each task (none when the job has no quote).</summary>
        public readonly IReadOnlyDictionary<string, QuoteLine> Quoted = quoted;
        /// <summary>The quote's egress lines by line id (<see cref="PlanQuotes.EgressLineId"/>).</summary>
        public IReadOnlyDictionary<string, QuoteLine> QuotedEgress = new Dictionary<string, QuoteLine>();
        public readonly CancellationTokenSource Cancel = new();
        public readonly List<StreamJobLogsResponse> Lines = [];
        public readonly JobLogWriter Stored = stored;
        public readonly List<Channel<object>> Followers = [];
        public Task Run = Task.CompletedTask;
    }

    /// <summary>
    /// Creates the job (PENDING), stores it and starts running it in the background. Its usage names
    /// <paramref name="quote"/> (null: the plan had none) and, for an attempt on the offer a line priced, that line.
    /// </summary>
    public async Task<Job> StartAsync(string jobId, string tenant, string name, string planId, Quote? quote, JobPlan plan, PlanningPolicy policy,
        long priceBook, CancellationToken ct)
    {
        var now = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        var job = new Job { JobId = jobId, TenantId = tenant, Name = name, State = JobState.Pending, PlanId = planId, QuoteId = quote?.QuoteId ?? "", CreatedAt = now };
        var quoted = (quote?.Lines ?? []).Where(l => l.Service == PlanQuotes.Compute).ToDictionary(l => l.Task, StringComparer.Ordinal);
        var placed = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        foreach (var p in plan.TaskPlacements)
        {
            placed[p.Task.Name] = p.Chosen;
            var task = new JobTask { Task = p.Task.Name, State = JobState.Pending, Placement = PlanProto.Placement(p.Task.Name, p.Chosen, p.ComputeCost, p.Task.DurationHours) };
            task.DependsOn.AddRange(plan.Graph[p.Task.Name].DependsOn);
            job.Tasks.Add(task);
        }
        var live = new LiveJob(job, plan.Graph, policy, placed, priceBook, new JobLogWriter(logs, jobId, time, log), quoted)
        {
            QuotedEgress = (quote?.Lines ?? []).Where(l => l.Service == PlanQuotes.Egress).ToDictionary(l => l.LineId, StringComparer.Ordinal),
        };
        _live[jobId] = live;
        await store.PutAsync(job, ct);
        await PublishStateAsync(live, JobState.Unspecified);
        live.Run = Task.Run(() => RunAsync(live));
        return job.Clone();
    }

    /// <summary>True when the job was started by this process (its log and changes are served from memory).</summary>
    public bool IsLive(string jobId) => _live.ContainsKey(jobId);

    /// <summary>The job as this process knows it now (null when it does not run here).</summary>
    public Job? Current(string jobId) => _live.TryGetValue(jobId, out var live) ? Snapshot(live) : null;

    private static Job Snapshot(LiveJob live)
    {
        lock (live.Gate) return live.Job.Clone();
    }

    /// <summary>Stops provisioning and running; a finished job keeps its state.</summary>
    public async Task<JobState?> CancelAsync(string jobId)
    {
        if (!_live.TryGetValue(jobId, out var live)) return null;
        await live.Cancel.CancelAsync();
        try { await live.Run.WaitAsync(TimeSpan.FromSeconds(30)); } catch (TimeoutException) { }
        return Snapshot(live).State;
    }

    /// <summary>Waits for every job started here to end (tests, shutdown).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_live.Values.Select(l => l.Run));

    public async IAsyncEnumerable<StreamJobLogsResponse> LogsAsync(string jobId, string task, bool follow, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!_live.TryGetValue(jobId, out var live)) yield break;
        var channel = Channel.CreateUnbounded<object>();
        List<StreamJobLogsResponse> past;
        lock (live.Gate)
        {
            past = [.. live.Lines];
            if (follow && !IsFinal(live.Job.State)) live.Followers.Add(channel);
            else channel.Writer.TryComplete();
        }
        foreach (var line in past)
            if (task.Length == 0 || line.Task == task) yield return line;
        await foreach (var item in channel.Reader.ReadAllAsync(ct))
            if (item is StreamJobLogsResponse line && (task.Length == 0 || line.Task == task)) yield return line;
    }

    public async IAsyncEnumerable<Job> WatchAsync(string jobId, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!_live.TryGetValue(jobId, out var live)) yield break;
        var channel = Channel.CreateUnbounded<object>();
        Job first;
        lock (live.Gate)
        {
            first = live.Job.Clone();
            if (!IsFinal(first.State)) live.Followers.Add(channel);
            else channel.Writer.TryComplete();
        }
        yield return first;
        await foreach (var item in channel.Reader.ReadAllAsync(ct))
            if (item is Job job) yield return job;
    }

    public static bool IsFinal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    // ---- running ------------------------------------------------------------------------------

    private async Task RunAsync(LiveJob live)
    {
        var ct = live.Cancel.Token;
        var done = live.Graph.Tasks.ToDictionary(t => t.Name, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously), StringComparer.Ordinal);
        var runs = live.Graph.Tasks.Select(async spec =>
        {
            var ok = true;
            foreach (var parent in spec.DependsOn) ok &= await done[parent].Task;
            var succeeded = ok && !ct.IsCancellationRequested && await RunTaskAsync(live, spec, ct);
            if (!ok) await UpdateTaskAsync(live, spec.Name, t => { t.State = JobState.Cancelled; t.EndedAt = Now(); }, "not run: a task it depends on did not succeed");
            done[spec.Name].TrySetResult(succeeded);
            if (!succeeded && !ct.IsCancellationRequested) await live.Cancel.CancelAsync();   // one failed task fails the job
        }).ToList();
        try
        {
            await Task.WhenAll(runs);
        }
        catch (Exception e)
        {
            log.LogError(e, "job {Job} failed unexpectedly", live.Job.JobId);
        }
        await FinishAsync(live);
    }

    private async Task<bool> RunTaskAsync(LiveJob live, TaskSpec spec, CancellationToken ct)
    {
        Candidate candidate;
        lock (live.Gate) candidate = live.Placed[spec.Name];
        for (var attempt = 1; attempt <= options.MaxAttempts; attempt++)
        {
            var provider = providers.For(candidate.Provider);
            var location = new CloudLocation(candidate.Provider, candidate.Region, candidate.Zone);
            if (provider.KnownZeroQuota(location, candidate.Accelerators))
            {
                System(live, spec.Name, attempt, $"{location.RegionScope} has no quota for {candidate.InstanceType}; skipped without trying");
                if (await ReplanAsync(live, spec, location.RegionScope, ct) is not { } moved) return false;
                candidate = moved;
                attempt--;
                continue;
            }
            var record = new JobAttempt
            {
                Attempt = attempt, Task = spec.Name, Outcome = AttemptOutcome.InProgress, StartedAt = Now(),
                Placement = PlanProto.Placement(spec.Name, candidate, 0, 0),
            };
            await UpdateTaskAsync(live, spec.Name, t => { t.State = JobState.Provisioning; t.Placement = record.Placement; t.Attempts.Add(record); },
                $"attempt {attempt}: provisioning {candidate}");
            (AttemptOutcome Outcome, string Message, CloudLocation Blocked)? failure = null;
            ProvisionedNodes? nodes = null;
            try
            {
                nodes = await provider.ProvisionAsync(Request(live, spec, candidate), ct);
            }
            catch (ProvisionException e)
            {
                failure = (Outcome(e.Kind), e.Message, e.Blocked);
            }
            catch (OperationCanceledException)
            {
                return await CancelledAsync(live, spec.Name, attempt);
            }

            var exit = 0;
            var started = time.GetUtcNow();
            UsagePrice price = default;
            if (nodes is not null)
            {
                price = PriceInForce(live, spec.Name, candidate);   // the price of the whole attempt: as its nodes came up
                await EgressAsync(live, spec, attempt, candidate, started);
                await UpdateTaskAsync(live, spec.Name, t => { t.State = JobState.Running; t.StartedAt ??= Timestamp.FromDateTimeOffset(started); },
                    $"attempt {attempt}: {nodes.Request.NumNodes} node(s) up on {nodes.Location}; running");
                try
                {
                    exit = await provider.RunAsync(nodes, Commands(live, spec), new Sink(live, spec.Name, attempt), ct);
                }
                catch (PreemptedException e)
                {
                    await UsageAsync(live, spec.Name, attempt, candidate, price, started, e.At);
                    await TerminateAsync(provider, nodes);
                    failure = (AttemptOutcome.Preempted, $"spot nodes preempted at {e.At:O}", e.Blocked);
                }
                catch (OperationCanceledException)
                {
                    await UsageAsync(live, spec.Name, attempt, candidate, price, started, time.GetUtcNow());
                    await TerminateAsync(provider, nodes);
                    return await CancelledAsync(live, spec.Name, attempt);
                }
            }
            if (failure is { } failed)
            {
                // Fail over: block what failed, plan the task again, wait the back-off, try there.
                var backoff = Backoff(attempt);
                await EndAttemptAsync(live, spec.Name, attempt, failed.Outcome, failed.Message, failed.Blocked, backoff);
                if (attempt == options.MaxAttempts) break;
                if (await ReplanAsync(live, spec, failed.Blocked, ct) is not { } next) return false;
                candidate = next;
                try { await Task.Delay(backoff, time, ct); } catch (OperationCanceledException) { return await CancelledAsync(live, spec.Name, attempt); }
                continue;
            }
            var ended = time.GetUtcNow();
            await TerminateAsync(provider, nodes!);
            await UsageAsync(live, spec.Name, attempt, candidate, price, started, ended);
            await EndAttemptAsync(live, spec.Name, attempt, AttemptOutcome.Success, exit == 0 ? "" : $"exit code {exit}", null, null);
            await UpdateTaskAsync(live, spec.Name, t =>
            {
                t.ExitCode = exit;
                t.State = exit == 0 ? JobState.Succeeded : JobState.Failed;
                t.EndedAt = Timestamp.FromDateTimeOffset(ended);
            }, $"exited with code {exit}");
            return exit == 0;
        }
        await UpdateTaskAsync(live, spec.Name, t => { t.State = JobState.Failed; t.EndedAt = Now(); },
            $"gave up after {options.MaxAttempts} attempts");
        return false;
    }

    /// <summary>Plans the task again with <paramref name="blocked"/> ruled out and every other task where it is; null when nothing is left.</summary>
    private async Task<Candidate?> ReplanAsync(LiveJob live, TaskSpec spec, CloudLocation blocked, CancellationToken ct)
    {
        PlanningPolicy policy;
        lock (live.Gate)
        {
            var fixedAt = live.Placed.Where(p => p.Key != spec.Name).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            live.Policy = live.Policy with
            {
                Blocked = [.. live.Policy.Blocked, new BlockedLocation(blocked.Provider, blocked.Region, blocked.Zone)],
                Fixed = fixedAt,
            };
            policy = live.Policy;
        }
        try
        {
            var catalog = await feed.ReadyAsync(ct);
            var plan = planner.Plan(live.Graph, catalog, policy, ct);
            var next = plan.Plan.Tasks.First(t => t.Task.Name == spec.Name).Chosen;
            lock (live.Gate)
            {
                live.Placed[spec.Name] = next;
                live.PricedAt[spec.Name] = catalog.Revision;
            }
            System(live, spec.Name, 0, $"blocked {blocked}; planned again: {next}");
            return next;
        }
        catch (Exception e) when (e is NoCandidatesException or NoFeasiblePlanException)
        {
            await UpdateTaskAsync(live, spec.Name, t => { t.State = JobState.Failed; t.EndedAt = Now(); },
                $"no placement left after blocking {string.Join(", ", policy.Blocked)}: {e.Message}");
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<bool> CancelledAsync(LiveJob live, string task, int attempt)
    {
        await EndAttemptAsync(live, task, attempt, AttemptOutcome.Cancelled, "cancelled", null, null);
        await UpdateTaskAsync(live, task, t => { if (!IsFinal(t.State)) { t.State = JobState.Cancelled; t.EndedAt = Now(); } }, "cancelled");
        return false;
    }

    private async Task TerminateAsync(IComputeProvider provider, ProvisionedNodes nodes)
    {
        try { await provider.TerminateAsync(nodes, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "terminating {Cluster} failed", nodes.ClusterId); }
    }

    private TimeSpan Backoff(int attempt)
    {
        // Exponential from the base, capped, with up to 50 % jitter so retries of many jobs do not line up.
        var ms = Math.Min(options.RetryBackoffCap.TotalMilliseconds, options.RetryBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Round(ms * (0.5 + Random.Shared.NextDouble() * 0.5)));
    }

    private static AttemptOutcome Outcome(ProvisionFailure kind) => kind switch
    {
        ProvisionFailure.Capacity => AttemptOutcome.CapacityError,
        ProvisionFailure.Quota => AttemptOutcome.QuotaError,
        _ => AttemptOutcome.ProviderError,
    };

    private static NodeRequest Request(LiveJob live, TaskSpec spec, Candidate c) => new()
    {
        TaskName = spec.Name,
        JobId = live.Job.JobId,
        Location = new CloudLocation(c.Provider, c.Region, c.Zone),
        InstanceType = c.InstanceType,
        Accelerators = c.Accelerators,
        UseSpot = c.UseSpot,
        NumNodes = c.NumNodes,
        OfferId = c.OfferId,
        HourlyPrice = c.HourlyCost / c.NumNodes,
    };

    private static TaskCommands Commands(LiveJob live, TaskSpec spec) =>
        new(spec.Setup ?? "", spec.Run ?? "", [.. spec.Envs.Where(e => e.Value is not null).Select(e => new KeyValuePair<string, string>(e.Key, e.Value!))]);

    // ---- records and events ------------------------------------------------------------------

    private Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private async Task EndAttemptAsync(LiveJob live, string task, int attempt, AttemptOutcome outcome, string message, CloudLocation? blocked, TimeSpan? backoff)
    {
        JobAttempt? ended = null;
        await UpdateTaskAsync(live, task, t =>
        {
            ended = t.Attempts.LastOrDefault(a => a.Attempt == attempt);
            if (ended is null || ended.Outcome != AttemptOutcome.InProgress) { ended = null; return; }
            ended.Outcome = outcome;
            ended.Message = message;
            ended.EndedAt = Now();
            if (blocked is not null) ended.Blocked = new Sky.Common.V1.Location { Provider = blocked.Provider, Region = blocked.Region ?? "", Zone = blocked.Zone ?? "" };
            if (backoff is { } b) ended.Backoff = Duration.FromTimeSpan(b);
        }, outcome == AttemptOutcome.Success ? null : $"attempt {attempt}: {outcome}: {message}{(blocked is null ? "" : $"; blocked {blocked}")}");
        if (ended is not null)
            await PublishAsync("placement.job.attempt", new PlacementJobAttempted { JobId = live.Job.JobId, TenantId = live.Job.TenantId, Attempt = ended.Clone(), Time = Now() }, live.Job.JobId);
    }

    /// <summary>Changes a task under the job's lock, derives the job's state, stores and announces the change.</summary>
    private async Task UpdateTaskAsync(LiveJob live, string task, Action<JobTask> change, string? systemLine)
    {
        Job snapshot;
        JobState before, after;
        bool ended;
        lock (live.Gate)
        {
            before = live.Job.State;
            var changed = live.Job.Tasks.First(t => t.Task == task);
            var wasFinal = IsFinal(changed.State);
            change(changed);
            ended = !wasFinal && IsFinal(changed.State);
            after = live.Job.State = Derive(live.Job, before);
            if (after == JobState.Running && live.Job.StartedAt is null) live.Job.StartedAt = Now();
            snapshot = live.Job.Clone();
        }
        if (systemLine is not null) System(live, task, 0, systemLine);
        // A task's lines are stored before its end is, so whoever reads the end from the store can read all of them.
        if (ended) await live.Stored.FlushAsync();
        await store.PutAsync(snapshot, CancellationToken.None);
        Notify(live, snapshot);
        if (after != before) await PublishStateAsync(live, before);
    }

    private static JobState Derive(Job job, JobState current)
    {
        if (IsFinal(current)) return current;
        var states = job.Tasks.Select(t => t.State).ToList();
        if (states.Any(s => s == JobState.Running)) return JobState.Running;
        if (states.Any(s => s == JobState.Provisioning)) return JobState.Provisioning;
        return current;
    }

    private async Task FinishAsync(LiveJob live)
    {
        Job snapshot;
        JobState before;
        lock (live.Gate)
        {
            before = live.Job.State;
            var states = live.Job.Tasks.Select(t => t.State).ToList();
            live.Job.State = states.All(s => s == JobState.Succeeded) ? JobState.Succeeded
                : states.Any(s => s == JobState.Failed) ? JobState.Failed
                : JobState.Cancelled;
            live.Job.EndedAt = Now();
            live.Job.Message = live.Job.State switch
            {
                JobState.Succeeded => "every task succeeded",
                JobState.Failed => "task " + live.Job.Tasks.First(t => t.State == JobState.Failed).Task + " failed",
                _ => "cancelled",
            };
            snapshot = live.Job.Clone();
        }
        System(live, "", 0, $"job {snapshot.State.ToString().ToLowerInvariant()}: {snapshot.Message}");
        await live.Stored.CompleteAsync();   // every line stored before the final state is
        await store.PutAsync(snapshot, CancellationToken.None);
        try
        {
            await logs.ExpireAsync(snapshot.JobId, options.FinishedLogLifetime, CancellationToken.None);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            log.LogWarning(e, "job {Job}: setting its log's expiry failed; the log is kept (trimmed) until removed", snapshot.JobId);
        }
        Notify(live, snapshot);
        await PublishStateAsync(live, before);
        lock (live.Gate)
        {
            foreach (var follower in live.Followers) follower.Writer.TryComplete();
            live.Followers.Clear();
        }
    }

    private static void Notify(LiveJob live, Job snapshot)
    {
        lock (live.Gate)
            foreach (var follower in live.Followers) follower.Writer.TryWrite(snapshot);
    }

    private void System(LiveJob live, string task, int attempt, string text) =>
        Append(live, new StreamJobLogsResponse { Task = task, Attempt = attempt, Stream = LogStream.System, Text = text, Time = Now() });

    private static void Append(LiveJob live, StreamJobLogsResponse line)
    {
        lock (live.Gate)
        {
            if (live.Lines.Count < MaxLines) live.Lines.Add(line);
            live.Stored.Add(line);
            foreach (var follower in live.Followers) follower.Writer.TryWrite(line);
        }
    }

    private const int MaxLines = 100_000;

    private sealed class Sink(LiveJob live, string task, int attempt) : ILogSink
    {
        public void Write(LogLine line) => Append(live, new StreamJobLogsResponse
        {
            Task = task, Attempt = attempt, NodeRank = line.NodeRank, Stream = line.Stream, Text = line.Text, Time = Timestamp.FromDateTimeOffset(line.Time),
        });
    }

    private Task PublishStateAsync(LiveJob live, JobState previous)
    {
        var job = Snapshot(live);
        return PublishAsync(EventTypes.JobStatePrefix + job.State.ToString().ToLowerInvariant(),
            new PlacementJobStateChanged { JobId = job.JobId, TenantId = job.TenantId, State = job.State, PreviousState = previous, Job = job, Time = Now() }, job.JobId);
    }

    /// <summary>
    /// The data a task's nodes receive when they come up, as <c>placement.job.usage</c> with service "egress": each parent's
    /// outputs (from where the parent last ran) and each located input bucket, when the move crosses regions, at the
    /// volume the task YAML declares (the simulated and local clouds move no bytes of their own, so the declared size is
    /// what is metered, as the plan and quote assume) and the pair's tiers in force now. One record per attempt that came
    /// up: a task that fails over after its nodes came up has its inputs moved again. It names the quote's egress line when
    /// the data took the quoted route; another route (the task failed over to another region) is on no line.
    /// </summary>
    private async Task EgressAsync(LiveJob live, TaskSpec spec, int attempt, Candidate at, DateTimeOffset when)
    {
        var to = new Location { Provider = at.Provider, Region = at.Region };
        var sources = new List<(string From, Location Src, decimal Gb)>();
        lock (live.Gate)
            foreach (var inflow in live.Graph.InflowsOf(spec))
            {
                if (inflow.Gb <= 0) continue;
                if (inflow.Bucket is { } bucket) sources.Add((inflow.From, new Location { Provider = bucket.Provider, Region = bucket.Region }, inflow.Gb));
                else if (live.Placed.TryGetValue(inflow.From, out var p)) sources.Add((inflow.From, new Location { Provider = p.Provider, Region = p.Region }, inflow.Gb));
            }
        sources.RemoveAll(s => !PlanQuotes.CrossesRegions(s.Src, to));
        if (sources.Count == 0) return;

        var snapshot = feed.Current;
        var pricer = planner.Egress(snapshot);
        foreach (var (from, src, gb) in sources)
        {
            if (pricer.Grid.Lookup(src.Provider, src.Region, to.Provider, to.Region).Tiers is not { } tiers)
            {
                System(live, spec.Name, attempt, $"no egress price from {src.Provider}/{src.Region} to {to.Provider}/{to.Region} in the directory; {from}'s data is not billed");
                continue;
            }
            var lineId = PlanQuotes.EgressLineId(from, spec.Name);
            var onLine = live.QuotedEgress.TryGetValue(lineId, out var quoted) && SameRegion(quoted.Location, src) && SameRegion(quoted.Destination, to);
            var usage = new PlacementJobUsage
            {
                IdempotencyKey = $"placement:{live.Job.JobId}:egress:{from}:{spec.Name}:{attempt}",
                TenantId = live.Job.TenantId, JobId = live.Job.JobId, Task = from, Attempt = attempt, Service = PlanQuotes.Egress,
                OfferId = PlanQuotes.EgressOfferId(src), Location = src, Destination = to, Sku = PlanQuotes.Egress,
                UnitPrice = PlanProto.Usd(tiers[0].PricePerGb), PriceUnit = "gb",
                Quantity = decimal.Round(gb * 1_000_000_000m).ToString(CultureInfo.InvariantCulture), Unit = "byte",
                UsageStart = Timestamp.FromDateTimeOffset(when), UsageEnd = Timestamp.FromDateTimeOffset(when),
                QuoteId = live.Job.QuoteId, QuoteLineId = onLine ? lineId : "", PriceBookRevision = snapshot.Revision, Time = Now(),
            };
            usage.Tiers.Add(tiers.ToProto());
            await PublishAsync("placement.job.usage", usage, live.Job.JobId);
            System(live, spec.Name, attempt, $"{from} sent {gb} GB from {src.Provider}/{src.Region} to {to.Provider}/{to.Region}");
        }
    }

    private static bool SameRegion(Location? a, Location b) => a is not null && !PlanQuotes.CrossesRegions(a, b);

    /// <summary>An attempt's per-node hourly price and the directory revision it was read at.</summary>
    private readonly record struct UsagePrice(decimal PerNodeHourly, long Revision);

    /// <summary>
    /// The price an attempt on <paramref name="c"/> is billed at: the offer's price (spot or on demand) in placement's
    /// directory snapshot when the nodes came up, with that snapshot's revision. Clouds bill compute at the price in force
    /// at the time of use, not at the one quoted; reconciliation then shows a spot change as spot_price_change and an
    /// on-demand change as price_book_revision. Rounded as the quote is (all nodes' hourly to the nano, then per node), so
    /// an unchanged price bills to the nano what was quoted. An offer gone from the directory (or no longer priced for
    /// this kind of capacity) keeps the price it was placed at, under the revision that price was read at.
    /// </summary>
    private UsagePrice PriceInForce(LiveJob live, string task, Candidate c)
    {
        var snapshot = feed.Current;
        if (snapshot.Get(c.OfferId)?.Hourly(c.UseSpot) is { } perNode)
            return new UsagePrice(PlanQuotes.PerNodeHourly(perNode * c.NumNodes, c.NumNodes), snapshot.Revision);
        long placedAt;
        lock (live.Gate) placedAt = live.PricedAt[task];
        return new UsagePrice(PlanQuotes.PerNodeHourly(c.HourlyCost, c.NumNodes), placedAt);
    }

    /// <summary>
    /// Compute usage of one attempt: node-seconds at the price in force when its nodes came up (<see cref="PriceInForce"/>),
    /// billed against the task's quote line when the attempt ran on the offer (and capacity kind) the line priced, and
    /// against no line otherwise (a failover), so reconciliation can tell the two apart.
    /// </summary>
    private Task UsageAsync(LiveJob live, string task, int attempt, Candidate c, UsagePrice price, DateTimeOffset start, DateTimeOffset end)
    {
        var line = live.Quoted.TryGetValue(task, out var quoted) && quoted.OfferId == c.OfferId && quoted.Spot == c.UseSpot ? quoted.LineId : "";
        var seconds = Math.Max(0, (decimal)(end - start).TotalMilliseconds / 1000m) * c.NumNodes;
        return PublishAsync("placement.job.usage", new PlacementJobUsage
        {
            IdempotencyKey = $"placement:{live.Job.JobId}:{task}:{attempt}:0",
            TenantId = live.Job.TenantId,
            JobId = live.Job.JobId,
            Task = task,
            Attempt = attempt,
            Service = "compute",
            OfferId = c.OfferId,
            Location = PlanProto.LocationOf(c),
            Sku = c.InstanceType,
            UseSpot = c.UseSpot,
            NumNodes = c.NumNodes,
            UnitPrice = PlanProto.Usd(price.PerNodeHourly),
            PriceUnit = "hour",
            Quantity = seconds.ToString(CultureInfo.InvariantCulture),
            Unit = "second",
            UsageStart = Timestamp.FromDateTimeOffset(start),
            UsageEnd = Timestamp.FromDateTimeOffset(end),
            QuoteId = live.Job.QuoteId,
            QuoteLineId = line,
            PriceBookRevision = price.Revision,
            Time = Now(),
        }, live.Job.JobId);
    }

    private async Task PublishAsync(string type, Google.Protobuf.IMessage data, string subject)
    {
        var announce = outbox.Prepare(Topics.Placement, type, data, subject);
        await outbox.DeliverAsync([announce], 0, []);
    }
}
