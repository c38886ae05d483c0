using Sky.Testing;
using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using StackExchange.Redis;

namespace Sky.Transfer.Tests.Execution;

/// <summary>What every <see cref="ICopyCheckpointStore"/> must do, run against the memory store and a real Redis.</summary>
public abstract class CheckpointStoreContract
{
    protected abstract Task<ICopyCheckpointStore> NewStoreAsync();

    private static readonly Checksum Md5 = Checksum.Compute(ChecksumAlgorithm.Md5, "abc"u8);
    private static readonly Checksum Crc = Checksum.Compute(ChecksumAlgorithm.Crc32C, "abc"u8);

    private static CheckpointHeader Header(string id = "t1") =>
        new(id, "s3://src/data/", "az://acct/dst/out/", 8 << 20, new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero));

    private static List<ManifestEntry> Manifest(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ManifestEntry($"data/k{i}", $"out/k{i}", i * 1000L, $"v{i}") { Checksums = i % 2 == 0 ? [Md5] : [Md5, Crc] })];

    private static CopiedPart Part(int n, long size) =>
        new(new UploadedPart(n, size, $"etag-{n}") { Checksums = [Md5] }, (uint)(0xF0000000 + n));

    [SkippableFact]
    public async Task A_created_checkpoint_loads_with_its_whole_manifest()
    {
        var store = await NewStoreAsync();
        Assert.Null(await store.LoadAsync("t1", default));
        var manifest = Manifest(12_345);

        await store.CreateAsync(Header(), manifest, default);
        var loaded = await store.LoadAsync("t1", default);

        Assert.NotNull(loaded);
        Assert.Equal(Header(), loaded.Header);
        Assert.Equal(manifest.Count, loaded.Manifest.Count);
        for (var i = 0; i < manifest.Count; i += 1234)
        {
            Assert.Equal(manifest[i], loaded.Manifest[i] with { Checksums = manifest[i].Checksums });
            Assert.Equal(manifest[i].Checksums, loaded.Manifest[i].Checksums);
        }
        Assert.Empty(loaded.Finished);
        Assert.Empty(loaded.Uploads);
        Assert.Equal(0, loaded.Resumes);
        Assert.False(loaded.Complete);
    }

    [SkippableFact]
    public async Task Updates_round_trip_and_a_finished_object_drops_its_upload_and_marks()
    {
        var store = await NewStoreAsync();
        await store.CreateAsync(Header(), Manifest(4), default);
        var upload = new MultipartUpload("out/k1", "upload-1", 1 << 20, "application/octet-stream");

        await store.WriteAsync("t1",
        [
            new CheckpointUpdate.UploadStarted(1, upload),
            new CheckpointUpdate.PartInFlight(1, 1, 1 << 20),
            new CheckpointUpdate.PartInFlight(1, 2, 1 << 20),
            new CheckpointUpdate.PartInFlight(1, 3, 5),
            new CheckpointUpdate.PartCopied(1, Part(1, 1 << 20)),
            new CheckpointUpdate.ObjectInFlight(2, 2000),
            new CheckpointUpdate.ObjectInFlight(3, 3000),
            new CheckpointUpdate.ObjectFinished(new FinishedObject(0, ["chunks:md5", "size"])),
            new CheckpointUpdate.Resent(77),
        ], default);
        var mid = (await store.LoadAsync("t1", default))!;

        Assert.Equal(upload, mid.Uploads[1].Upload);
        var part = Assert.Single(mid.Uploads[1].Parts);
        Assert.Equal(Part(1, 1 << 20).Part with { Checksums = [] }, part.Value.Part with { Checksums = [] });
        Assert.Equal([Md5], part.Value.Part.Checksums);
        Assert.Equal(0xF0000001u, part.Value.Crc32C);
        Assert.Equal(new Dictionary<int, long> { [2] = 1 << 20, [3] = 5 }, mid.Uploads[1].PartsInFlight);
        Assert.Equal(new Dictionary<int, long> { [2] = 2000, [3] = 3000 }, mid.ObjectsInFlight);
        Assert.Equal((1 << 20) + 5 + 5000, mid.BytesInFlight);
        Assert.Equal(["chunks:md5", "size"], mid.Finished[0].Checks);
        Assert.False(mid.Finished[0].Failed);
        Assert.Equal(77, mid.BytesResent);

        await store.WriteAsync("t1",
        [
            new CheckpointUpdate.Resumed(mid.BytesInFlight),
            new CheckpointUpdate.InFlightCleared(1, 2),
            new CheckpointUpdate.InFlightCleared(2, 0),
            new CheckpointUpdate.ObjectFinished(new FinishedObject(1, ["size"])),
            new CheckpointUpdate.ObjectFinished(new FinishedObject(3, [], "the source changed")),
        ], default);
        var end = (await store.LoadAsync("t1", default))!;

        Assert.Empty(end.Uploads);
        Assert.Empty(end.ObjectsInFlight);
        Assert.Equal(1, end.Resumes);
        Assert.Equal(77 + mid.BytesInFlight, end.BytesResent);
        Assert.Equal("the source changed", end.Finished[3].Failure);
        Assert.Equal(3, end.Finished.Count);

        // The object's parts went with it: a new upload of the same object starts with none.
        await store.WriteAsync("t1", [new CheckpointUpdate.UploadStarted(2, upload with { Key = "out/k2" })], default);
        Assert.Empty((await store.LoadAsync("t1", default))!.Uploads[2].Parts);
    }

    [SkippableFact]
    public async Task A_deleted_checkpoint_refuses_writes_and_is_gone()
    {
        var store = await NewStoreAsync();
        await store.CreateAsync(Header(), Manifest(3), default);
        await store.WriteAsync("t1", [new CheckpointUpdate.UploadStarted(0, new MultipartUpload("out/k0", "u", 10))], default);
        await store.WriteAsync("t1", [new CheckpointUpdate.PartInFlight(0, 1, 10)], default);

        await store.DeleteAsync("t1", default);
        await store.DeleteAsync("t1", default);

        Assert.Null(await store.LoadAsync("t1", default));
        var e = await Assert.ThrowsAsync<CheckpointMissingException>(() => store.WriteAsync("t1", [new CheckpointUpdate.Resent(1)], default));
        Assert.Equal("t1", e.TransferId);
        Assert.Null(await store.LoadAsync("t1", default));
    }

    [SkippableFact]
    public async Task Creating_again_replaces_what_an_earlier_checkpoint_left()
    {
        var store = await NewStoreAsync();
        await store.CreateAsync(Header(), Manifest(5), default);
        await store.WriteAsync("t1", [new CheckpointUpdate.ObjectFinished(new FinishedObject(4, ["size"]))], default);
        await store.CreateAsync(Header("t2"), Manifest(2), default);

        await store.CreateAsync(Header(), Manifest(3), default);

        var loaded = (await store.LoadAsync("t1", default))!;
        Assert.Equal(3, loaded.Manifest.Count);
        Assert.Empty(loaded.Finished);
        Assert.Equal(2, (await store.LoadAsync("t2", default))!.Manifest.Count);
    }
}

public sealed class MemoryCheckpointStoreTests : CheckpointStoreContract
{
    protected override Task<ICopyCheckpointStore> NewStoreAsync() => Task.FromResult<ICopyCheckpointStore>(new MemoryCopyCheckpointStore());
}

/// <summary>The Redis checkpoint store against a real Redis (each test its own database), and a resume through it.</summary>
public sealed class RedisCheckpointStoreTests(RedisServer redis) : CheckpointStoreContract, IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly List<ConnectionMultiplexer> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(string uri)
    {
        var parsed = new Uri(uri);
        var connection = await ConnectionMultiplexer.ConnectAsync($"{parsed.Host}:{parsed.Port},defaultDatabase={parsed.AbsolutePath.Trim('/')}");
        _connections.Add(connection);
        return connection;
    }

    protected override async Task<ICopyCheckpointStore> NewStoreAsync() => new RedisCopyCheckpointStore(await ConnectAsync(await redis.NewDatabaseAsync()));

    [SkippableFact]
    public async Task Keys_live_under_the_transfer_checkpoint_prefix()
    {
        var uri = await redis.NewDatabaseAsync();
        var connection = await ConnectAsync(uri);
        var store = new RedisCopyCheckpointStore(connection);
        await store.CreateAsync(new CheckpointHeader("t9", "file:///a/", "file:///b/", 1, DateTimeOffset.UnixEpoch), [new ManifestEntry("k", "k", 1, "v")], default);
        await store.WriteAsync("t9", [new CheckpointUpdate.UploadStarted(0, new MultipartUpload("k", "u", 1)), new CheckpointUpdate.PartInFlight(0, 1, 1)], default);

        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var keys = server.Keys(connection.GetDatabase().Database, "*").Select(k => (string)k!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["sky:transfer:checkpoint:t9", "sky:transfer:checkpoint:t9:manifest", "sky:transfer:checkpoint:t9:parts:0", "sky:transfer:checkpoint:t9:uploads"], keys);

        await store.DeleteAsync("t9", default);
        Assert.Empty(server.Keys(connection.GetDatabase().Database, "*"));
    }

    [SkippableFact]
    public async Task A_copy_stopped_mid_object_resumes_from_redis_in_a_fresh_copier()
    {
        var uri = await redis.NewDatabaseAsync();
        using var folders = new LocalFolders();
        const int chunk = 64 * 1024;
        var data = folders.Write("big.bin", (30 * chunk) + 9, 1);
        var small = Enumerable.Range(0, 50).Select(i => folders.Write($"small/{i:D2}", 700 + i, 100 + i)).ToList();
        var options = LocalFolders.SmallChunks with { ServerSideCopy = false, MaxChunksInFlight = 3 };
        var stopping = new FaultyStore(folders.Destination) { BlockPartsAfter = 12 };
        using var cts = new CancellationTokenSource();
        var first = LocalFolders.RunAsync(LocalFolders.Copier(new RedisCopyCheckpointStore(await ConnectAsync(uri))),
            new CopyRequest("r1", folders.Source, "", stopping, ""), options, cts.Token);
        for (var i = 0; i < 1000 && Interlocked.Read(ref stopping.BlockedBytes) < 3 * chunk; i++) await Task.Delay(10);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        // Another connection and copier, as after a restart.
        var counting = new FaultyStore(folders.Destination);
        var (outcome, _) = await LocalFolders.RunAsync(LocalFolders.Copier(new RedisCopyCheckpointStore(await ConnectAsync(uri))),
            new CopyRequest("r1", folders.Source, "", counting, ""), options);

        Assert.True(outcome.Succeeded);
        Assert.Equal(1, outcome.Resumes);
        Assert.Equal(data, folders.Copied("big.bin"));
        for (var i = 0; i < small.Count; i++) Assert.Equal(small[i], folders.Copied($"small/{i:D2}"));
        Assert.Equal(stopping.BlockedBytes, outcome.Final.BytesResent);
        Assert.True(outcome.Final.BytesResent <= options.MaxChunksInFlight * chunk);
        Assert.Equal(data.Length + small.Sum(s => s.Length) + outcome.Final.BytesResent, stopping.BytesSent + counting.BytesSent);
    }

    [SkippableFact]
    public async Task Small_files_share_checkpoint_writes()
    {
        const int files = 3000;
        var uri = await redis.NewDatabaseAsync();
        using var folders = new LocalFolders();
        for (var i = 0; i < files; i++) folders.Write($"f/{i / 100:D3}/{i:D5}", 200 + (i % 50), i);
        var counting = new FailingCheckpointStore(new RedisCopyCheckpointStore(await ConnectAsync(uri)));

        var (outcome, _) = await LocalFolders.RunAsync(LocalFolders.Copier(counting), new CopyRequest("many", folders.Source, "f/", folders.Destination, "g/"),
            new CopyOptions { ServerSideCopy = false });

        Assert.Equal(files, outcome.Final.ObjectsDone);
        Assert.Equal(2 * files, counting.Updates); // in flight, then finished
        Assert.True(counting.Writes < counting.Updates / 4, $"{counting.Writes} checkpoint writes for {counting.Updates} updates");
        Assert.Equal(files, (await counting.LoadAsync("many", default))!.Finished.Count);
    }
}
