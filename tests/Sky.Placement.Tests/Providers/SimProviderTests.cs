using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Sky.Placement.Providers;
using Sky.Placement.V1;
using static Sky.Placement.Tests.Providers.ProviderTestKit;

namespace Sky.Placement.Tests.Providers;

/// <summary>The simulated clouds: injected failures and what they block, capacity and quota, preemption on a fake clock, determinism.</summary>
[Collection(WallClockCollection.Name)]
public sealed class SimProviderTests : TempDirectoryTest
{
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private SimProvider Sim(string faults = "", SimRunMode mode = SimRunMode.Simulate, int seed = 1, TimeSpan? run = null, TimeSpan? delay = null, int exitCode = 0) =>
        new(new SimOptions
        {
            Seed = seed,
            Faults = SimFaults.Parse(faults),
            RunMode = mode,
            SimulatedRunDuration = run ?? TimeSpan.FromMinutes(10),
            SimulatedExitCode = exitCode,
            ProvisionDelay = delay ?? TimeSpan.Zero,
            WorkRoot = Root,
        }, _time);

    [Fact]
    public async Task Same_seed_gives_the_same_preemptions_and_another_seed_others()
    {
        async Task<bool[]> Outcomes(int seed)
        {
            var sim = Sim("preempt:aws/*:after=1m,p=0.5", seed: seed);
            var outcomes = new List<bool>();
            for (var i = 0; i < 40; i++)
                outcomes.Add(sim.ScheduledPreemption(await sim.ProvisionAsync(Request(spot: true), default)) is not null);
            return [.. outcomes];
        }

        var first = await Outcomes(42);
        Assert.Equal(first, await Outcomes(42));
        Assert.NotEqual(first, await Outcomes(43));
        Assert.Contains(true, first);
        Assert.Contains(false, first);
    }

    [Fact]
    public async Task A_capacity_fault_blocks_the_zone_and_the_retry_succeeds()
    {
        var sim = Sim("capacity:aws/us-east-1:1");
        var error = await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request("aws/us-east-1/us-east-1a"), default));
        Assert.Equal((ProvisionFailure.Capacity, CloudLocation.Parse("aws/us-east-1/us-east-1a")), (error.Kind, error.Blocked));
        Assert.Contains("insufficient capacity", error.Message);

        var nodes = await sim.ProvisionAsync(Request("aws/us-east-1/us-east-1a"), default);
        Assert.Equal(CloudLocation.Parse("aws/us-east-1/us-east-1a"), nodes.Location);

        var activity = sim.Activity;
        Assert.Equal((2, 1, 1), (activity.Attempted, activity.Succeeded, activity.Failed(ProvisionFailure.Capacity)));
        Assert.Equal([ProvisionOutcome.Failed, ProvisionOutcome.Succeeded], activity.Provisions.Select(p => p.Outcome));
        Assert.Equal(error.Blocked, activity.Provisions[0].Blocked);
    }

    [Fact]
    public async Task A_capacity_fault_on_a_regional_offer_blocks_the_region()
    {
        var error = await Assert.ThrowsAsync<ProvisionException>(() => Sim("capacity:gcp/*").ProvisionAsync(Request("gcp/us-central1"), default));
        Assert.Equal(CloudLocation.Parse("gcp/us-central1"), error.Blocked);
    }

    [Fact]
    public async Task A_rule_for_one_instance_type_spares_the_others()
    {
        var sim = Sim("capacity:aws/*:type=p3.2xlarge");
        await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request(instanceType: "p3.2xlarge"), default));
        await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request(instanceType: "p3.2xlarge"), default));
        await sim.ProvisionAsync(Request(instanceType: "m5.large"), default);
        await sim.ProvisionAsync(Request("gcp/us-central1", instanceType: "p3.2xlarge"), default);
    }

    [Fact]
    public async Task Capacity_limits_count_the_nodes_up_until_they_are_terminated()
    {
        var sim = Sim("limit:aws/us-east-1:nodes=3,type=p3.2xlarge");
        var two = await sim.ProvisionAsync(Request(instanceType: "p3.2xlarge", nodes: 2), default);
        var full = await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request("aws/us-east-1/us-east-1b", "p3.2xlarge", nodes: 2), default));
        Assert.Equal((ProvisionFailure.Capacity, CloudLocation.Parse("aws/us-east-1/us-east-1b")), (full.Kind, full.Blocked));
        Assert.Contains("2 of 3 nodes in use", full.Message);
        await sim.ProvisionAsync(Request(instanceType: "m5.large", nodes: 5), default);

        await sim.TerminateAsync(two);
        await sim.ProvisionAsync(Request(instanceType: "p3.2xlarge", nodes: 3), default);
    }

    [Fact]
    public async Task Zero_quota_is_known_before_trying_and_blocks_the_region_when_tried()
    {
        var sim = Sim("limit:gcp/us-central1:gpus=0; limit:azure/eastus:vcpus=0");
        Assert.True(sim.KnownZeroQuota(CloudLocation.Parse("gcp/us-central1"), "A100:1"));
        Assert.True(sim.KnownZeroQuota(CloudLocation.Parse("gcp/us-central1/us-central1-a"), "L4"));
        Assert.False(sim.KnownZeroQuota(CloudLocation.Parse("gcp/us-central1")));
        Assert.False(sim.KnownZeroQuota(CloudLocation.Parse("gcp/us-east1"), "A100:1"));
        Assert.True(sim.KnownZeroQuota(CloudLocation.Parse("azure/eastus")));
        Assert.Equal(0, sim.Activity.Attempted);

        var error = await Assert.ThrowsAsync<ProvisionException>(() =>
            sim.ProvisionAsync(Request("gcp/us-central1/us-central1-a", "a2-highgpu-1g", accelerators: "A100:1"), default));
        Assert.Equal((ProvisionFailure.Quota, CloudLocation.Parse("gcp/us-central1")), (error.Kind, error.Blocked));
        await sim.ProvisionAsync(Request("gcp/us-central1/us-central1-a", "n2-standard-4"), default);
    }

    [Fact]
    public async Task A_quota_fault_blocks_the_region_not_just_the_zone()
    {
        var sim = Sim("quota:gcp/us-central1:1");
        var error = await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request("gcp/us-central1/us-central1-a"), default));
        Assert.Equal((ProvisionFailure.Quota, CloudLocation.Parse("gcp/us-central1")), (error.Kind, error.Blocked));
        Assert.Equal(1, sim.Activity.Failed(ProvisionFailure.Quota));
        await sim.ProvisionAsync(Request("gcp/us-central1/us-central1-b"), default);
    }

    [Fact]
    public async Task A_vcpu_quota_counts_the_vcpus_of_the_nodes_up()
    {
        var sim = Sim("limit:aws/us-east-1:vcpus=16");
        await sim.ProvisionAsync(Request(nodes: 2, vcpus: 4), default);
        var error = await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request(nodes: 3, vcpus: 4), default));
        Assert.Equal((ProvisionFailure.Quota, CloudLocation.Parse("aws/us-east-1")), (error.Kind, error.Blocked));
        Assert.Contains("12 vCPUs requested", error.Message);
        await sim.ProvisionAsync(Request(nodes: 2, vcpus: 4), default);
    }

    [Fact]
    public async Task A_provider_error_rule_without_a_count_fails_every_time_and_can_block_the_provider()
    {
        var sim = Sim("provider:azure:block=provider");
        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<ProvisionException>(() => sim.ProvisionAsync(Request("azure/eastus"), default));
            Assert.Equal((ProvisionFailure.Provider, new CloudLocation("azure")), (error.Kind, error.Blocked));
        }
        Assert.Equal(3, sim.Activity.Failed(ProvisionFailure.Provider));
    }

    [Fact]
    public async Task Spot_nodes_are_preempted_after_the_simulated_time_and_on_demand_ones_run_to_the_end()
    {
        var sim = Sim("preempt:gcp/*:after=30s; limit:gcp/us-central1:nodes=1", exitCode: 3);
        var spot = await sim.ProvisionAsync(Request("gcp/us-central1/us-central1-a", spot: true), default);
        Assert.Equal(Start.AddSeconds(30), sim.ScheduledPreemption(spot));

        var log = new LogCollector();
        var run = sim.RunAsync(spot, Commands("python train.py"), log, default);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(run.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var preempted = await Assert.ThrowsAsync<PreemptedException>(() => run);
        Assert.Equal((CloudLocation.Parse("gcp/us-central1"), Start.AddSeconds(30)), (preempted.Blocked, preempted.At));
        Assert.Equal(spot.ClusterId, Assert.Single(sim.Activity.Preemptions).ClusterId);
        Assert.Contains(log.Text(LogStream.System), t => t.Contains("preempted"));

        // The preempted nodes no longer hold the region's capacity; on-demand nodes are never preempted.
        var onDemand = await sim.ProvisionAsync(Request("gcp/us-central1/us-central1-a"), default);
        Assert.Null(sim.ScheduledPreemption(onDemand));
        var finished = sim.RunAsync(onDemand, Commands("python train.py"), new LogCollector(), default);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(3, await finished);
        await Assert.ThrowsAsync<PreemptedException>(() => sim.RunAsync(spot, Commands("again"), new LogCollector(), default));
    }

    [Fact]
    public async Task In_execute_mode_commands_really_run_and_a_preemption_kills_them()
    {
        var sim = Sim("preempt:aws/us-east-1:after=5s", mode: SimRunMode.Execute);
        var onDemand = await sim.ProvisionAsync(Request(), default);
        var log = new LogCollector();
        Assert.Equal(0, await sim.RunAsync(onDemand, Commands("echo hello from $SKYPILOT_NODE_RANK on $SKYPILOT_NUM_NODES"), log, default));
        Assert.Equal(["hello from 0 on 1"], log.Text(LogStream.Stdout));

        var spot = await sim.ProvisionAsync(Request(spot: true), default);
        var spotLog = new LogCollector();
        var run = sim.RunAsync(spot, Commands("echo started; sleep 60"), spotLog, default);
        await spotLog.WaitForAsync(l => l.Text == "started");
        var clock = Stopwatch.StartNew();
        _time.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<PreemptedException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"preemption took {clock.Elapsed}");
    }

    [Fact]
    public async Task Provisioning_takes_the_simulated_delay_and_cancelling_it_releases_the_capacity()
    {
        var sim = Sim("limit:aws/us-east-1:nodes=1", delay: TimeSpan.FromMinutes(2));
        var provisioning = sim.ProvisionAsync(Request(), default);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(provisioning.IsCompleted);
        _time.Advance(TimeSpan.FromMinutes(1));
        var nodes = await provisioning;
        Assert.Equal(Start.AddMinutes(2), nodes.ReadyAt);
        await sim.TerminateAsync(nodes);

        using var cts = new CancellationTokenSource();
        var cancelled = sim.ProvisionAsync(Request(), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(ProvisionOutcome.Cancelled, sim.Activity.Provisions[^1].Outcome);

        var again = sim.ProvisionAsync(Request(), default);
        _time.Advance(TimeSpan.FromMinutes(2));
        await again;
    }

    [Fact]
    public async Task Termination_is_idempotent_and_stops_a_run_in_progress()
    {
        var sim = Sim();
        var nodes = await sim.ProvisionAsync(Request(), default);
        var run = sim.RunAsync(nodes, Commands("train"), new LogCollector(), default);
        await sim.TerminateAsync(nodes);
        await sim.TerminateAsync(nodes);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal([nodes.ClusterId], sim.Activity.Terminated);
        await Assert.ThrowsAsync<InvalidOperationException>(() => sim.RunAsync(nodes, Commands("train"), new LogCollector(), default));
    }

    [Fact]
    public async Task Bad_requests_and_options_are_refused_with_the_field_named()
    {
        var sim = Sim();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => sim.ProvisionAsync(Request(accelerators: "A100:0"), default));
        Assert.Contains("A100:0", error.Message);
        var rule = Assert.Throws<ArgumentException>(() => new SimProvider(new SimOptions
        {
            Faults = SimFaults.None with { Preemptions = [new SimPreemptionRule(new LocationPattern("aws"), TimeSpan.Zero, Probability: 2)] },
        }, _time));
        Assert.Contains("probability", rule.Message);
    }
}
