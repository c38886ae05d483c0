using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Events.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using Sky.Placement.Catalog;
using Sky.Placement.Optimizer;
using Sky.Placement.V1;

namespace Sky.Placement.Engine;

/// <summary>Settings of the placement service.</summary>
public sealed record PlacementOptions
{
    /// <summary>How long a plan may be launched after it was made (its prices may be stale after).</summary>
    public TimeSpan PlanLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long Plan waits for the first read of the directory before answering UNAVAILABLE.</summary>
    public TimeSpan CatalogWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Provisioning attempts per task (failovers and recoveries included) before the task fails.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>Back-off before the second attempt; it doubles per attempt up to <see cref="RetryBackoffCap"/>, with jitter.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryBackoffCap { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>About how many lines a job's stored log keeps (the oldest go first).</summary>
    public int LogMaxLines { get; init; } = MemoryJobLogStore.DefaultMaxLines;

    /// <summary>How long a finished job's log is kept.</summary>
    public TimeSpan FinishedLogLifetime { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How often a follower of a job run by another process (logs, watch) reads the store again.</summary>
    public TimeSpan StorePollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long this process's heartbeat lasts unrefreshed; a job whose process's heartbeat lapsed is failed when read.</summary>
    public TimeSpan HeartbeatTtl { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the heartbeat is refreshed; well under <see cref="HeartbeatTtl"/>, so one slow refresh does not orphan every job.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The broker's behaviour, independent of gRPC: plans task graphs on the directory's offers (through
/// <see cref="DirectoryFeed"/>), stores plans for Launch, and runs jobs.
/// </summary>
public sealed partial class PlacementEngine(
    DirectoryFeed feed, JobPlanner planner, IPlanStore plans, IJobStore jobs, IJobLogStore logs, OrphanedJobs orphans, JobRunner runner,
    PlanQuotes quotes, [FromKeyedServices("placement")] EventOutbox outbox, TimeProvider time, PlacementOptions options)
{
    public async Task<LaunchResponse> LaunchAsync(LaunchRequest request, Principal caller, CancellationToken ct)
    {
        if (request.RequestId.Length > 128) throw RpcErrors.InvalidArgument("request_id", "at most 128 characters");
        StoredPlan stored;
        switch (request.SourceCase)
        {
            case LaunchRequest.SourceOneofCase.Spec:
                var planned = await PlanAsync(request.Spec, caller, ct);
                stored = (await plans.GetAsync(planned.PlanId, ct))!;
                break;
            case LaunchRequest.SourceOneofCase.PlanId:
                stored = await plans.GetAsync(request.PlanId, ct) is { } found && TenantScope.Sees(caller, found.TenantId)
                    ? found : throw RpcErrors.NotFound("plan", request.PlanId);
                if (stored.ExpiresAt < time.GetUtcNow())
                    throw RpcErrors.FailedPrecondition("PLAN_EXPIRED", request.PlanId, $"plan {request.PlanId} expired at {stored.ExpiresAt:O}: plan again");
                break;
            default:
                throw RpcErrors.InvalidArgument("source", "give spec or plan_id");
        }
        var jobId = "job-" + Guid.NewGuid().ToString("N")[..20];
        if (request.RequestId.Length > 0)
        {
            var holder = await jobs.ClaimRequestAsync(stored.TenantId, request.RequestId, jobId, ct);
            if (holder != jobId && await jobs.GetAsync(holder, ct) is { } existing)
                return new LaunchResponse { JobId = existing.JobId, PlanId = existing.PlanId, QuoteId = existing.QuoteId };
        }
        // The stored plan is run as planned: every task fixed where the plan put it.
        var graph = SpecReader.Graph(stored.Spec);
        var policy = SpecReader.Policy(stored.Spec, graph);
        var catalog = await CatalogAsync(ct);
        var chosen = stored.Response.Tasks.ToDictionary(t => t.Task, t => Candidate(t.Chosen), StringComparer.Ordinal);
        var job = planner.Plan(graph, catalog, policy with { Fixed = chosen }, ct);
        var name = request.Name.Length > 0 ? request.Name : graph.Name ?? graph.Tasks[0].Name;
        // The quote names its job before the job runs, so whoever keeps quotes has it before the job's first usage.
        var quote = stored.Quote?.Clone();
        if (quote is not null)
        {
            quote.SubjectId = jobId;
            await IssueAsync(quote);
        }
        await runner.StartAsync(jobId, stored.TenantId, name, stored.PlanId, quote, job, policy, stored.Response.PriceBookRevision, ct);
        return new LaunchResponse { JobId = jobId, PlanId = stored.PlanId, QuoteId = stored.Response.QuoteId };
    }

    private static Candidate Candidate(Sky.Placement.V1.TaskPlacement p) => new()
    {
        OfferId = p.OfferId,
        Provider = p.Location.Provider,
        Region = p.Location.Region,
        Zone = p.Location.Zone.Length == 0 ? null : p.Location.Zone,
        InstanceType = p.InstanceType,
        Accelerators = p.Accelerators.Count == 0 ? null : $"{p.Accelerators[0].Name}:{p.Accelerators[0].Count}",
        UseSpot = p.UseSpot,
        NumNodes = p.NumNodes,
        HourlyCost = p.HourlyCost.ToDecimal(),
    };

    /// <summary>A job the caller may see: its own (a tenant), any (the operator); others are NOT_FOUND so ids do not leak.</summary>
    public async Task<Job> GetJobAsync(string jobId, Principal caller, CancellationToken ct)
    {
        if (jobId.Length == 0) throw RpcErrors.InvalidArgument("job_id", "required");
        if (runner.Current(jobId) is { } live) return Visible(live, jobId, caller);
        var job = Visible(await jobs.GetAsync(jobId, ct), jobId, caller);
        return (await orphans.SettleAsync([job], ct))[0];
    }

    private static Job Visible(Job? job, string jobId, Principal caller) =>
        job is null || !TenantScope.Sees(caller, job.TenantId) ? throw RpcErrors.NotFound("job", jobId) : job;

    public async Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, Principal caller, CancellationToken ct)
    {
        var tenant = TenantScope.Listing(caller, request.TenantId, "jobs");
        var stored = await jobs.ListAsync(tenant, ct);
        var settled = (await orphans.SettleAsync([.. stored.Where(j => !runner.IsLive(j.JobId))], ct)).ToDictionary(j => j.JobId, StringComparer.Ordinal);
        var all = stored.Select(j => runner.Current(j.JobId) ?? settled.GetValueOrDefault(j.JobId) ?? j)
            .Where(j => request.States.Count == 0 || request.States.Contains(j.State)).ToList();
        var (page, next) = Sky.Hosting.Store.Paging.Slice(all, request.Page);
        var response = new ListJobsResponse { Page = next };
        response.Jobs.AddRange(page);
        return response;
    }

    public async Task<CancelJobResponse> CancelJobAsync(string jobId, Principal caller, CancellationToken ct)
    {
        var job = await GetJobAsync(jobId, caller, ct);
        if (JobRunner.IsFinal(job.State)) return new CancelJobResponse { State = job.State };
        var state = await runner.CancelAsync(jobId);
        return new CancelJobResponse { State = state ?? job.State };
    }

    /// <summary>Lines read from the log store per round trip.</summary>
    private const int LogPage = 1000;

    /// <summary>
    /// A job's log: from the runner when the job runs in this process, else from the log store (after a restart, or a
    /// job run by another process sharing the store); following such a job polls the store until the job is final.
    /// </summary>
    public async IAsyncEnumerable<StreamJobLogsResponse> LogsAsync(StreamJobLogsRequest request, Principal caller,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var job = await GetJobAsync(request.JobId, caller, ct);
        if (runner.IsLive(job.JobId))
        {
            await foreach (var line in runner.LogsAsync(job.JobId, request.Task, request.Follow, ct)) yield return line;
            yield break;
        }
        // The runner stores a job's lines before its final state, so once the state read is final, reading to the end
        // of the log gets every line.
        var final = JobRunner.IsFinal(job.State);
        var after = "";
        while (true)
        {
            var page = await logs.ReadAsync(job.JobId, request.Task, after, LogPage, ct);
            foreach (var line in page.Lines) yield return line;
            after = page.Next;
            if (!page.End) continue;
            if (final || !request.Follow) yield break;
            await Task.Delay(options.StorePollInterval, time, ct);
            final = JobRunner.IsFinal((await StoredAsync(job.JobId, ct))?.State ?? JobState.Failed);
        }
    }

    /// <summary>The job now and after every change until it is final: from the runner, or by polling the store for a job run elsewhere.</summary>
    public async IAsyncEnumerable<Job> WatchAsync(string jobId, Principal caller, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var last = await GetJobAsync(jobId, caller, ct);
        if (runner.IsLive(jobId))
        {
            await foreach (var job in runner.WatchAsync(jobId, ct)) yield return job;
            yield break;
        }
        yield return last;
        while (!JobRunner.IsFinal(last.State))
        {
            await Task.Delay(options.StorePollInterval, time, ct);
            if (await StoredAsync(jobId, ct) is not { } now) yield break;
            if (now.Equals(last)) continue;
            last = now;
            yield return now;
        }
    }

    /// <summary>A job run by another process (or before a restart) as the store has it, failed if its process stopped.</summary>
    private async Task<Job?> StoredAsync(string jobId, CancellationToken ct) =>
        await jobs.GetAsync(jobId, ct) is { } job ? (await orphans.SettleAsync([job], ct))[0] : null;

    public async Task<PlanResponse> PlanAsync(JobSpec? spec, Principal caller, CancellationToken ct)
    {
        if (spec is null) throw RpcErrors.InvalidArgument("spec", "required");
        var tenant = SpecReader.TenantOf(spec, caller);
        var graph = SpecReader.Graph(spec);
        var policy = SpecReader.Policy(spec, graph);
        var catalog = await CatalogAsync(ct);
        JobPlan job;
        try
        {
            job = planner.Plan(graph, catalog, policy, ct);
        }
        catch (NoCandidatesException e)
        {
            throw RpcErrors.FailedPrecondition("NO_OFFER", e.Task, e.Message);
        }
        catch (NoFeasiblePlanException e)
        {
            throw RpcErrors.FailedPrecondition("NO_FEASIBLE_PLAN", graph.Name ?? graph.Tasks[0].Name, e.Message);
        }
        var planId = "plan-" + Guid.NewGuid().ToString("N")[..20];
        var expires = time.GetUtcNow() + options.PlanLifetime;
        var response = PlanProto.Response(job, planId, catalog.Revision, expires);
        var quote = quotes.Issue(response, tenant, policy.DurationOf, time.GetUtcNow(), job.Problem.Egress);
        // The plan and its quote's announcement commit together (the placement outbox), so a stored quote is never unannounced.
        PendingEvent[] issued = [QuoteIssued(quote)];
        var entries = await plans.PutAsync(new StoredPlan(planId, tenant, spec, response, expires, quote), issued, ct);
        await outbox.DeliverAsync(issued, 0, entries);
        return response;
    }

    private PendingEvent QuoteIssued(Quote quote) =>
        outbox.Prepare(Topics.Placement, "placement.quote.issued", new PlacementQuoteIssued { Quote = quote, Time = Now() }, quote.QuoteId);

    /// <summary>Announces a quote again (naming its job at launch), as the runner announces jobs: after the launch is accepted.</summary>
    private Task IssueAsync(Quote quote) => outbox.DeliverAsync([QuoteIssued(quote)], 0, []);

    private Google.Protobuf.WellKnownTypes.Timestamp Now() => Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private async Task<CatalogSnapshot> CatalogAsync(CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(options.CatalogWait);
        try
        {
            return await feed.CurrentAsync(options.CatalogWait, wait.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw RpcErrors.Unavailable("placement has not read the directory's offers yet; is the directory reachable?");
        }
    }
}
