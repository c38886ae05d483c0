using System.Collections.Concurrent;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using Sky.Testing;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Api;

/// <summary>Every placement RPC over a real host (TestServer): plan, launch with failover and recovery, jobs, logs, cancel, tenancy.</summary>
public sealed class PlacementApiTests
{
    private const string Gpu = "name: train\nresources:\n  accelerators: L4:1\nrun: echo training on $SKYPILOT_NUM_NODES node\n";

    private static Task<TestMesh> StartAsync(string faults = "") =>
        TestMesh.StartAsync("all", configure: b => b.Services.AddSingleton(new SimOptions { Faults = faults.Length == 0 ? SimFaults.None : SimFaults.Parse(faults) }));

    private static JobSpec Spec(string yaml, string tenant = "acme") => new() { TaskYaml = yaml, FileName = "train.yaml", TenantId = tenant };

    private static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        return e;
    }

    [Fact]
    public async Task Plan_places_a_task_on_the_cheapest_offer_and_lists_alternatives()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<PlacementClient>();
        var plan = await client.PlanAsync(new PlanRequest { Spec = Spec(Gpu + "file_mounts:\n  /data: s3://bucket\n") });
        var task = Assert.Single(plan.Tasks);
        Assert.Equal("L4", task.Chosen.Accelerators.Single().Name);
        Assert.NotEmpty(task.Alternatives);
        Assert.All(task.Alternatives, a => Assert.True(a.HourlyCost.ToDecimal() >= task.Chosen.HourlyCost.ToDecimal()));
        Assert.Equal(task.Chosen.HourlyCost, plan.Cost.Hourly);
        Assert.True(plan.Optimal);
        Assert.StartsWith("plan-", plan.PlanId);
        var ignored = Assert.Single(plan.IgnoredFields);
        Assert.Equal(("file_mounts", 5), (ignored.Field, ignored.Line));
    }

    [Fact]
    public async Task A_bad_yaml_is_invalid_argument_with_file_line_and_column_and_no_offer_is_failed_precondition()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<PlacementClient>();
        var bad = await FailsAsync(StatusCode.InvalidArgument, () => client.PlanAsync(new PlanRequest { Spec = Spec("name: x\nresources:\n  cpus: 8++\n") }).ResponseAsync);
        var violation = bad.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single();
        Assert.Equal("train.yaml:3:9", violation.Field);
        Assert.Contains("resources.cpus", violation.Description);

        var none = await FailsAsync(StatusCode.FailedPrecondition, () => client.PlanAsync(new PlanRequest { Spec = Spec("resources:\n  accelerators: NoSuchGpu:3\n") }).ResponseAsync);
        Assert.Contains("NoSuchGpu", none.Status.Detail);
        await FailsAsync(StatusCode.InvalidArgument, () => client.PlanAsync(new PlanRequest { Spec = Spec(Gpu, tenant: "") }).ResponseAsync);
    }

    [Fact]
    public async Task Policy_keeps_tasks_in_allowed_providers_and_out_of_denied_regions()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<PlacementClient>();
        var spec = Spec(Gpu);
        spec.Policy = new PlacementPolicy { AllowedProviders = { "aws" }, DeniedRegions = { new Location { Provider = "aws", Region = "us-east-1" } } };
        var plan = await client.PlanAsync(new PlanRequest { Spec = spec });
        Assert.All(plan.Tasks.SelectMany(t => t.Alternatives.Append(t.Chosen)), p =>
        {
            Assert.Equal("aws", p.Location.Provider);
            Assert.NotEqual("us-east-1", p.Location.Region);
        });
    }

    [Fact]
    public async Task Launch_fails_over_a_capacity_error_runs_the_task_and_publishes_its_states_and_usage()
    {
        await using var mesh = await StartAsync("capacity:*:1");
        var events = new ConcurrentQueue<SkyEvent>();
        await using var _ = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Placement, "test", (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        var client = mesh.Client<PlacementClient>();
        var launched = await client.LaunchAsync(new LaunchRequest { Spec = Spec(Gpu), RequestId = "r-1" });
        var job = await client.FinishedAsync(launched.JobId);

        Assert.Equal(JobState.Succeeded, job.State);
        var attempts = job.Tasks.Single().Attempts;
        Assert.Equal([AttemptOutcome.CapacityError, AttemptOutcome.Success], attempts.Select(a => a.Outcome));
        Assert.NotNull(attempts[0].Blocked);
        Assert.NotEqual(attempts[0].Placement.Location, attempts[1].Placement.Location);
        Assert.Equal(0, job.Tasks.Single().ExitCode);

        // The same request id returns the same job.
        Assert.Equal(launched.JobId, (await client.LaunchAsync(new LaunchRequest { Spec = Spec(Gpu), RequestId = "r-1" })).JobId);

        var logs = client.StreamJobLogs(new StreamJobLogsRequest { JobId = launched.JobId });
        var lines = await logs.ResponseStream.ReadAllAsync().ToListAsync();
        Assert.Contains(lines, l => l.Stream == LogStream.Stdout && l.Text == "training on 1 node");
        Assert.Contains(lines, l => l.Stream == LogStream.System && l.Text.Contains("CapacityError"));

        var until = DateTime.UtcNow.AddSeconds(10);
        while (!events.Any(e => e.Type == "placement.job.succeeded") && DateTime.UtcNow < until) await Task.Delay(20);
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal(["placement.job.pending", "placement.job.provisioning", "placement.job.running", "placement.job.succeeded"],
            types.Where(t => t.StartsWith("placement.job.", StringComparison.Ordinal) && t is not ("placement.job.attempt" or "placement.job.usage")).ToList());
        var usage = (PlacementJobUsage)events.Single(e => e.Type == "placement.job.usage").Data;
        Assert.Equal($"placement:{launched.JobId}:train:2:0", usage.IdempotencyKey);
        Assert.Equal(("compute", "second", "hour", "acme"), (usage.Service, usage.Unit, usage.PriceUnit, usage.TenantId));
        Assert.Equal(attempts[1].Placement.OfferId, usage.OfferId);
    }

    [Fact]
    public async Task A_preempted_spot_task_recovers_in_another_region()
    {
        // The built-in catalog has no spot prices: two regions offer spot capacity, us-east-1 the cheaper.
        var yaml = "name: spot\nresources:\n  cpus: 2+\n  use_spot: true\nrun: sleep 1 && echo done\n";
        var first = new Location { Provider = "aws", Region = "us-east-1" };
        await using var mesh = await StartAsync("preempt:aws/us-east-1:after=300ms");
        var directory = mesh.Client<Sky.Directory.V1.Directory.DirectoryClient>();
        foreach (var (region, spot) in new[] { ("us-east-1", 0.01m), ("us-west-2", 0.02m) })
            await directory.RegisterAsync(new Sky.Directory.V1.RegisterRequest
            {
                Offer = new Sky.Directory.V1.Offer
                {
                    Key = "t9.spot/" + region, Kind = Sky.Directory.V1.OfferKind.Compute, InstanceType = "t9.spot",
                    Location = new Location { Provider = "aws", Region = region },
                    Hardware = new Sky.Directory.V1.Hardware { Vcpus = 2, MemoryGib = 4, Arch = "x86_64" },
                    Price = new Sky.Directory.V1.Price { OnDemandHourly = Money.FromDecimal(1m, "USD"), SpotHourly = Money.FromDecimal(spot, "USD") },
                },
                Ttl = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
            });

        // Spot nodes in us-east-1 are taken back after 300 ms; the run needs a second.
        var client = mesh.Client<PlacementClient>();
        var launched = await client.LaunchAsync(new LaunchRequest { Spec = Spec(yaml) });
        var job = await client.FinishedAsync(launched.JobId);
        var attempts = job.Tasks.Single().Attempts;
        Assert.Equal([AttemptOutcome.Preempted, AttemptOutcome.Success], attempts.Select(a => a.Outcome));
        Assert.Equal((first.Provider, first.Region, ""), (attempts[0].Blocked.Provider, attempts[0].Blocked.Region, attempts[0].Blocked.Zone));
        Assert.NotEqual(first.Region, attempts[1].Placement.Location.Region);
        Assert.Equal(JobState.Succeeded, job.State);
    }

    [Fact]
    public async Task Tenants_see_and_cancel_only_their_own_jobs()
    {
        await using var mesh = await StartAsync();
        var acme = mesh.Client<PlacementClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "acme"));
        var other = mesh.Client<PlacementClient>(await mesh.IssueKeyAsync(PrincipalKind.Tenant, "other"));
        await FailsAsync(StatusCode.PermissionDenied, () => acme.PlanAsync(new PlanRequest { Spec = Spec(Gpu, tenant: "other") }).ResponseAsync);

        var launched = await acme.LaunchAsync(new LaunchRequest { Spec = Spec("name: long\nrun: sleep 60\n", tenant: "") });
        await FailsAsync(StatusCode.NotFound, () => other.GetJobAsync(new GetJobRequest { JobId = launched.JobId }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => other.CancelJobAsync(new CancelJobRequest { JobId = launched.JobId }).ResponseAsync);
        Assert.Empty((await other.ListJobsAsync(new ListJobsRequest())).Jobs);
        Assert.Equal(launched.JobId, (await acme.ListJobsAsync(new ListJobsRequest())).Jobs.Single().JobId);

        var until = DateTime.UtcNow.AddSeconds(20);
        while ((await acme.GetJobAsync(new GetJobRequest { JobId = launched.JobId })).Job.State != JobState.Running && DateTime.UtcNow < until) await Task.Delay(50);
        var started = DateTime.UtcNow;
        Assert.Equal(JobState.Cancelled, (await acme.CancelJobAsync(new CancelJobRequest { JobId = launched.JobId })).State);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "cancel returns once the job has stopped, not after sleep 60");
        Assert.Equal(JobState.Cancelled, (await acme.CancelJobAsync(new CancelJobRequest { JobId = launched.JobId })).State);   // idempotent
        var job = (await acme.GetJobAsync(new GetJobRequest { JobId = launched.JobId })).Job;
        Assert.Equal(AttemptOutcome.Cancelled, job.Tasks.Single().Attempts.Last().Outcome);
    }

    [Fact]
    public async Task Launch_from_an_unknown_plan_is_not_found()
    {
        await using var mesh = await StartAsync();
        var client = mesh.Client<PlacementClient>();
        await FailsAsync(StatusCode.NotFound, () => client.LaunchAsync(new LaunchRequest { PlanId = "plan-nope" }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, () => client.LaunchAsync(new LaunchRequest()).ResponseAsync);
    }
}
