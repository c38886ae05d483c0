using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Local;

namespace Sky.Transfer.Tests.Execution;

/// <summary>The copier between local folders: what it copies where, how it verifies, and what it does when things go wrong.</summary>
public sealed class ObjectCopierTests : IDisposable
{
    private const int Chunk = 64 * 1024;
    private readonly LocalFolders _folders = new();
    private readonly MemoryCopyCheckpointStore _checkpoints = new();

    public void Dispose() => _folders.Dispose();

    private static CopyOptions Streamed => LocalFolders.SmallChunks with { ServerSideCopy = false };

    private CopyRequest Request(string sourcePrefix = "", string destinationPrefix = "", IObjectStore? source = null, IObjectStore? destination = null,
        string id = "t1") =>
        new(id, source ?? _folders.Source, sourcePrefix, destination ?? _folders.Destination, destinationPrefix);

    private Task<(CopyOutcome Outcome, List<CopyProgress> Reports)> CopyAsync(CopyRequest request, CopyOptions? options = null, CancellationToken ct = default) =>
        LocalFolders.RunAsync(LocalFolders.Copier(_checkpoints), request, options ?? Streamed, ct);

    [Fact]
    public async Task A_folder_prefix_copies_every_object_below_it_chunked_and_verified()
    {
        var small = _folders.Write("data/a.bin", 1000, 1);
        var big = _folders.Write("data/sub/b.bin", (5 * Chunk) + 123, 2);
        var empty = _folders.Write("data/empty", 0, 3);
        _folders.Write("other/c.bin", 10, 4);

        var (outcome, reports) = await CopyAsync(Request("data/", "out/"));

        Assert.True(outcome.Succeeded);
        Assert.Equal(["out/a.bin", "out/empty", "out/sub/b.bin"], _folders.DestinationKeys());
        Assert.Equal(small, _folders.Copied("out/a.bin"));
        Assert.Equal(big, _folders.Copied("out/sub/b.bin"));
        Assert.Equal(empty, _folders.Copied("out/empty"));
        var total = small.Length + big.Length;
        Assert.Equal(new CopyProgress(total, total, 3, 3, 0, 0, Listed: true), outcome.Final);
        Assert.Equal(0, outcome.Resumes);
        Assert.Equal(3, outcome.Checks["chunks:crc32c"]);
        Assert.Equal(3, outcome.Checks["size"]);
        // Progress: listing first, then never backwards, ending at the totals.
        Assert.False(reports[0].Listed);
        var copying = reports.Where(r => r.Listed).ToList();
        Assert.True(copying.Zip(copying.Skip(1)).All(p => p.Second.BytesDone >= p.First.BytesDone && p.Second.ObjectsDone >= p.First.ObjectsDone));
        Assert.Equal(outcome.Final, copying[^1]);
        Assert.True(copying.Count >= 6 + 3, "a report after each chunk and each object");
        Assert.Equal(0, _folders.OpenUploads());
    }

    [Theory]
    [InlineData("data/a.bin", "out/", "out/a.bin")]
    [InlineData("data/a.bin", "renamed.bin", "renamed.bin")]
    [InlineData("data/a.bin", "", "a.bin")]
    [InlineData("data", "out", "out/data/a.bin out/data/sub/b.bin out/database.csv")]
    [InlineData("data/s", "x/", "x/sub/b.bin")]
    [InlineData("", "", "data/a.bin data/sub/b.bin database.csv")]
    [InlineData("data/", "", "a.bin sub/b.bin")]
    public async Task Prefixes_map_keys_as_transfer_proto_says(string sourcePrefix, string destinationPrefix, string expected)
    {
        _folders.Write("data/a.bin", 10, 1);
        _folders.Write("data/sub/b.bin", 20, 2);
        _folders.Write("database.csv", 30, 3);

        var (outcome, _) = await CopyAsync(Request(sourcePrefix, destinationPrefix));

        Assert.True(outcome.Succeeded);
        Assert.Equal(expected.Split(' '), _folders.DestinationKeys());
    }

    [Fact]
    public async Task Local_folders_copy_server_side_unless_told_to_stream()
    {
        var data = _folders.Write("big.bin", (3 * Chunk) + 5, 5);

        var (serverSide, _) = await CopyAsync(Request(), LocalFolders.SmallChunks, default);
        Assert.Equal(data, _folders.Copied("big.bin"));
        Assert.Equal(new Dictionary<string, long> { ["server-side-copy"] = 1, ["size"] = 1 }, serverSide.Checks);

        var (streamed, _) = await CopyAsync(Request(id: "t2"), Streamed);
        Assert.Equal(data, _folders.Copied("big.bin"));
        Assert.Equal(new Dictionary<string, long> { ["chunks:crc32c"] = 1, ["size"] = 1 }, streamed.Checks);
    }

    [Fact]
    public async Task Bad_input_fails_before_any_byte_moves()
    {
        _folders.Write("a.bin", 100, 1);
        var missing = new LocalObjectStore(ObjectUri.Parse($"file://{_folders.SourcePath}-missing/"));

        async Task<CopyPrecondition> Problem(CopyRequest request) =>
            (await Assert.ThrowsAsync<CopyPreconditionException>(() => CopyAsync(request))).Problem;

        Assert.Equal(CopyPrecondition.SourceNotFound, await Problem(Request(source: missing)));
        Assert.Equal(CopyPrecondition.DestinationNotFound, await Problem(Request(destination: missing)));
        Assert.Equal(CopyPrecondition.PermissionDenied, await Problem(Request(destination: new FaultyStore(_folders.Destination) { DenyWrite = true })));
        var nothing = await Assert.ThrowsAsync<CopyPreconditionException>(() => CopyAsync(Request("no-such-prefix/")));
        Assert.Equal(CopyPrecondition.NothingToCopy, nothing.Problem);
        Assert.Contains("no-such-prefix/", nothing.Message, StringComparison.Ordinal);
        Assert.Equal(CopyPrecondition.InvalidRequest, await Problem(Request(destinationPrefix: ".sky-uploads/x/")));
        Assert.Equal(CopyPrecondition.InvalidRequest, await Problem(Request(id: " ")));

        Assert.Empty(_folders.DestinationKeys());
        Assert.Null(await _checkpoints.LoadAsync("t1", default));
    }

    [Fact]
    public async Task A_checkpoint_of_another_copy_is_refused()
    {
        _folders.Write("a/x", 10, 1);
        _folders.Write("b/y", 10, 2);
        await CopyAsync(Request("a/"));

        var e = await Assert.ThrowsAsync<CopyPreconditionException>(() => CopyAsync(Request("b/")));
        Assert.Equal(CopyPrecondition.CheckpointMismatch, e.Problem);
    }

    [Fact]
    public async Task A_chunk_corrupted_on_the_way_once_is_sent_again_and_counted_as_resent()
    {
        var big = _folders.Write("big.bin", 5 * Chunk, 1);
        var small = _folders.Write("small.bin", 500, 2);
        var destination = new FaultyStore(_folders.Destination) { CorruptWrite = (key, part, attempt) => attempt == 1 && part is 0 or 3 };

        var (outcome, _) = await CopyAsync(Request(destination: destination));

        Assert.True(outcome.Succeeded);
        Assert.Equal(big, _folders.Copied("big.bin"));
        Assert.Equal(small, _folders.Copied("small.bin"));
        Assert.Equal(Chunk + small.Length, outcome.Final.BytesResent);
        Assert.Equal(big.Length + small.Length, outcome.Final.BytesDone);
    }

    [Fact]
    public async Task A_chunk_corrupted_every_time_fails_its_object_loudly_and_the_rest_is_copied()
    {
        _folders.Write("a-big.bin", 5 * Chunk, 1);
        var other = _folders.Write("b-other.bin", 3 * Chunk, 2);
        var destination = new FaultyStore(_folders.Destination) { CorruptWrite = (key, part, _) => key == "a-big.bin" && part == 2 };

        var (outcome, _) = await CopyAsync(Request(destination: destination), Streamed with { ChunkRetries = 2 });

        var failure = Assert.Single(outcome.Failures);
        Assert.Equal("a-big.bin", failure.SourceKey);
        Assert.Contains("checksum mismatch", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("part 2", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("sent 3 times", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(1, outcome.Final.ObjectsFailed);
        Assert.Equal(1, outcome.Final.ObjectsDone);
        Assert.Equal(other.Length, outcome.Final.BytesDone);
        Assert.Equal(2 * Chunk, outcome.Final.BytesResent);
        Assert.Equal(["b-other.bin"], _folders.DestinationKeys());
        Assert.Equal(0, _folders.OpenUploads()); // the failed object's upload was aborted
    }

    [Fact]
    public async Task Bytes_read_wrong_fail_the_object_against_the_checksum_the_source_reports()
    {
        var big = _folders.Write("a-big.bin", 5 * Chunk, 1);
        var small = _folders.Write("b-small.bin", 1000, 2);
        var reads = 0;
        var source = new FaultyStore(_folders.Source)
        {
            ReportCrc32C = true,
            // Every read of the big object's third chunk, and the small object's first read only.
            CorruptRead = (key, offset) => (key == "a-big.bin" && offset == 2 * Chunk) || (key == "b-small.bin" && Interlocked.Increment(ref reads) == 1),
        };

        var (outcome, _) = await CopyAsync(Request(source: source));

        var failure = Assert.Single(outcome.Failures);
        Assert.Equal("a-big.bin", failure.SourceKey);
        Assert.Contains("the source reports crc32c:", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("deleted", failure.Reason, StringComparison.Ordinal);
        Assert.False(_folders.IsCopied("a-big.bin"), "a copy that fails its whole-object check is not left behind");
        Assert.Equal(small, _folders.Copied("b-small.bin"));
        Assert.Equal(1, outcome.Checks["source:crc32c"]);
        Assert.Equal(big.Length, outcome.Final.BytesTotal - small.Length);
    }

    [Fact]
    public async Task A_source_replaced_mid_copy_fails_that_object_as_changed_instead_of_mixing_versions()
    {
        _folders.Write("a-big.bin", 5 * Chunk, 1);
        var other = _folders.Write("b-other.bin", 100, 2);
        var replaced = 0;
        var source = new FaultyStore(_folders.Source)
        {
            BeforeRead = (key, offset) =>
            {
                if (key == "a-big.bin" && offset == 3 * Chunk && Interlocked.Exchange(ref replaced, 1) == 0)
                {
                    var path = Path.Combine(_folders.SourcePath, key);
                    File.WriteAllBytes(path, LocalFolders.Bytes(5 * Chunk, 9));
                    File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
                }
                return Task.CompletedTask;
            },
        };

        var (outcome, _) = await CopyAsync(Request(source: source));

        var failure = Assert.Single(outcome.Failures);
        Assert.Equal("a-big.bin", failure.SourceKey);
        Assert.Contains("changed since it was listed", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(["b-other.bin"], _folders.DestinationKeys());
        Assert.Equal(other, _folders.Copied("b-other.bin"));
        Assert.Equal(0, _folders.OpenUploads());
    }

    [Fact]
    public async Task A_source_replaced_after_listing_fails_its_server_side_copy_as_changed()
    {
        _folders.Write("a.bin", 3000, 1);
        var other = _folders.Write("b.bin", 200, 2);
        var replaced = 0;
        // The first report of a listed source comes before any object is copied.
        var outcome = await LocalFolders.Copier(_checkpoints).RunAsync(Request(), LocalFolders.SmallChunks, progress =>
        {
            if (!progress.Listed || Interlocked.Exchange(ref replaced, 1) != 0) return;
            var path = Path.Combine(_folders.SourcePath, "a.bin");
            File.WriteAllBytes(path, LocalFolders.Bytes(3000, 9));
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        }, default);

        var failure = Assert.Single(outcome.Failures);
        Assert.Equal("a.bin", failure.SourceKey);
        Assert.Contains("changed since it was listed", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(["b.bin"], _folders.DestinationKeys());
        Assert.Equal(other, _folders.Copied("b.bin"));
    }

    [Fact]
    public async Task Many_small_objects_copied_server_side_each_count_once_in_groups()
    {
        var files = Enumerable.Range(0, 50).Select(i => (Key: $"d{i % 3}/f{i:D2}", Data: _folders.Write($"d{i % 3}/f{i:D2}", 10 + i, i))).ToList();

        var (outcome, reports) = await CopyAsync(Request(), LocalFolders.SmallChunks with { MaxObjectsInFlight = 8 });

        Assert.True(outcome.Succeeded);
        Assert.Equal(50, outcome.Final.ObjectsDone);
        Assert.Equal(files.Sum(f => (long)f.Data.Length), outcome.Final.BytesDone);
        Assert.Equal(50, outcome.Checks["server-side-copy"]);
        foreach (var (key, data) in files) Assert.Equal(data, _folders.Copied(key));
        // Progress never goes back and never passes the total.
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.ObjectsDone >= p.First.ObjectsDone && p.Second.BytesDone <= p.Second.BytesTotal));
    }

    [Fact]
    public async Task Transient_failures_are_retried_and_give_up_after_the_retries()
    {
        var data = _folders.Write("big.bin", 4 * Chunk, 1);
        var flaky = new FaultyStore(_folders.Destination) { TransientWriteFailures = 3 };

        var (outcome, _) = await CopyAsync(Request(destination: flaky), Streamed with { MaxChunksInFlight = 1 });

        Assert.True(outcome.Succeeded);
        Assert.Equal(data, _folders.Copied("big.bin"));
        Assert.Equal(3 * Chunk, outcome.Final.BytesResent); // part 1, sent four times

        var down = new FaultyStore(_folders.Destination) { TransientWriteFailures = 1000 };
        var (failed, _) = await CopyAsync(Request(destination: down, id: "t2"), Streamed with { TransientRetries = 2 });
        Assert.Contains("injected transient failure", Assert.Single(failed.Failures).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_copy_resumes_from_its_checkpoint_re_sending_only_the_chunks_in_flight()
    {
        var data = _folders.Write("big.bin", (40 * Chunk) + 77, 1);
        var options = Streamed with { MaxChunksInFlight = 4 };
        var stopping = new FaultyStore(_folders.Destination) { BlockPartsAfter = 10 };
        using var cts = new CancellationTokenSource();
        var first = CopyAsync(Request(destination: stopping), options, cts.Token);
        await WaitForAsync(() => Interlocked.Read(ref stopping.BlockedBytes) == 4 * Chunk);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        var stopped = await _checkpoints.LoadAsync("t1", default);
        Assert.Equal(4 * Chunk, stopped!.BytesInFlight);

        // A fresh copier, as in a restarted process, on the same checkpoint store.
        var counting = new FaultyStore(_folders.Destination);
        var (outcome, _) = await LocalFolders.RunAsync(LocalFolders.Copier(_checkpoints), Request(destination: counting), options);

        Assert.True(outcome.Succeeded);
        Assert.Equal(1, outcome.Resumes);
        Assert.Equal(data, _folders.Copied("big.bin"));
        Assert.True(outcome.Final.BytesResent <= options.MaxChunksInFlight * Chunk);
        Assert.Equal(stopping.BlockedBytes, outcome.Final.BytesResent);
        // Every byte sent twice is counted, and nothing else: both runs together sent the object plus the re-sent bytes.
        Assert.Equal(data.Length + outcome.Final.BytesResent, stopping.BytesSent + counting.BytesSent);
        Assert.Equal(data.Length, outcome.Final.BytesDone);
    }

    [Fact]
    public async Task Many_small_files_resume_after_the_checkpoint_store_stops_mid_copy()
    {
        var files = Enumerable.Range(0, 200).Select(i => (Key: $"f/{i:D4}", Data: _folders.Write($"f/{i:D4}", 1000 + i, i))).ToList();
        var failing = new FailingCheckpointStore(_checkpoints) { FailAfterWrites = 40 };
        var crash = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            LocalFolders.RunAsync(LocalFolders.Copier(failing), Request(), Streamed));
        Assert.Contains("injected", crash.Message, StringComparison.Ordinal);
        var stopped = await _checkpoints.LoadAsync("t1", default);
        Assert.InRange(stopped!.Finished.Count, 1, 199);

        var (outcome, _) = await CopyAsync(Request());

        Assert.True(outcome.Succeeded);
        Assert.Equal(1, outcome.Resumes);
        Assert.Equal(stopped.BytesInFlight, outcome.Final.BytesResent);
        Assert.True(outcome.Final.BytesResent <= Streamed.MaxObjectsInFlight * 1200L);
        foreach (var (key, data) in files) Assert.Equal(data, _folders.Copied(key));
        Assert.Equal(200, outcome.Final.ObjectsDone);
    }

    [Fact]
    public async Task Checkpoint_writes_are_batched_and_an_object_counts_only_once_its_write_is_stored()
    {
        foreach (var i in Enumerable.Range(0, 300)) _folders.Write($"f/{i:D4}", 500, i);
        var slow = new FailingCheckpointStore(_checkpoints) { Latency = TimeSpan.FromMilliseconds(2) };
        var reports = new List<CopyProgress>();
        var outcome = await LocalFolders.Copier(slow).RunAsync(Request(), Streamed with { MaxObjectsInFlight = 32, MaxBufferBytes = 4 << 20 }, p =>
        {
            lock (reports) reports.Add(p);
            // What progress counts done, the checkpoint already has.
            if (p.Listed) Assert.True(slow.FinishedStored >= p.ObjectsDone);
        }, default);

        Assert.Equal(300, outcome.Final.ObjectsDone);
        Assert.Equal(600, slow.Updates); // in flight, then finished
        Assert.True(slow.Writes < 150, $"{slow.Writes} checkpoint writes for 600 updates");
    }

    [Fact]
    public async Task An_upload_completed_but_not_recorded_is_verified_by_reading_it_back()
    {
        var data = _folders.Write("big.bin", (6 * Chunk) + 1, 1);
        var failing = new FailingCheckpointStore(_checkpoints) { FailOn = u => u is CheckpointUpdate.ObjectFinished };
        await Assert.ThrowsAsync<InvalidOperationException>(() => LocalFolders.RunAsync(LocalFolders.Copier(failing), Request(), Streamed));
        Assert.Equal(data, _folders.Copied("big.bin")); // completed at the destination, not in the checkpoint

        var counting = new FaultyStore(_folders.Destination);
        var (outcome, _) = await CopyAsync(Request(destination: counting));

        Assert.True(outcome.Succeeded);
        Assert.Equal(1, outcome.Checks[ObjectChecks.ReadBack]);
        Assert.Equal(0, counting.BytesSent);
        Assert.Equal(0, outcome.Final.BytesResent);
    }

    [Fact]
    public async Task Chunk_buffers_stay_under_the_cap_whatever_the_object_size()
    {
        _folders.Write("big.bin", 64 * Chunk, 1);
        var watching = new ConcurrencyWatch(_folders.Destination);
        var options = Streamed with { MaxChunksInFlight = 16, MaxBufferBytes = 4 * Chunk };

        var (outcome, _) = await CopyAsync(Request(destination: watching), options);

        Assert.True(outcome.Succeeded);
        Assert.InRange(watching.MostAtOnce, 1, 4);
    }

    [Fact]
    public async Task Abort_aborts_the_open_uploads_and_forgets_the_checkpoint()
    {
        _folders.Write("big.bin", 10 * Chunk, 1);
        var stopping = new FaultyStore(_folders.Destination) { BlockPartsAfter = 2 };
        using var cts = new CancellationTokenSource();
        var run = CopyAsync(Request(destination: stopping), Streamed, cts.Token);
        await WaitForAsync(() => Interlocked.Read(ref stopping.BlockedBytes) > 0);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, _folders.OpenUploads());

        await LocalFolders.Copier(_checkpoints).AbortAsync(Request(), default);

        Assert.Equal(0, _folders.OpenUploads());
        Assert.Null(await _checkpoints.LoadAsync("t1", default));
        Assert.Empty(_folders.DestinationKeys());
    }

    [Fact]
    public async Task A_finished_copy_run_again_copies_nothing_until_forgotten()
    {
        _folders.Write("a.bin", 10, 1);
        var copier = LocalFolders.Copier(_checkpoints);
        var (first, _) = await CopyAsync(Request());
        var counting = new FaultyStore(_folders.Destination);

        var (again, _) = await CopyAsync(Request(destination: counting));
        Assert.Equal(first.Final, again.Final);
        Assert.Equal(0, again.Resumes);
        Assert.Equal(0, counting.BytesSent);

        await copier.ForgetAsync("t1", default);
        Assert.Null(await _checkpoints.LoadAsync("t1", default));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition(), "timed out waiting");
    }

    /// <summary>Counts part uploads in progress at once.</summary>
    private sealed class ConcurrencyWatch(IObjectStore inner) : DelegatingStore(inner)
    {
        private int _now;
        private int _most;

        public int MostAtOnce => Volatile.Read(ref _most);

        public override async Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
            IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
        {
            var now = Interlocked.Increment(ref _now);
            InterlockedMax(ref _most, now);
            try
            {
                await Task.Delay(2, ct);
                return await base.UploadPartAsync(upload, partNumber, data, checksums, ct);
            }
            finally { Interlocked.Decrement(ref _now); }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
                if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
        }
    }
}
