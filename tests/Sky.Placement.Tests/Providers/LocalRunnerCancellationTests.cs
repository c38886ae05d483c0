using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Sky.Placement.Providers;
using static Sky.Placement.Tests.Providers.ProviderTestKit;

namespace Sky.Placement.Tests.Providers;

/// <summary>
/// Tests with a wall-clock bound run alone: on two busy cores, the solver tests running beside them can delay a
/// kill by more than the bound measures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WallClockCollection
{
    public const string Name = "providers-wall-clock";
}

/// <summary>Cancellation of a real process tree, within a second.</summary>
[Collection(WallClockCollection.Name)]
public sealed class LocalRunnerCancellationTests : TempDirectoryTest
{
    private readonly LocalRunner _runner = new(new FakeTimeProvider());

    [Fact]
    public async Task Cancellation_kills_the_whole_process_tree_within_a_second()
    {
        var log = new LogCollector();
        using var cts = new CancellationTokenSource();
        var nodes = LocalNodes(Root);
        var run = _runner.RunAsync(nodes, Commands("sleep 60 & echo $! > child.pid; echo started; wait"), log, cts.Token);
        await log.WaitForAsync(l => l.Text == "started");
        var child = int.Parse(File.ReadAllText(Path.Combine(nodes.Nodes[0].Directory!, "child.pid")).Trim());
        Assert.False(Gone(child));

        var clock = Stopwatch.StartNew();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"cancellation took {clock.Elapsed}");
        Assert.True(await GoneWithinAsync(child, TimeSpan.FromSeconds(1)), $"sleep (pid {child}) still runs");
    }
}
