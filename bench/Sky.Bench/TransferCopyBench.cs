using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Azure;
using Sky.Transfer.Storage.Local;
using Sky.Transfer.Storage.S3;
using StackExchange.Redis;

namespace Sky.Bench;

/// <summary>
/// Issue #6's executor figures (<see cref="ObjectCopier"/>): local folder to local folder beside <c>cp -r</c> (a 1 GiB
/// file, then 10,000 small files on the disk and on tmpfs; best of five interleaved rounds after every way has warmed up), s3rver to azurite beside <c>rclone copy</c> with the
/// emulators' CPU, the peak memory of a process copying a 2 GiB object, and a copy killed with SIGKILL at half way and
/// run again: bytes re-sent against the chunks in flight, and the result's hash. The data lives under one temporary
/// folder, deleted at the end. The machine's load average is recorded before and after: it is shared.
/// <para>SKY_BENCH_TRANSFER=local,emulators,memory,kill picks sections (all by default); a pick writes transfer-copy-&lt;sections&gt;.json.</para>
/// </summary>
public static class TransferCopyBench
{
    public const string ChildMode = "transfer-copy-child";

    private static readonly string[] AllSections = ["local", "emulators", "memory", "kill"];

    /// <summary>The sections SKY_BENCH_TRANSFER picks, in their run order; null when unset (all of them).</summary>
    public static string[]? SectionsAsked() =>
        Environment.GetEnvironmentVariable("SKY_BENCH_TRANSFER") is { Length: > 0 } picked
            ? [.. AllSections.Where(s => picked.Split(',', StringSplitOptions.TrimEntries).Contains(s))]
            : null;
    private const long MiB = 1L << 20;
    private const long GiB = 1L << 30;

    public static async Task RunAsync(Figures figures, TimeSpan duration)
    {
        var sections = SectionsAsked() ?? AllSections;
        var root = System.IO.Directory.CreateTempSubdirectory("sky-bench-copy-").FullName;
        figures.Add("cores", Environment.ProcessorCount, 0);
        figures.Add("load_avg_1m_start", LoadAverage(), 2);
        try
        {
            var big = Path.Combine(root, "data", "big", "big.bin");
            await WriteRandomFileAsync(big, GiB, seed: 1);
            if (sections.Contains("local")) await LocalAsync(figures, root, big);
            if (sections.Contains("emulators")) await EmulatorsAsync(figures, root);
            if (sections.Contains("memory")) await MemoryAsync(figures, root);
            if (sections.Contains("kill")) await KillAsync(figures, root, big);
        }
        finally
        {
            figures.Add("load_avg_1m_end", LoadAverage(), 2);
            System.IO.Directory.Delete(root, recursive: true);
        }
    }

    // ---- 1. local folder -> local folder, beside cp -r -------------------------------------------------------------

    private static async Task LocalAsync(Figures figures, string root, string big)
    {
        await using var redis = await BenchRedis.StartAsync();
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{redis.Host}:{redis.Port}");
        var small = await WriteSmallFilesAsync(Path.Combine(root, "data", "small"));
        await WarmUpAsync(figures, root, small.Folder, connection);

        await CompareAsync(figures, "local_1gib", root, Path.GetDirectoryName(big)!, GiB, connection);
        await CompareAsync(figures, "local_10k_files", root, small.Folder, small.Bytes, connection);
        System.IO.Directory.Delete(small.Folder, recursive: true);

        // The same 10,000 files on tmpfs: no disk under either copy, so what is left is each one's own cost per file.
        // On this machine's virtual disk a run's time swings several-fold with the writeback and discards the runs
        // before it left behind (cp -r alike), which the disk figure above carries and this one does not.
        const string Shm = "/dev/shm";
        if (System.IO.Directory.Exists(Shm))
        {
            var shmRoot = System.IO.Directory.CreateDirectory(Path.Combine(Shm, "sky-bench-copy-" + Guid.NewGuid().ToString("N")[..8])).FullName;
            try
            {
                var onShm = await WriteSmallFilesAsync(Path.Combine(shmRoot, "small"));
                await CompareAsync(figures, "tmpfs_10k_files", shmRoot, onShm.Folder, onShm.Bytes, connection);
            }
            finally { System.IO.Directory.Delete(shmRoot, recursive: true); }
        }
        figures.Add("local_goal_ratio", 0.8, 2);
    }

    /// <summary>10,000 files of 1-8 KB in 100 folders.</summary>
    private static async Task<(string Folder, long Bytes)> WriteSmallFilesAsync(string folder)
    {
        long bytes = 0;
        var random = new Random(2);
        for (var i = 0; i < 10_000; i++)
        {
            var data = new byte[random.Next(1024, 8 * 1024)];
            random.NextBytes(data);
            var path = Path.Combine(folder, $"d{i / 100:D3}", $"f{i:D5}.bin");
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, data);
            bytes += data.Length;
        }
        return (folder, bytes);
    }

    /// <summary>
    /// cp -r and the copier's three ways (server-side, streamed through chunks, streamed with checkpoints in Redis) in
    /// five rounds, each way once a round; every run starts after a sync, into a fresh folder deleted (and synced) after,
    /// so none pays for the writeback of another. Each way's ratio is its best time against cp's best, and beside it the
    /// median of the five rounds' ratios (cp's time in a round against the way's): on a shared two-core machine cp's
    /// best is sometimes one lucky run, and a round's pair saw the same load.
    /// </summary>
    private static async Task CompareAsync(Figures figures, string name, string root, string folder, long bytes, IConnectionMultiplexer connection)
    {
        const int Rounds = 5;
        var ways = LocalWays(folder, connection);
        var times = ways.ToDictionary(w => w.Name, _ => new double[Rounds]);
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var (way, copy) in ways)
                times[way][round] = await TimedCopyAsync(root, copy);
        }
        var cp = times["cp"].Min();
        foreach (var (way, _) in ways)
            figures.Add($"{name}_{way}_rounds_s", string.Join(" ", times[way].Select(t => t.ToString("F3", CultureInfo.InvariantCulture))));
        figures.Add($"{name}_bytes", bytes, 0);
        figures.Add($"{name}_cp_s", cp, 3);
        figures.Add($"{name}_cp_mib_s", bytes / MiB / cp, 1);
        foreach (var way in ways.Skip(1).Select(w => w.Name))
        {
            var best = times[way].Min();
            figures.Add($"{name}_{way}_s", best, 3);
            figures.Add($"{name}_{way}_mib_s", bytes / MiB / best, 1);
            figures.Add($"{name}_{way}_ratio", cp / best, 2);
            var ratios = times["cp"].Zip(times[way], (c, w) => c / w).Order().ToArray();
            figures.Add($"{name}_{way}_ratio_median", ratios[Rounds / 2], 2);
        }
    }

    /// <summary>cp -r and the copier's three ways, each copying <paramref name="folder"/> into a folder it is given.</summary>
    private static (string Name, Func<string, Task> Copy)[] LocalWays(string folder, IConnectionMultiplexer connection) =>
    [
        ("cp", dst => CpAsync(folder, dst)),
        ("ours", dst => OursLocalAsync(folder, dst, new MemoryCopyCheckpointStore(), serverSide: true)),
        ("ours_streamed", dst => OursLocalAsync(folder, dst, new MemoryCopyCheckpointStore(), serverSide: false)),
        ("ours_streamed_redis", dst => OursLocalAsync(folder, dst, new RedisCopyCheckpointStore(connection), serverSide: false)),
    ];

    /// <summary>One copy into a fresh folder, after a sync, deleted (and so synced by the next) after; its seconds.</summary>
    private static async Task<double> TimedCopyAsync(string root, Func<string, Task> copy)
    {
        var dst = Path.Combine(root, "dst-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dst);
        await SyncAsync();
        var clock = Stopwatch.StartNew();
        await copy(dst);
        var seconds = clock.Elapsed.TotalSeconds;
        System.IO.Directory.Delete(dst, recursive: true);
        return seconds;
    }

    /// <summary>
    /// Untimed rounds of the copier's ways over the small files until one compiles no method (JitInfo's count stands
    /// still) or 12 have run: the copier's code JIT-compiled and tiered up first, as cp's is compiled already, and little
    /// background compilation left to share the two cores with a timed run. Three fixed rounds were not enough here: the
    /// tiered compiler was busy for several seconds more (a few methods a round still after 12, hence the cap), and the
    /// small-file ratio on ext4 read 0.66-0.69 where the steady state is 0.8-1.0.
    /// </summary>
    private static async Task WarmUpAsync(Figures figures, string root, string folder, IConnectionMultiplexer connection)
    {
        var ours = LocalWays(folder, connection).Skip(1).ToArray();
        var rounds = 0;
        for (long compiled = -1; rounds < 12 && compiled != System.Runtime.JitInfo.GetCompiledMethodCount(); rounds++)
        {
            compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            foreach (var (_, copy) in ours) await TimedCopyAsync(root, copy);
            await Task.Delay(TimeSpan.FromMilliseconds(500)); // the tiered compiler's backlog, queued after its 100 ms call-counting delay
        }
        figures.Add("local_warm_up_rounds", rounds, 0);
    }

    private static async Task SyncAsync()
    {
        using var sync = Process.Start(new ProcessStartInfo("sync")) ?? throw new InvalidOperationException("sync did not start");
        await sync.WaitForExitAsync();
    }

    private static async Task CpAsync(string from, string dst)
    {
        using var cp = Process.Start(new ProcessStartInfo("cp", ["-r", from, Path.Combine(dst, "copy")])) ?? throw new InvalidOperationException("cp did not start");
        await cp.WaitForExitAsync();
        if (cp.ExitCode != 0) throw new InvalidOperationException($"cp -r exited {cp.ExitCode}");
    }

    private static async Task OursLocalAsync(string from, string dst, ICopyCheckpointStore checkpoints, bool serverSide)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(dst, "copy"));
        var request = new CopyRequest(Guid.NewGuid().ToString("N"), new LocalObjectStore(ObjectUri.Parse($"file://{from}/")), "",
            new LocalObjectStore(ObjectUri.Parse($"file://{dst}/copy/")), "");
        var outcome = await Copier(checkpoints).RunAsync(request, new CopyOptions { ServerSideCopy = serverSide }, _ => { }, default);
        if (!outcome.Succeeded) throw new InvalidOperationException($"the copy failed: {outcome.Failures[0]}");
        await Copier(checkpoints).ForgetAsync(request.TransferId, default);
    }

    // ---- 2. s3rver -> azurite, beside rclone copy ------------------------------------------------------------------

    private static async Task EmulatorsAsync(Figures figures, string root)
    {
        await using var s3rver = await Emulator.StartAsync("s3rver", root, port => ["-d", "{dir}", "-a", "127.0.0.1", "-p", port, "--silent"]);
        await using var azurite = await Emulator.StartAsync("azurite-blob", root,
            port => ["--blobHost", "127.0.0.1", "--blobPort", port, "--location", "{dir}", "--skipApiVersionCheck", "--disableTelemetry", "--silent"]);
        if (s3rver is null || azurite is null)
        {
            figures.Add("emulators", "skipped: s3rver or azurite-blob not in SKY_NPM_BIN or on PATH (npm install s3rver@3.7.1 azurite@3.35.0)");
            return;
        }
        var options = new ObjectStoreOptions
        {
            S3ServiceUrl = s3rver.Endpoint, S3AccessKey = "S3RVER", S3SecretKey = "S3RVER",
            AzureEndpoint = azurite.Endpoint, AzureAccountKey = AzuriteKey, AzureServiceVersion = "2025-11-05",
        };
        await using var stores = new ObjectStores(options);
        using var s3 = S3ObjectStore.CreateClient(options);
        await s3.PutBucketAsync("bench-source");
        var source = stores.Open(ObjectUri.Parse("s3://bench-source/"));
        var object16 = new byte[16 * MiB];
        for (var i = 0; i < 64; i++)
        {
            new Random(100 + i).NextBytes(object16);
            await source.PutAsync($"set/obj-{i:D2}.bin", object16);
        }
        var blobs = AzureBlobObjectStore.CreateServiceClient(options, "devstoreaccount1");

        Func<string, Task<TimeSpan>> Ours(CopyOptions copyOptions, string name) => async container =>
        {
            var request = new CopyRequest(Guid.NewGuid().ToString("N"), source, "set/", stores.Open(ObjectUri.Parse($"az://devstoreaccount1/{container}/")), "");
            var outcome = await Copier(new MemoryCopyCheckpointStore()).RunAsync(request, copyOptions, _ => { }, default);
            if (!outcome.Succeeded) throw new InvalidOperationException($"the copy failed: {outcome.Failures[0]}");
            figures.Add($"emu_{name}_checks", string.Join(" ", outcome.Checks.Select(c => $"{c.Key}={c.Value}")));
            return TimeSpan.Zero; // this process's CPU is measured around the call
        };
        var ours = await BestEmulatorRunAsync(s3rver, azurite, blobs, Ours(new CopyOptions(), "ours"));
        // Without the second pass over each object's bytes for the whole-object MD5 (chunks still checked by Azure).
        var oursNoDigest = await BestEmulatorRunAsync(s3rver, azurite, blobs, Ours(new CopyOptions { WholeObjectDigest = false }, "ours_no_digest"));
        var rclone = await BestEmulatorRunAsync(s3rver, azurite, blobs, container => RcloneAsync(s3rver, azurite, container));
        foreach (var (name, run) in new[] { ("ours", ours), ("ours_no_digest", oursNoDigest), ("rclone", rclone) })
        {
            figures.Add($"emu_{name}_s", run.Seconds, 2);
            figures.Add($"emu_{name}_mib_s", GiB / MiB / run.Seconds, 1);
            figures.Add($"emu_{name}_s3rver_cpu_s", run.S3rverCpu, 2);
            figures.Add($"emu_{name}_azurite_cpu_s", run.AzuriteCpu, 2);
            figures.Add($"emu_{name}_copier_cpu_s", run.CopierCpu, 2);
        }
        figures.Add("emu_ratio_no_digest", rclone.Seconds / oursNoDigest.Seconds, 2);
        figures.Add("emu_ratio", rclone.Seconds / ours.Seconds, 2);
        figures.Add("emu_goal_ratio", 1.0, 2);
    }

    private sealed record EmulatorRun(double Seconds, double S3rverCpu, double AzuriteCpu, double CopierCpu);

    /// <summary>The faster of two runs into fresh containers, with each emulator's CPU seconds and the copier's (this process, or rclone).</summary>
    private static async Task<EmulatorRun> BestEmulatorRunAsync(Emulator s3rver, Emulator azurite, BlobServiceClient blobs, Func<string, Task<TimeSpan>> copy)
    {
        EmulatorRun? best = null;
        for (var run = 0; run < 2; run++)
        {
            var container = "bench-" + Guid.NewGuid().ToString("N")[..12];
            await blobs.CreateBlobContainerAsync(container);
            var (s3Before, azBefore, selfBefore) = (s3rver.CpuSeconds(), azurite.CpuSeconds(), Environment.CpuUsage.TotalTime);
            var clock = Stopwatch.StartNew();
            var child = await copy(container);
            var seconds = clock.Elapsed.TotalSeconds;
            var copier = child > TimeSpan.Zero ? child.TotalSeconds : (Environment.CpuUsage.TotalTime - selfBefore).TotalSeconds;
            var result = new EmulatorRun(seconds, s3rver.CpuSeconds() - s3Before, azurite.CpuSeconds() - azBefore, copier);
            long bytes = 0;
            await foreach (var blob in blobs.GetBlobContainerClient(container).GetBlobsAsync()) bytes += blob.Properties.ContentLength ?? 0;
            if (bytes != GiB) throw new InvalidOperationException($"the container holds {bytes} bytes after the copy, not {GiB}");
            await blobs.DeleteBlobContainerAsync(container);
            if (best is null || result.Seconds < best.Seconds) best = result;
        }
        return best!;
    }

    /// <summary>rclone copy between the same emulators (configured through its environment); returns its CPU time.</summary>
    private static async Task<TimeSpan> RcloneAsync(Emulator s3rver, Emulator azurite, string container)
    {
        var psi = new ProcessStartInfo("rclone", ["copy", "src:bench-source/set", $"dst:{container}"]) { RedirectStandardError = true };
        psi.Environment.Remove("AWS_CA_BUNDLE");
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["RCLONE_CONFIG_SRC_TYPE"] = "s3", ["RCLONE_CONFIG_SRC_PROVIDER"] = "Other", ["RCLONE_CONFIG_SRC_ENDPOINT"] = s3rver.Endpoint,
            ["RCLONE_CONFIG_SRC_ACCESS_KEY_ID"] = "S3RVER", ["RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY"] = "S3RVER", ["RCLONE_CONFIG_SRC_FORCE_PATH_STYLE"] = "true",
            ["RCLONE_CONFIG_DST_TYPE"] = "azureblob", ["RCLONE_CONFIG_DST_USE_EMULATOR"] = "true",
            ["RCLONE_CONFIG_DST_ENDPOINT"] = azurite.Endpoint + "/devstoreaccount1",
        }) psi.Environment[key] = value;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("rclone did not start (apt-get install rclone)");
        var errors = process.StandardError.ReadToEndAsync();
        // Its CPU, read from /proc while it runs (gone once it is reaped).
        var cpu = 0.0;
        while (!process.HasExited)
        {
            cpu = Math.Max(cpu, Emulator.CpuSecondsOf(process.Id));
            await Task.Delay(50);
        }
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"rclone exited {process.ExitCode}: {await errors}");
        return TimeSpan.FromSeconds(Math.Max(cpu, 0.001));
    }

    // ---- 3. peak memory copying a 2 GiB object ---------------------------------------------------------------------

    private static async Task MemoryAsync(Figures figures, string root)
    {
        var source = Path.Combine(root, "mem-src", "two.bin");
        await WriteRandomFileAsync(source, 2 * GiB, seed: 3);
        foreach (var (name, serverGc) in new[] { ("mem", true), ("mem_workstation_gc", false) })
        {
            var dst = System.IO.Directory.CreateDirectory(Path.Combine(root, "mem-dst-" + name)).FullName;
            var psi = new ProcessStartInfo("dotnet", [typeof(TransferCopyBench).Assembly.Location, ChildMode, "memory", Path.GetDirectoryName(source)!, dst])
            { RedirectStandardOutput = true };
            psi.Environment["DOTNET_gcServer"] = serverGc ? "1" : "0";
            using var child = Process.Start(psi)!;
            var output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            if (child.ExitCode != 0) throw new InvalidOperationException($"the memory child exited {child.ExitCode}: {output}");
            using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            var r = json.RootElement;
            figures.Add($"{name}_peak_rss_mib", r.GetProperty("rss_hwm").GetDouble() / MiB, 1);
            figures.Add($"{name}_peak_heap_mib", r.GetProperty("heap_peak").GetDouble() / MiB, 1);
            figures.Add($"{name}_copy_s", r.GetProperty("seconds").GetDouble(), 2);
            System.IO.Directory.Delete(dst, recursive: true);
        }
        figures.Add("mem_object_bytes", 2 * GiB, 0);
        figures.Add("mem_goal_mib", 256, 0);
        File.Delete(source);
    }

    /// <summary>The memory child: copies the folder's object (streamed through the copier, default options) and prints its peaks.</summary>
    private static async Task<int> MemoryChildAsync(string from, string to)
    {
        var heapPeak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                heapPeak = Math.Max(heapPeak, GC.GetTotalMemory(false));
                await Task.Delay(10);
            }
        });
        var clock = Stopwatch.StartNew();
        var request = new CopyRequest("memory", new LocalObjectStore(ObjectUri.Parse($"file://{from}/")), "",
            new LocalObjectStore(ObjectUri.Parse($"file://{to}/")), "");
        var outcome = await Copier(new MemoryCopyCheckpointStore()).RunAsync(request, new CopyOptions { ServerSideCopy = false }, _ => { }, default);
        var seconds = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        if (!outcome.Succeeded) throw new InvalidOperationException($"the copy failed: {outcome.Failures[0]}");
        Console.WriteLine(JsonSerializer.Serialize(new { rss_hwm = StatusBytes("VmHWM"), heap_peak = heapPeak, seconds }));
        return 0;
    }

    // ---- 4. kill -9 at 50 %, then run again ------------------------------------------------------------------------

    private static async Task KillAsync(Figures figures, string root, string big)
    {
        await using var redis = await BenchRedis.StartAsync();
        var dst = System.IO.Directory.CreateDirectory(Path.Combine(root, "kill-dst")).FullName;
        var from = Path.GetDirectoryName(big)!;
        const string id = "kill-bench";
        string[] args = [typeof(TransferCopyBench).Assembly.Location, ChildMode, "copy", redis.Uri, id, from, dst];

        // First run: killed with SIGKILL once half the bytes are copied and verified.
        var sentBeforeKill = 0L;
        var doneAtKill = 0L;
        using (var first = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true })!)
        {
            while (await first.StandardOutput.ReadLineAsync() is { } line)
            {
                var parts = line.Split(' ');
                if (parts[0] == "sent") sentBeforeKill = long.Parse(parts[1], CultureInfo.InvariantCulture);
                if (parts[0] == "done" && long.Parse(parts[1], CultureInfo.InvariantCulture) >= GiB / 2)
                {
                    doneAtKill = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    first.Kill(); // SIGKILL
                    break;
                }
            }
            await first.WaitForExitAsync();
            // Lines it wrote before dying: a part it began sending counts as sent.
            while (await first.StandardOutput.ReadLineAsync() is { } line)
                if (line.StartsWith("sent ", StringComparison.Ordinal)) sentBeforeKill = long.Parse(line[5..], CultureInfo.InvariantCulture);
        }
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{redis.Host}:{redis.Port}");
        var stopped = await new RedisCopyCheckpointStore(connection).LoadAsync(id, default)
            ?? throw new InvalidOperationException("no checkpoint after the kill");

        // Second run, a new process on the same checkpoint.
        using var second = Process.Start(new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true })!;
        var output = await second.StandardOutput.ReadToEndAsync();
        await second.WaitForExitAsync();
        var result = output.Split('\n').Single(l => l.StartsWith("result ", StringComparison.Ordinal))["result ".Length..];
        using var json = JsonDocument.Parse(result);
        var r = json.RootElement;
        var sentAfter = r.GetProperty("sent").GetInt64();
        var resent = r.GetProperty("resent").GetInt64();
        var identical = await HashAsync(big) == await HashAsync(Path.Combine(dst, "big.bin"));
        var options = new CopyOptions();

        figures.Add("kill_object_bytes", GiB, 0);
        figures.Add("kill_at_fraction", (double)doneAtKill / GiB, 3);
        figures.Add("kill_in_flight_bytes", stopped.BytesInFlight, 0);
        figures.Add("kill_in_flight_chunks", stopped.Uploads.Values.Sum(u => u.PartsInFlight.Count), 0);
        figures.Add("kill_resent_bytes", resent, 0);
        // Measured from the sends themselves: what both processes began sending, less the object.
        figures.Add("kill_sent_twice_bytes", sentBeforeKill + sentAfter - GiB, 0);
        figures.Add("kill_bound_bytes", options.MaxChunksInFlight * options.ChunkSize, 0);
        figures.Add("kill_resumes", r.GetProperty("resumes").GetInt64(), 0);
        figures.Add("kill_second_run_s", r.GetProperty("seconds").GetDouble(), 2);
        figures.Add("kill_identical", identical ? "yes" : "no");
        figures.Add("kill_goal_met", identical && resent <= stopped.BytesInFlight && sentBeforeKill + sentAfter - GiB <= resent ? "yes" : "no");
        await connection.GetDatabase().KeyDeleteAsync(RedisCopyCheckpointStore.Key(id));
    }

    /// <summary>
    /// The kill child: copies the folder's object (streamed, Redis checkpoint) printing "sent N" as each part starts
    /// going out (N: bytes begun so far) and "done N" as progress moves, then "result {json}".
    /// </summary>
    private static async Task<int> CopyChildAsync(string redisUri, string id, string from, string to)
    {
        var uri = new Uri(redisUri);
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port}");
        var destination = new SendCounter(new LocalObjectStore(ObjectUri.Parse($"file://{to}/")));
        var request = new CopyRequest(id, new LocalObjectStore(ObjectUri.Parse($"file://{from}/")), "", destination, "");
        var clock = Stopwatch.StartNew();
        var outcome = await Copier(new RedisCopyCheckpointStore(connection)).RunAsync(request, new CopyOptions { ServerSideCopy = false },
            p => Console.WriteLine($"done {p.BytesDone}"), default);
        Console.WriteLine("result " + JsonSerializer.Serialize(new
        {
            sent = destination.Sent, resent = outcome.Final.BytesResent, resumes = outcome.Resumes, seconds = clock.Elapsed.TotalSeconds, ok = outcome.Succeeded,
        }));
        return outcome.Succeeded ? 0 : 1;
    }

    /// <summary>Counts (and prints) the bytes of each part as it starts going to the store.</summary>
    private sealed class SendCounter(IObjectStore inner) : IObjectStore
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);
        public ObjectUri Root => inner.Root;
        public StoreCapabilities Capabilities => inner.Capabilities;

        public Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
            IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
        {
            Console.WriteLine($"sent {Interlocked.Add(ref _sent, data.Length)}");
            return inner.UploadPartAsync(upload, partNumber, data, checksums, ct);
        }

        public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
        {
            Console.WriteLine($"sent {Interlocked.Add(ref _sent, data.Length)}");
            return inner.PutAsync(key, data, options, ct);
        }

        public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => inner.VerifyAccessAsync(access, ct);
        public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default) => inner.ListAsync(prefix, pageToken, pageSize, ct);
        public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default) => inner.StatAsync(key, ct);
        public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default) => inner.OpenReadAsync(key, offset, length, ifVersion, ct);
        public Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default) => inner.ReadAsync(key, offset, buffer, ifVersion, ct);
        public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default) => inner.BeginUploadAsync(key, partSize, contentType, ct);
        public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default) => inner.CompleteUploadAsync(upload, parts, ct);
        public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default) => inner.AbortUploadAsync(upload, ct);
        public bool CanCopyFrom(IObjectStore source) => false;
        public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default) => throw new NotSupportedException();
        public Task DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>The child processes: <c>memory FROM TO</c> and <c>copy REDIS ID FROM TO</c>.</summary>
    public static Task<int> ChildAsync(string[] args) => args switch
    {
        ["memory", var from, var to] => MemoryChildAsync(from, to),
        ["copy", var redis, var id, var from, var to] => CopyChildAsync(redis, id, from, to),
        _ => throw new ArgumentException($"{ChildMode}: unknown arguments {string.Join(' ', args)}"),
    };

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static ObjectCopier Copier(ICopyCheckpointStore checkpoints) => new(checkpoints, TimeProvider.System, NullLogger<ObjectCopier>.Instance);

    /// <summary>A file of pseudo-random bytes, written 8 MiB at a time.</summary>
    private static async Task WriteRandomFileAsync(string path, long size, int seed)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var block = new byte[8 * MiB];
        var random = new Random(seed);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        for (long written = 0; written < size; written += block.Length)
        {
            random.NextBytes(block);
            await file.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - written)));
        }
    }

    private static async Task<string> HashAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
    }

    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>A /proc/self/status figure given in kB, in bytes.</summary>
    private static long StatusBytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>An npm emulator on a free loopback port with a data folder under the bench's; null when its binary is not found.</summary>
    private sealed class Emulator(Process process) : IAsyncDisposable
    {
        public required string Endpoint { get; init; }

        public static async Task<Emulator?> StartAsync(string binary, string root, Func<string, string[]> arguments)
        {
            var dirs = new List<string>();
            if (Environment.GetEnvironmentVariable("SKY_NPM_BIN") is { Length: > 0 } npmBin) dirs.Add(npmBin);
            dirs.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
            var path = dirs.Select(d => Path.Combine(d, binary)).FirstOrDefault(File.Exists);
            if (path is null) return null;
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var data = System.IO.Directory.CreateDirectory(Path.Combine(root, binary + "-data")).FullName;
            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments(port.ToString(CultureInfo.InvariantCulture))) psi.ArgumentList.Add(argument == "{dir}" ? data : argument);
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            for (var i = 0; i < 300; i++)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return new Emulator(process) { Endpoint = $"http://127.0.0.1:{port}" };
                }
                catch (SocketException) { await Task.Delay(100); }
            }
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{binary} did not listen on port {port} within 30 s");
        }

        public double CpuSeconds() => CpuSecondsOf(process.Id);

        /// <summary>utime + stime of a live process from /proc/PID/stat (fields 14 and 15, after the command's closing parenthesis).</summary>
        public static double CpuSecondsOf(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException) { return 0; }
        }

        public ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            process.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
