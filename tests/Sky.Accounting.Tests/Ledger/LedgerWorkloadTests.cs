using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Ledger;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>
/// The ledger after random workloads (seeded, so a failure replays): balanced to exactly zero, its balances the sums of
/// its entries, every duplicate posted once. The Redis store is held to the same answers in <see cref="RedisLedgerTests"/>.
/// </summary>
public sealed class LedgerWorkloadTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task A_random_workload_leaves_the_memory_ledger_balanced_and_as_the_model_says(int seed)
    {
        var time = new FakeTimeProvider(LedgerSamples.Now);
        var ledger = new MemoryLedger(time);
        var workload = new LedgerWorkload(seed);
        await workload.RunAsync([ledger], time, steps: 60);
        await workload.VerifyAsync(ledger);
        Assert.NotEmpty(workload.Posted);
    }
}
