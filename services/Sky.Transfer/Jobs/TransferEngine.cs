using System.Runtime.CompilerServices;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Hosting.Errors;
using Sky.Hosting.Events;
using Sky.Hosting.Identity;
using Sky.Hosting.Peering;
using Sky.Hosting.Store;
using Sky.Pricing;
using Sky.Transfer.Planning;
using Sky.Transfer.Storage;
using Sky.Transfer.V1;

namespace Sky.Transfer.Jobs;

/// <summary>
/// The transfer service's behaviour, independent of gRPC: plans copies on the directory's grids (with the peering
/// agreements in force), stores plans with their quotes (issued as <c>transfer.quote.issued</c> in the same commit),
/// validates stores before any byte moves, starts transfers on the <see cref="TransferRunner"/>, and answers for them (a
/// tenant sees only its own; anyone else's is NOT_FOUND).
/// </summary>
public sealed class TransferEngine(
    TransferCatalog catalog, PeeringFeed peering, TransferPlanner planner, ITransferStore store, TransferRunner runner, ObjectStores stores,
    UsageRater rater, [FromKeyedServices("transfer")] EventOutbox outbox, TimeProvider time, TransferOptions options)
{
    public async Task<PlanTransferResponse> PlanAsync(TransferSpec? spec, Principal caller, CancellationToken ct) =>
        (await PlanStoredAsync(spec, caller, ct)).Response;

    private async Task<StoredTransferPlan> PlanStoredAsync(TransferSpec? spec, Principal caller, CancellationToken ct)
    {
        if (spec is null) throw RpcErrors.InvalidArgument("spec", "required");
        var tenant = TenantScope.ActingFor(caller, spec.TenantId, "spec.tenant_id", "transfer");
        var (source, sourceKey) = Open(spec.SourceUri, "spec.source_uri");
        var (destination, _) = Open(spec.DestinationUri, "spec.destination_uri");
        var from = LocationOf(spec.SourceLocation, source, "spec.source_location");
        var to = LocationOf(spec.DestinationLocation, destination, "spec.destination_location");
        var bytes = spec.Bytes > 0 ? spec.Bytes : spec.Bytes == 0 ? await ListedBytesAsync(source, sourceKey, ct)
            : throw RpcErrors.InvalidArgument("spec.bytes", $"must be >= 0, found {spec.Bytes}");
        var snapshot = await catalog.CurrentAsync(ct);
        var request = Request(spec, from, to, bytes);
        var currency = snapshot.Network.Egress.Currency;
        var adjuster = peering.InForce();
        RoutePlan chosen, direct;
        TimeSpan planTime;
        if (snapshot.Network.Find(from) is null || snapshot.Network.Find(to) is null
            || (!from.Equals(to) && snapshot.Network.Throughput.BitsPerSecond(from.Provider, from.Region, to.Provider, to.Region) is null))
        {
            // Places the grids do not connect (a local folder, an unmeasured region): a plain direct copy.
            chosen = direct = TransferPlanProto.Unrouted(from, to, bytes, snapshot.Network.Egress, adjuster);
            planTime = TimeSpan.Zero;
        }
        else
        {
            try
            {
                var result = planner.Plan(request, snapshot.Network, snapshot.GatewayIn, adjuster, ct);
                (chosen, direct, planTime) = (result.Plan, result.Direct ?? result.Plan, result.PlanTime);
            }
            catch (ArgumentException e)
            {
                throw RpcErrors.InvalidArgument("spec", e.Message);
            }
            catch (NoTransferPlanException e)
            {
                throw RpcErrors.FailedPrecondition("NO_TRANSFER_PLAN", $"{from} -> {to}", e.Message);
            }
            catch (TimeoutException e)
            {
                throw RpcErrors.Unavailable($"transfer planning timed out: {e.Message}");
            }
        }
        var planId = "tplan-" + Guid.NewGuid().ToString("N")[..20];
        var now = time.GetUtcNow();
        var expires = now + options.PlanLifetime;
        var response = new PlanTransferResponse
        {
            PlanId = planId, PriceBookRevision = snapshot.Revision, Goal = spec.Goal == TransferGoal.Unspecified ? TransferGoal.Cheapest : spec.Goal,
            Plan = TransferPlanProto.Plan(chosen, currency), Direct = TransferPlanProto.Plan(direct, currency), Bytes = bytes,
            PlanTime = Duration.FromTimeSpan(planTime), ExpiresAt = Timestamp.FromDateTimeOffset(expires),
        };
        // Priced with the agreements the planner used, so the quote and the plan see the same peering book.
        var quote = TransferQuoteBuilder.Build(planId, tenant, response.Plan, snapshot, adjuster, rater, now);
        response.QuoteId = quote.QuoteId;
        var stored = new StoredTransferPlan(planId, tenant, spec.Clone(), response, expires, quote);
        stored.Spec.TenantId = tenant;
        stored.Spec.SourceLocation = TransferPlanProto.Location(from);
        stored.Spec.DestinationLocation = TransferPlanProto.Location(to);
        PendingEvent[] events = [TransferRunner.QuoteIssued(outbox, quote, now)];
        var entries = await store.PutPlanAsync(stored, events, ct);
        await outbox.DeliverAsync(events, 0, entries);
        return stored;
    }

    public async Task<StartTransferResponse> StartAsync(StartTransferRequest request, Principal caller, CancellationToken ct)
    {
        if (request.RequestId.Length > 128) throw RpcErrors.InvalidArgument("request_id", "at most 128 characters");
        StoredTransferPlan plan;
        switch (request.SourceCase)
        {
            case StartTransferRequest.SourceOneofCase.Spec:
                plan = await PlanStoredAsync(request.Spec, caller, ct);
                break;
            case StartTransferRequest.SourceOneofCase.PlanId:
                plan = await store.GetPlanAsync(request.PlanId, ct) is { } found && TenantScope.Sees(caller, found.TenantId)
                    ? found : throw RpcErrors.NotFound("transfer plan", request.PlanId);
                if (plan.ExpiresAt < time.GetUtcNow())
                    throw RpcErrors.FailedPrecondition("PLAN_EXPIRED", request.PlanId, $"transfer plan {request.PlanId} expired at {plan.ExpiresAt:O}: plan again");
                break;
            default:
                throw RpcErrors.InvalidArgument("source", "give spec or plan_id");
        }
        var transferId = "xfer-" + Guid.NewGuid().ToString("N")[..20];
        if (request.RequestId.Length > 0)
        {
            var holder = await store.ClaimRequestAsync(plan.TenantId, request.RequestId, transferId, ct);
            if (holder != transferId && await store.GetAsync(holder, ct) is { } existing)
                return new StartTransferResponse { TransferId = existing.TransferId, PlanId = existing.PlanId, QuoteId = existing.QuoteId };
        }
        await VerifyAsync(plan.Spec, ct);
        var job = new TransferJob
        {
            TransferId = transferId, TenantId = plan.TenantId, Spec = plan.Spec.Clone(), PlanId = plan.PlanId, Plan = plan.Response.Plan.Clone(),
            QuoteId = plan.Response.QuoteId, CreatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            Progress = new TransferProgress { BytesTotal = plan.Response.Bytes },
        };
        await runner.StartAsync(job, plan.Quote, ct);
        return new StartTransferResponse { TransferId = transferId, PlanId = plan.PlanId, QuoteId = plan.Response.QuoteId };
    }

    /// <summary>A transfer the caller may see: its own (a tenant), any (the operator); others are NOT_FOUND so ids do not leak.</summary>
    public async Task<TransferJob> GetAsync(string transferId, Principal caller, CancellationToken ct)
    {
        if (transferId.Length == 0) throw RpcErrors.InvalidArgument("transfer_id", "required");
        var job = runner.Current(transferId) ?? await store.GetAsync(transferId, ct);
        return job is null || !TenantScope.Sees(caller, job.TenantId) ? throw RpcErrors.NotFound("transfer", transferId) : job;
    }

    public async Task<ListTransfersResponse> ListAsync(ListTransfersRequest request, Principal caller, CancellationToken ct)
    {
        var tenant = TenantScope.Listing(caller, request.TenantId, "transfers");
        var all = (await store.ListAsync(tenant, ct)).Select(j => runner.Current(j.TransferId) ?? j)
            .Where(j => request.States.Count == 0 || request.States.Contains(j.Progress.State)).ToList();
        var (page, next) = Paging.Slice(all, request.Page);
        var response = new ListTransfersResponse { Page = next };
        response.Transfers.AddRange(page);
        return response;
    }

    /// <summary>
    /// Stops the transfer: at once when it runs here; otherwise the cancellation is recorded in the store and its owner
    /// stops at its next progress tick (the answer then waits for that, up to a few seconds, and says the state it saw).
    /// </summary>
    public async Task<CancelTransferResponse> CancelAsync(string transferId, Principal caller, CancellationToken ct)
    {
        var job = await GetAsync(transferId, caller, ct);
        if (TransferStates.IsFinal(job.Progress.State)) return new CancelTransferResponse { State = job.Progress.State };
        await store.RequestCancelAsync(transferId, ct);
        if (await runner.CancelAsync(transferId) is { } state) return new CancelTransferResponse { State = state };
        var until = time.GetUtcNow() + options.ProgressInterval * 5;
        while (time.GetUtcNow() < until)
        {
            await Task.Delay(options.StorePollInterval, time, ct);
            job = await store.GetAsync(transferId, ct) ?? job;
            if (TransferStates.IsFinal(job.Progress.State)) break;
        }
        return new CancelTransferResponse { State = job.Progress.State };
    }

    /// <summary>Progress now and after each change until final: live from the runner, or by polling the store for a transfer run elsewhere.</summary>
    public async IAsyncEnumerable<TransferJob> WatchAsync(string transferId, Principal caller, [EnumeratorCancellation] CancellationToken ct)
    {
        var last = await GetAsync(transferId, caller, ct);
        if (runner.IsLive(transferId))
        {
            var sent = false;
            await foreach (var job in runner.WatchAsync(transferId, ct))
            {
                (last, sent) = (job, true);
                yield return job;
            }
            // It ended between the read above and the runner's watch: the read is still the caller's first answer.
            if (!sent) yield return last;
            if (TransferStates.IsFinal(last.Progress.State)) yield break;
            // Not final, yet no longer live here (this host is stopping, or another process adopted it): follow the store.
        }
        else yield return last;
        while (!TransferStates.IsFinal(last.Progress.State))
        {
            await Task.Delay(options.StorePollInterval, time, ct);
            if ((runner.Current(transferId) ?? await store.GetAsync(transferId, ct)) is not { } now) yield break;
            if (now.Progress.Equals(last.Progress) && now.Error == last.Error) continue;
            last = now;
            yield return now;
        }
    }

    private (IObjectStore Store, string Key) Open(string uri, string field)
    {
        if (string.IsNullOrWhiteSpace(uri)) throw RpcErrors.InvalidArgument(field, "required");
        try
        {
            return stores.Resolve(uri);
        }
        catch (InvalidObjectUriException e)
        {
            throw RpcErrors.InvalidArgument(field, e.Message);
        }
    }

    /// <summary>
    /// Where a store is: as given, else a local folder is "local/local" and an S3 bucket is in the configured S3
    /// region (us-east-1 by default, as the SDK signs); Azure and GCS need it given (their account or bucket does not say).
    /// </summary>
    private CloudRegion LocationOf(Location? given, IObjectStore store, string field)
    {
        if (given is { Provider.Length: > 0, Region.Length: > 0 }) return TransferPlanProto.Region(given);
        if (given is { Provider.Length: > 0 } || given is { Region.Length: > 0 }) throw RpcErrors.InvalidArgument(field, "give both provider and region, or neither");
        return store.Root.Kind switch
        {
            StoreKind.Local => new CloudRegion("local", "local"),
            StoreKind.S3 => new CloudRegion("aws", stores.Options.S3Region ?? "us-east-1"),
            _ => throw RpcErrors.InvalidArgument(field, $"required for {store.Root}: its provider and region cannot be looked up"),
        };
    }

    private static TransferPlanRequest Request(TransferSpec spec, CloudRegion from, CloudRegion to, long bytes)
    {
        var goal = spec.Goal switch
        {
            TransferGoal.Unspecified or TransferGoal.Cheapest => PlanGoal.Cheapest,
            TransferGoal.Fastest => PlanGoal.Fastest,
            TransferGoal.CheapestByDeadline => PlanGoal.CheapestByDeadline,
            TransferGoal.FastestUnderBudget => PlanGoal.FastestUnderBudget,
            _ => throw RpcErrors.InvalidArgument("spec.goal", $"unknown goal {(int)spec.Goal}"),
        };
        if (goal == PlanGoal.CheapestByDeadline && (spec.Deadline is null || spec.Deadline.ToTimeSpan() <= TimeSpan.Zero))
            throw RpcErrors.InvalidArgument("spec.deadline", "required and > 0 for TRANSFER_GOAL_CHEAPEST_BY_DEADLINE");
        if (goal == PlanGoal.FastestUnderBudget && (spec.Budget is null || spec.Budget.ToDecimal() <= 0))
            throw RpcErrors.InvalidArgument("spec.budget", "required and > 0 for TRANSFER_GOAL_FASTEST_UNDER_BUDGET");
        if (spec.MaxVmsPerRegion < 0) throw RpcErrors.InvalidArgument("spec.max_vms_per_region", $"must be >= 0, found {spec.MaxVmsPerRegion}");
        return new TransferPlanRequest
        {
            Source = from, Destination = to, Bytes = bytes, Goal = goal,
            Deadline = goal == PlanGoal.CheapestByDeadline ? spec.Deadline.ToTimeSpan() : null,
            Budget = goal == PlanGoal.FastestUnderBudget ? spec.Budget.ToDecimal() : null,
            MaxVmsPerRegion = spec.MaxVmsPerRegion == 0 ? TransferPlanRequest.DefaultMaxVmsPerRegion : spec.MaxVmsPerRegion,
            DirectOnly = spec.DirectOnly,
        };
    }

    /// <summary>The bytes under the source key (one object, or every object under the prefix), for planning.</summary>
    private static async Task<long> ListedBytesAsync(IObjectStore source, string key, CancellationToken ct)
    {
        long total = 0, count = 0;
        try
        {
            await foreach (var obj in source.ListAllAsync(key, ct: ct))
            {
                total += obj.Size;
                count++;
            }
        }
        catch (ObjectStoreException e)
        {
            throw StoreError(e, "spec.source_uri");
        }
        if (count == 0) throw RpcErrors.FailedPrecondition("SOURCE_EMPTY", source.UriOf(key).ToString(), $"nothing to copy: no object under {source.UriOf(key)}");
        return Math.Max(total, 1);
    }

    /// <summary>Checks, before any byte moves, that the source can be read and the destination written.</summary>
    private async Task VerifyAsync(TransferSpec spec, CancellationToken ct)
    {
        var (source, sourceKey) = Open(spec.SourceUri, "spec.source_uri");
        var (destination, _) = Open(spec.DestinationUri, "spec.destination_uri");
        try
        {
            await source.VerifyAccessAsync(StoreAccess.Read, ct);
            if ((await source.ListAsync(sourceKey, pageSize: 1, ct: ct)).Objects.Count == 0)
                throw RpcErrors.FailedPrecondition("SOURCE_EMPTY", spec.SourceUri, $"nothing to copy: no object under {source.UriOf(sourceKey)}");
        }
        catch (ObjectStoreException e)
        {
            throw StoreError(e, "spec.source_uri");
        }
        try
        {
            await destination.VerifyAccessAsync(StoreAccess.Write, ct);
        }
        catch (ObjectStoreException e)
        {
            throw StoreError(e, "spec.destination_uri");
        }
    }

    /// <summary>A store's refusal as the API says it: FAILED_PRECONDITION naming the store and why.</summary>
    private static Grpc.Core.RpcException StoreError(ObjectStoreException e, string field) => e switch
    {
        BucketNotFoundException b => RpcErrors.FailedPrecondition("BUCKET_NOT_FOUND", b.Bucket.ToString(), $"{field}: {e.Message}"),
        PermissionDeniedException => RpcErrors.FailedPrecondition("STORE_PERMISSION_DENIED", field, $"{field}: {e.Message}"),
        { IsTransient: true } => RpcErrors.Unavailable($"{field}: {e.Message}"),
        _ => RpcErrors.FailedPrecondition("STORE_ERROR", field, $"{field}: {e.Message}"),
    };
}
