using Sky.Placement.Providers;
using Sky.Placement.V1;
using static Sky.Placement.Tests.Providers.ProviderTestKit;

namespace Sky.Placement.Tests.Providers;

/// <summary>The local provider: nodes at once on this machine, real runs, idempotent termination.</summary>
public sealed class LocalProviderTests : TempDirectoryTest
{
    private LocalProvider Provider() => new(TimeProvider.System, new() { Root = Root });

    [Fact]
    public async Task Provisions_local_nodes_runs_the_task_and_terminates_them()
    {
        var provider = Provider();
        var nodes = await provider.ProvisionAsync(Request("local/local", "local", nodes: 2), default);
        Assert.Equal(("local", CloudLocation.Local, 2), (nodes.Provider, nodes.Location, nodes.Nodes.Count));
        Assert.All(nodes.Nodes, n => Assert.True(System.IO.Directory.Exists(n.Directory)));

        var log = new LogCollector();
        Assert.Equal(0, await provider.RunAsync(nodes, Commands("echo hello from $SKYPILOT_NODE_RANK"), log, default));
        Assert.Equal(["hello from 0"], log.Text(LogStream.Stdout, 0));
        Assert.Equal(["hello from 1"], log.Text(LogStream.Stdout, 1));

        await provider.TerminateAsync(nodes);
        await provider.TerminateAsync(nodes);
        Assert.All(nodes.Nodes, n => Assert.False(System.IO.Directory.Exists(n.Directory)));
        Assert.Equal([nodes.ClusterId], provider.Activity.Terminated);
        Assert.Equal((1, 1), (provider.Activity.Attempted, provider.Activity.Succeeded));
        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.RunAsync(nodes, Commands("true"), log, default));
    }

    [Fact]
    public async Task Terminating_stops_a_run_in_progress()
    {
        var provider = Provider();
        var nodes = await provider.ProvisionAsync(Request("local/local", "local"), default);
        var log = new LogCollector();
        var run = provider.RunAsync(nodes, Commands("echo started; sleep 60"), log, default);
        await log.WaitForAsync(l => l.Text == "started");

        await provider.TerminateAsync(nodes);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Other_locations_and_bad_requests_are_refused()
    {
        var provider = Provider();
        var elsewhere = await Assert.ThrowsAsync<ArgumentException>(() => provider.ProvisionAsync(Request("aws/us-east-1"), default));
        Assert.Contains("aws/us-east-1", elsewhere.Message);
        var noNodes = await Assert.ThrowsAsync<ArgumentException>(() => provider.ProvisionAsync(Request("local/local", nodes: 0), default));
        Assert.Contains("num_nodes must be at least 1", noNodes.Message);
        Assert.False(provider.KnownZeroQuota(CloudLocation.Local, "A100:8"));
        Assert.Equal(0, provider.Activity.Attempted);
    }
}
