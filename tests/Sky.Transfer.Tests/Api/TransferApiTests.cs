using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using Sky.Transfer.Execution;
using Sky.Transfer.Jobs;
using Sky.Transfer.V1;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;
using DirectoryClient = Sky.Directory.V1.Directory.DirectoryClient;
using TransferClient = Sky.Transfer.V1.Transfer.TransferClient;

namespace Sky.Transfer.Tests.Api;

/// <summary>Every transfer RPC over a real host (TestServer): plan, start, watch, get, list, cancel, tenancy, bad input, usage billed once.</summary>
public sealed class TransferApiTests : IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("sky-transfer-api-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    private string Folder(string name) => System.IO.Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private static string Uri(string folder) => "file://" + folder + "/";

    /// <summary>A folder with one multi-chunk file and some small ones (deterministic bytes).</summary>
    private string Source(int bigBytes = 20 << 20, int small = 25)
    {
        var src = Folder("src");
        var random = new Random(7);
        var big = new byte[bigBytes];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(src, "big.bin"), big);
        System.IO.Directory.CreateDirectory(Path.Combine(src, "logs"));
        for (var i = 0; i < small; i++)
        {
            var bytes = new byte[100 + i * 37];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(src, "logs", $"part-{i:000}.log"), bytes);
        }
        return src;
    }

    private static void AssertSameTree(string expected, string actual)
    {
        var want = System.IO.Directory.EnumerateFiles(expected, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(expected, f)).Order().ToList();
        var got = System.IO.Directory.EnumerateFiles(actual, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(actual, f))
            .Where(f => !f.StartsWith(".sky", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(want, got);
        foreach (var file in want)
            Assert.Equal(SHA256.HashData(File.ReadAllBytes(Path.Combine(expected, file))), SHA256.HashData(File.ReadAllBytes(Path.Combine(actual, file))));
    }

    private static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        return e;
    }

    private static async Task<List<WatchTransferResponse>> WatchAsync(TransferClient client, string transferId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = client.WatchTransfer(new WatchTransferRequest { TransferId = transferId }, cancellationToken: cts.Token);
        var updates = new List<WatchTransferResponse>();
        await foreach (var update in watch.ResponseStream.ReadAllAsync(cts.Token)) updates.Add(update);
        return updates;
    }

    private static TransferSpec Spec(string source, string destination, string tenant = "acme") =>
        new() { SourceUri = source, DestinationUri = destination, TenantId = tenant };

    [Fact]
    public async Task A_local_copy_is_planned_started_watched_and_byte_identical()
    {
        var src = Source();
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all");
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Transfer, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        var client = mesh.Client<TransferClient>();

        var plan = await client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(src), Uri(dst)) });
        var expected = System.IO.Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(expected, plan.Bytes);
        Assert.StartsWith("tplan-", plan.PlanId);
        Assert.Equal(TransferGoal.Cheapest, plan.Goal);
        var route = Assert.Single(plan.Plan.Routes);
        Assert.Equal([("local", "local"), ("local", "local")], route.Hops.Select(h => (h.Provider, h.Region)));
        Assert.Equal((0m, 0), (plan.Plan.TotalCost.ToDecimal(), plan.Plan.Gateways.Count));

        var started = await client.StartTransferAsync(new StartTransferRequest { PlanId = plan.PlanId });
        Assert.Equal(plan.PlanId, started.PlanId);
        var updates = await WatchAsync(client, started.TransferId);
        var last = updates[^1];
        Assert.Equal(TransferState.Succeeded, last.Progress.State);
        Assert.Equal((expected, expected, 26L, 26L, 0L), (last.Progress.BytesDone, last.Progress.BytesTotal, last.Progress.ObjectsDone, last.Progress.ObjectsTotal, last.Progress.ObjectsFailed));
        Assert.Empty(last.Error);
        AssertSameTree(src, dst);

        var job = (await client.GetTransferAsync(new GetTransferRequest { TransferId = started.TransferId })).Transfer;
        Assert.Equal(("acme", TransferState.Succeeded, 0), (job.TenantId, job.Progress.State, job.Resumes));
        Assert.NotNull(job.StartedAt);
        Assert.NotNull(job.EndedAt);
        var listed = await client.ListTransfersAsync(new ListTransfersRequest { States = { TransferState.Succeeded } });
        Assert.Equal(started.TransferId, Assert.Single(listed.Transfers).TransferId);

        // The end is announced once; a local copy bills nothing, so it has no usage event.
        await Until(() => events.Any(e => e.Type == "transfer.completed"));
        var completed = Assert.Single(events, e => e.Type == "transfer.completed");
        Assert.Equal(TransferState.Succeeded, ((TransferCompleted)completed.Data).Transfer.Progress.State);
        Assert.Contains(events, e => e.Type == "transfer.progress" && ((TransferProgressed)e.Data).Progress.State == TransferState.Running);
        Assert.DoesNotContain(events, e => e.Type == "transfer.usage");

        // Cancelling a finished transfer returns its final state.
        Assert.Equal(TransferState.Succeeded, (await client.CancelTransferAsync(new CancelTransferRequest { TransferId = started.TransferId })).State);
    }

    [Fact]
    public async Task Bad_input_fails_before_any_byte_moves_with_the_field_named()
    {
        var src = Source(bigBytes: 1000, small: 1);
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all");
        var client = mesh.Client<TransferClient>();

        var scheme = await FailsAsync(StatusCode.InvalidArgument, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec("ftp://host/x", Uri(dst)) }).ResponseAsync);
        Assert.Equal("spec.source_uri", scheme.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field);
        await FailsAsync(StatusCode.InvalidArgument, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(src), "") }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(src), Uri(dst), tenant: "") }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, () => client.PlanTransferAsync(new PlanTransferRequest
        {
            Spec = new TransferSpec { SourceUri = Uri(src), DestinationUri = Uri(dst), TenantId = "acme", Goal = TransferGoal.CheapestByDeadline },
        }).ResponseAsync);
        var azure = await FailsAsync(StatusCode.InvalidArgument, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec("az://acct/container/x", Uri(dst)) }).ResponseAsync);
        Assert.Contains("spec.source_location", azure.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field);

        var missing = await FailsAsync(StatusCode.FailedPrecondition, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(Path.Combine(_root, "nope")), Uri(dst)) }).ResponseAsync);
        Assert.Contains("BUCKET_NOT_FOUND", missing.GetRpcStatus()!.GetDetail<PreconditionFailure>().Violations.Single().Type);
        var empty = Folder("empty");
        await FailsAsync(StatusCode.FailedPrecondition, () => client.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(empty), Uri(dst)) }).ResponseAsync);
        // With the size given no listing happens at plan time, so the start itself refuses a missing destination.
        var sized = Spec(Uri(src), Uri(Path.Combine(_root, "no-such-destination")));
        sized.Bytes = 1000;
        var noDestination = await FailsAsync(StatusCode.FailedPrecondition, () => client.StartTransferAsync(new StartTransferRequest { Spec = sized }).ResponseAsync);
        Assert.Contains("spec.destination_uri", noDestination.Status.Detail);
        Assert.Empty((await client.ListTransfersAsync(new ListTransfersRequest())).Transfers);
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(dst));

        await FailsAsync(StatusCode.NotFound, () => client.StartTransferAsync(new StartTransferRequest { PlanId = "tplan-nope" }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => client.GetTransferAsync(new GetTransferRequest { TransferId = "xfer-nope" }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, () => client.StartTransferAsync(new StartTransferRequest()).ResponseAsync);
    }

    [Fact]
    public async Task Tenants_see_only_their_own_transfers_and_a_request_id_starts_once()
    {
        var src = Source(bigBytes: 4096, small: 3);
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all");
        var acme = mesh.Client<TransferClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        var globex = mesh.Client<TransferClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "globex"));

        await FailsAsync(StatusCode.PermissionDenied, () => acme.PlanTransferAsync(new PlanTransferRequest { Spec = Spec(Uri(src), Uri(dst), tenant: "globex") }).ResponseAsync);
        var first = await acme.StartTransferAsync(new StartTransferRequest { Spec = Spec(Uri(src), Uri(dst), tenant: ""), RequestId = "nightly-1" });
        var again = await acme.StartTransferAsync(new StartTransferRequest { Spec = Spec(Uri(src), Uri(dst), tenant: ""), RequestId = "nightly-1" });
        Assert.Equal(first.TransferId, again.TransferId);
        Assert.Equal(TransferState.Succeeded, (await WatchAsync(acme, first.TransferId))[^1].Progress.State);

        await FailsAsync(StatusCode.NotFound, () => globex.GetTransferAsync(new GetTransferRequest { TransferId = first.TransferId }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => globex.CancelTransferAsync(new CancelTransferRequest { TransferId = first.TransferId }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => WatchAsync(globex, first.TransferId));
        await FailsAsync(StatusCode.NotFound, () => globex.StartTransferAsync(new StartTransferRequest { PlanId = first.PlanId }).ResponseAsync);
        await FailsAsync(StatusCode.PermissionDenied, () => globex.ListTransfersAsync(new ListTransfersRequest { TenantId = "acme" }).ResponseAsync);
        Assert.Empty((await globex.ListTransfersAsync(new ListTransfersRequest())).Transfers);
        Assert.Equal("acme", Assert.Single((await acme.ListTransfersAsync(new ListTransfersRequest())).Transfers).TenantId);
        Assert.Single((await mesh.Client<TransferClient>().ListTransfersAsync(new ListTransfersRequest())).Transfers);
    }

    /// <summary>A two-region grid (aws/us-east-1, azure/eastus) and a gateway offer in each, written through the directory's RPCs.</summary>
    internal static async Task GridAsync(TestMesh mesh)
    {
        var directory = mesh.Client<DirectoryClient>();
        Location At(string provider, string region) => new() { Provider = provider, Region = region };
        var throughput = new PutThroughputGridRequest();
        throughput.Entries.Add(new Throughput { Src = At("aws", "us-east-1"), Dst = At("azure", "eastus"), BitsPerSecond = 4_000_000_000, Connections = 64 });
        throughput.Entries.Add(new Throughput { Src = At("azure", "eastus"), Dst = At("aws", "us-east-1"), BitsPerSecond = 5_000_000_000, Connections = 64 });
        await directory.PutThroughputGridAsync(throughput);
        var egress = new PutEgressPriceGridRequest();
        egress.Entries.Add(new EgressPrice { Src = At("aws", "us-east-1"), Dst = At("azure", ""), Tiers = { new EgressTier { PricePerGb = Money.FromDecimal(0.09m, "USD") } } });
        egress.Entries.Add(new EgressPrice { Src = At("azure", "eastus"), Dst = At("aws", ""), Tiers = { new EgressTier { PricePerGb = Money.FromDecimal(0.0875m, "USD") } } });
        await directory.PutEgressPriceGridAsync(egress);
        foreach (var (provider, region, type) in new[] { ("aws", "us-east-1", "m5.8xlarge"), ("azure", "eastus", "Standard_D32_v5") })
            await directory.RegisterAsync(new RegisterRequest
            {
                Offer = new Offer
                {
                    Key = $"{type}/{region}", Kind = OfferKind.Compute, InstanceType = type, Location = At(provider, region),
                    Hardware = new Hardware { Vcpus = 32, MemoryGib = 128 }, Price = new Sky.Directory.V1.Price { OnDemandHourly = Money.FromDecimal(1.536m, "USD") },
                },
                Ttl = Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            });
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition());
    }

    [Fact]
    public async Task A_copy_between_clouds_is_planned_on_the_grid_and_its_usage_billed_once()
    {
        var src = Source(bigBytes: 3_000_000, small: 4);
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all");
        await GridAsync(mesh);
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Transfer, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        var client = mesh.Client<TransferClient>();
        // Local folders standing in for a bucket in each cloud: the plan and the bill follow the locations.
        var spec = Spec(Uri(src), Uri(dst));
        spec.SourceLocation = new Location { Provider = "aws", Region = "us-east-1" };
        spec.DestinationLocation = new Location { Provider = "azure", Region = "eastus" };

        var plan = await client.PlanTransferAsync(new PlanTransferRequest { Spec = spec });
        Assert.True(plan.PriceBookRevision > 0);
        Assert.Equal([("aws", "us-east-1"), ("azure", "eastus")], Assert.Single(plan.Plan.Routes).Hops.Select(h => (h.Provider, h.Region)));
        Assert.Contains(plan.Plan.Gateways, g => g.InstanceType == "m5.8xlarge" && g.VmCount >= 1);
        Assert.Equal(plan.Plan.EgressCost.ToDecimal(), Math.Round(plan.Bytes / 1e9m * 0.09m, 9));
        Assert.True(plan.Plan.PredictedThroughputBps > 0);
        Assert.Equal(plan.Plan, plan.Direct);

        var started = await client.StartTransferAsync(new StartTransferRequest { PlanId = plan.PlanId });
        Assert.Equal(TransferState.Succeeded, (await WatchAsync(client, started.TransferId))[^1].Progress.State);
        AssertSameTree(src, dst);

        await Until(() => events.Any(e => e.Type == "transfer.usage"));
        var usage = (TransferUsage)Assert.Single(events, e => e.Type == "transfer.usage").Data;
        Assert.Equal(("transfer:" + started.TransferId, "acme"), (usage.IdempotencyKey, usage.TenantId));
        var egress = Assert.Single(usage.Egress);
        Assert.Equal((plan.Bytes, 0.09m, "gb"), (egress.Bytes, egress.UnitPrice.ToDecimal(), egress.PriceUnit));
        var gateways = usage.Gateways.Select(g => (g.Location.Provider, g.VmCount)).Order().ToList();
        Assert.Equal(plan.Plan.Gateways.Select(g => (g.Location.Provider, g.VmCount)).Order(), gateways);

        // Accounting rates it: egress at the list price per GB, gateway VMs per second, each once.
        var accounting = mesh.Client<AccountingClient>();
        ListUsageResponse listed = new();
        for (var i = 0; i < 100 && listed.Usage.Count < 1 + usage.Gateways.Count; i++)
        {
            await Task.Delay(50);
            listed = await accounting.ListUsageAsync(new ListUsageRequest { TenantId = "acme" });
        }
        var rated = Assert.Single(listed.Usage, u => u.Service == "egress");
        Assert.Equal(started.TransferId, rated.SubjectId);
        Assert.Equal(Math.Round(plan.Bytes / 1e9m * 0.09m, 9), rated.ListAmount.ToDecimal());
        Assert.Equal(usage.Gateways.Count, listed.Usage.Count(u => u.Service == "transfer-gateway"));
    }

    /// <summary>Copies slowly (4 MiB/s into the destination, 1 MiB chunks, no server-side copy between local folders), so a test can act while one runs.</summary>
    internal static void Slow(Microsoft.AspNetCore.Builder.WebApplicationBuilder b, TimeSpan? heartbeat = null) =>
        b.Services.AddSingleton(new TransferOptions
        {
            MaxBytesPerSecond = 4 << 20,
            Copy = new CopyOptions { ChunkSize = 1 << 20, MaxChunksInFlight = 2, ServerSideCopy = false },
            ProgressInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatTtl = heartbeat ?? TimeSpan.FromSeconds(15),
            HeartbeatInterval = (heartbeat ?? TimeSpan.FromSeconds(15)) / 4,
        });

    [Fact]
    public async Task Cancelling_a_running_copy_stops_it_keeps_finished_objects_and_aborts_the_partial_upload()
    {
        var src = Source(bigBytes: 24 << 20, small: 0);
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all", configure: b => Slow(b));
        var client = mesh.Client<TransferClient>();
        var started = await client.StartTransferAsync(new StartTransferRequest { Spec = Spec(Uri(src), Uri(dst)) });
        TransferJob job;
        do
        {
            await Task.Delay(100);
            job = (await client.GetTransferAsync(new GetTransferRequest { TransferId = started.TransferId })).Transfer;
        }
        while (job.Progress.BytesDone == 0);

        Assert.Equal(TransferState.Cancelled, (await client.CancelTransferAsync(new CancelTransferRequest { TransferId = started.TransferId })).State);
        var final = (await client.GetTransferAsync(new GetTransferRequest { TransferId = started.TransferId })).Transfer;
        Assert.Equal(TransferState.Cancelled, final.Progress.State);
        Assert.InRange(final.Progress.BytesDone, 1, (24 << 20) - 1);
        Assert.NotNull(final.EndedAt);
        // The big object never completed, and its partial upload is gone: the destination holds nothing.
        Assert.False(File.Exists(Path.Combine(dst, "big.bin")));
        Assert.Empty(System.IO.Directory.EnumerateFiles(dst, "*", SearchOption.AllDirectories));
        Assert.Equal(TransferState.Cancelled, (await WatchAsync(client, started.TransferId))[^1].Progress.State);
    }

    [Fact]
    public async Task Watch_reports_progress_at_most_once_a_second_with_rate_and_eta()
    {
        var src = Source(bigBytes: 12 << 20, small: 0);
        var dst = Folder("dst");
        await using var mesh = await TestMesh.StartAsync("all", configure: b => Slow(b));
        var client = mesh.Client<TransferClient>();
        var started = await client.StartTransferAsync(new StartTransferRequest { Spec = Spec(Uri(src), Uri(dst)) });
        var updates = await WatchAsync(client, started.TransferId);
        Assert.Equal(TransferState.Succeeded, updates[^1].Progress.State);
        var running = updates.Where(u => u.Progress.State == TransferState.Running).ToList();
        Assert.True(running.Count >= 2, $"{running.Count} running updates");
        // 12 MiB at 4 MiB/s: about 3 s of copying, so a handful of updates, not one per chunk (12) or per tick.
        var copying = updates[^1].Progress.UpdatedAt.ToDateTimeOffset() - running[0].Progress.UpdatedAt.ToDateTimeOffset();
        Assert.True(running.Count <= copying.TotalSeconds + 2, $"{running.Count} running updates in {copying}");
        Assert.Contains(running, u => u.Progress.RateBytesPerSecond > 0 && u.Progress.Eta is not null);
        Assert.True(running.Select(u => u.Progress.BytesDone).SequenceEqual(running.Select(u => u.Progress.BytesDone).Order()));
    }
}
