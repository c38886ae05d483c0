using System.Security.Cryptography;
using Grpc.Core;
using Sky.Hosting.Peers;
using Sky.Testing;
using Sky.Transfer.V1;
using TransferClient = Sky.Transfer.V1.Transfer.TransferClient;

namespace Sky.Integration.Tests;

/// <summary>
/// The promise, with real processes: a `sky-mesh` killed with SIGKILL in the middle of a copy, then started
/// again on the same Redis, resumes the transfer from its checkpoint, re-sends at most the chunks that were in flight,
/// and ends with a byte-identical copy.
/// </summary>
public sealed class TransferKillTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private const long Chunk = 1 << 20;
    private const int InFlight = 4;
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("sky-transfer-kill-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    [SkippableFact]
    public async Task A_transfer_killed_mid_copy_resumes_after_a_restart_and_is_byte_identical()
    {
        var store = await redis.NewDatabaseAsync();
        var src = System.IO.Directory.CreateDirectory(Path.Combine(_root, "src")).FullName;
        var dst = System.IO.Directory.CreateDirectory(Path.Combine(_root, "dst")).FullName;
        var data = new byte[48 << 20];
        new Random(11).NextBytes(data);
        await File.WriteAllBytesAsync(Path.Combine(src, "big.bin"), data);
        for (var i = 0; i < 8; i++) await File.WriteAllBytesAsync(Path.Combine(src, $"small-{i}.txt"), data.AsMemory(i * 1000, 700 + i).ToArray());
        var token = Sky.Hosting.Identity.ApiKeys.NewSecret();
        // Slow enough to be caught in the middle (16 MiB/s), a short heartbeat so the restart adopts the transfer quickly.
        var environment = new Dictionary<string, string>
        {
            ["Transfer__MaxBytesPerSecond"] = (16 << 20).ToString(),
            ["Transfer__Copy__ChunkSize"] = Chunk.ToString(),
            ["Transfer__Copy__ServerSideCopy"] = "false",
            ["Transfer__Copy__MaxChunksInFlight"] = InFlight.ToString(),
            ["Transfer__HeartbeatTtl"] = "00:00:02",
            ["Transfer__HeartbeatInterval"] = "00:00:00.500",
        };
        string[] args = ["--store", store, "--operator-token", token];

        string transferId;
        long before;
        var first = await Processes.Host.StartAsync(environment, args);
        try
        {
            var client = new TransferClient(BearerChannel.Create(new Uri(first.Grpc), token));
            var started = await client.StartTransferAsync(new StartTransferRequest
            {
                Spec = new TransferSpec { SourceUri = "file://" + src + "/", DestinationUri = "file://" + dst + "/", TenantId = "acme" },
            });
            transferId = started.TransferId;
            TransferJob job;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            do
            {
                await Task.Delay(100);
                job = (await client.GetTransferAsync(new GetTransferRequest { TransferId = transferId })).Transfer;
            }
            while (job.Progress.BytesDone < data.Length / 3 && DateTime.UtcNow < until);
            Assert.Equal(TransferState.Running, job.Progress.State);
            before = job.Progress.BytesDone;
        }
        finally
        {
            await first.KillAsync();
        }

        await using var second = await Processes.Host.StartAsync(environment, args);
        var resumed = new TransferClient(BearerChannel.Create(new Uri(second.Grpc), token));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        WatchTransferResponse? last = null;
        using (var watch = resumed.WatchTransfer(new WatchTransferRequest { TransferId = transferId }, cancellationToken: cts.Token))
            await foreach (var update in watch.ResponseStream.ReadAllAsync(cts.Token)) last = update;

        Assert.NotNull(last);
        Assert.Equal(TransferState.Succeeded, last.Progress.State);
        var total = data.Length + Enumerable.Range(0, 8).Sum(i => 700 + i);
        Assert.Equal((total, 9L), (last.Progress.BytesDone, last.Progress.ObjectsDone));
        // At most the chunks in flight at the kill were sent again (plus the small objects in flight, each one put).
        Assert.InRange(last.Progress.BytesResent, 0, InFlight * Chunk + 8 * 1000);
        var final = (await resumed.GetTransferAsync(new GetTransferRequest { TransferId = transferId })).Transfer;
        Assert.Equal(1, final.Resumes);
        Assert.True(before > 0);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(dst, "big.bin"))));
        for (var i = 0; i < 8; i++)
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(src, $"small-{i}.txt")), await File.ReadAllBytesAsync(Path.Combine(dst, $"small-{i}.txt")));
    }
}
