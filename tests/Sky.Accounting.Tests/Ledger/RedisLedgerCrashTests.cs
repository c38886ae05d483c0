using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.Ledger;
using StackExchange.Redis;
using static Sky.Accounting.Tests.Ledger.LedgerSamples;

namespace Sky.Accounting.Tests.Ledger;

/// <summary>
/// Redis itself killed (SIGKILL) while batches are being posted, then started again on its AOF: every posting it
/// acknowledged is there, and no transaction is there in part (its record, index entries and balance increments come
/// back together or not at all). Needs redis-server on PATH; runs its own, with appendfsync always.
/// </summary>
public sealed class RedisLedgerCrashTests : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("sky-ledger-crash-").FullName;
    private readonly int _port = FreePort();
    private Process? _redis;

    [SkippableFact]
    public async Task A_redis_killed_mid_posting_comes_back_with_every_acknowledged_posting_and_no_half_one()
    {
        var server = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);
        Skip.If(server is null, "redis-server is not installed (apt-get install redis-server)");
        var time = new FakeTimeProvider(Now);

        var acknowledged = new List<string>();
        await using (var connection = await StartAsync(server!))
        {
            var ledger = new RedisLedger(connection, time, "sky:accounting:");
            var posting = Task.Run(async () =>
            {
                try
                {
                    for (var b = 0; ; b++)
                    {
                        var batch = Enumerable.Range(0, 200).Select(i => Charge($"crash:{b}:{i}", tenant: $"t{i % 7}", list: 1_000 + i)).ToList();
                        var results = await ledger.PostAsync(batch, CancellationToken.None);
                        lock (acknowledged) acknowledged.AddRange(results.Where(r => r.Outcome == PostOutcome.Posted).Select(r => r.TransactionId));
                    }
                }
                catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException) { }
            });
            while (true)
            {
                await Task.Delay(50);
                lock (acknowledged) if (acknowledged.Count >= 2000) break;
            }
            _redis!.Kill();
            await _redis.WaitForExitAsync();
            await posting.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var restarted = await StartAsync(server!);
        var again = new RedisLedger(restarted, time, "sky:accounting:");
        var read = await again.ReadAllAsync("2026-01");
        var ids = read.Select(t => t.Id).ToHashSet();
        Assert.Subset(ids, acknowledged.ToHashSet());
        // Every record is in the period index once, in sequence order with no gap, and the balances are its entries' sums.
        Assert.Equal(Enumerable.Range(1, read.Count).Select(i => (long)i), read.Select(t => t.Sequence));
        Assert.Equal(read.Count, (long)await restarted.GetDatabase().HashLengthAsync("sky:accounting:ledger:tx"));
        var expected = read.SelectMany(t => t.Entries).GroupBy(e => e.Account).ToDictionary(g => g.Key, g => g.Sum(e => e.AmountNanos));
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), (await again.BalancesAsync(CancellationToken.None)).OrderBy(e => e.Key, StringComparer.Ordinal));
        var newest = await again.QueryAsync(new LedgerQuery { PageSize = 100 }, CancellationToken.None);
        Assert.Equal(read.AsEnumerable().Reverse().Take(100).Select(t => t.Id), newest.Transactions.Select(t => t.Id));
    }

    private async Task<ConnectionMultiplexer> StartAsync(string server)
    {
        _redis = Process.Start(new ProcessStartInfo(server,
            ["--bind", "127.0.0.1", "--port", _port.ToString(), "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", _dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        for (var i = 0; ; i++)
        {
            try
            {
                var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_port},abortConnect=true,connectTimeout=1000");
                // A restarted server answers LOADING until its AOF is read back.
                while (true)
                {
                    try { await connection.GetDatabase().PingAsync(); return connection; }
                    catch (RedisServerException e) when (e.Message.StartsWith("LOADING", StringComparison.Ordinal)) { await Task.Delay(50); }
                }
            }
            catch (RedisConnectionException) when (i < 100) { await Task.Delay(50); }
        }
    }

    public void Dispose()
    {
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            _redis.WaitForExit(5000);
        }
        _redis?.Dispose();
        try { System.IO.Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
