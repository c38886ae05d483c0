using Microsoft.Extensions.Time.Testing;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Local;

namespace Sky.Transfer.Tests.Storage;

/// <summary>The local-folder adapter: the shared contract, and what is particular to files (temporary files, offsets, folders).</summary>
public sealed class LocalObjectStoreTests : ObjectStoreContract, IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("sky-local-store-").FullName;

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
            foreach (var path in System.IO.Directory.EnumerateFileSystemEntries(_dir, "*", SearchOption.AllDirectories))
                if (System.IO.Directory.Exists(path)) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        System.IO.Directory.Delete(_dir, recursive: true);
    }

    protected override Task<IObjectStore> NewStoreAsync() => Task.FromResult<IObjectStore>(NewStore());

    protected override IObjectStore MissingBucketStore() => new LocalObjectStore(ObjectUri.Parse($"file://{_dir}/missing/"));

    protected override IObjectStore Reopen(IObjectStore store) => new LocalObjectStore(store.Root);

    private LocalObjectStore NewStore(TimeProvider? time = null)
    {
        var folder = System.IO.Directory.CreateDirectory(Path.Combine(_dir, Guid.NewGuid().ToString("N"))).FullName;
        return new LocalObjectStore(ObjectUri.Parse($"file://{folder}/"), time);
    }

    private static string FolderOf(IObjectStore store) => store.Root.Bucket;

    [Fact]
    public async Task Keys_that_would_leave_the_folder_are_refused()
    {
        var store = NewStore();
        foreach (var key in new[] { "../x", "a/../../x", "a//b", "./a", "a/." })
            await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.PutAsync(key, new byte[1]));
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.ListAsync("../"));
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.ListAsync("a/../b"));
        Assert.False(File.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public async Task Parts_land_at_their_offsets_whatever_the_order_and_concurrency()
    {
        var store = NewStore();
        const int partSize = 4096;
        var data = Bytes((31 * partSize) + 123, 30);
        var upload = await store.BeginUploadAsync("offsets.bin", partSize);
        var numbers = Enumerable.Range(1, 32).OrderBy(_ => Random.Shared.Next()).ToList();
        var parts = new System.Collections.Concurrent.ConcurrentBag<UploadedPart>();
        await Parallel.ForEachAsync(numbers, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (n, ct) => parts.Add(await store.UploadPartAsync(upload, n, Slice(data, partSize, n), ct: ct)));

        var done = await store.CompleteUploadAsync(upload, [.. parts]);
        Assert.Equal(data.Length, done.Size);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(FolderOf(store), "offsets.bin")));
    }

    [Fact]
    public async Task An_upload_in_progress_is_invisible_and_completing_renames_it_into_place()
    {
        var store = NewStore();
        var upload = await store.BeginUploadAsync("dir/file", 100);
        var part = await store.UploadPartAsync(upload, 1, Bytes(50, 31));
        var uploads = Path.Combine(FolderOf(store), ".sky-uploads");
        Assert.True(System.IO.Directory.Exists(Path.Combine(uploads, upload.UploadId)));
        Assert.False(File.Exists(Path.Combine(FolderOf(store), "dir", "file")));
        Assert.Empty(await store.ListAllAsync().ToListAsync());

        await store.CompleteUploadAsync(upload, [part]);
        Assert.True(File.Exists(Path.Combine(FolderOf(store), "dir", "file")));
        Assert.False(System.IO.Directory.Exists(Path.Combine(uploads, upload.UploadId)));
        Assert.Equal("dir/file", Assert.Single(await store.ListAllAsync().ToListAsync()).Key);
    }

    [Fact]
    public async Task A_part_listed_with_another_etag_than_the_one_written_fails_the_completion()
    {
        var store = NewStore();
        var upload = await store.BeginUploadAsync("k", 100);
        var part = await store.UploadPartAsync(upload, 1, Bytes(100, 32));
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.CompleteUploadAsync(upload, [part with { ETag = "00000000" }]));
        Assert.Contains("part 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(100, (await store.CompleteUploadAsync(upload, [part])).Size);
    }

    [Fact]
    public async Task An_unknown_or_finished_upload_is_not_found()
    {
        var store = NewStore();
        var ghost = new MultipartUpload("k", Guid.NewGuid().ToString("N"), 100);
        await Assert.ThrowsAsync<UploadNotFoundException>(() => store.UploadPartAsync(ghost, 1, new byte[10]));
        await Assert.ThrowsAsync<UploadNotFoundException>(() => store.UploadPartAsync(ghost with { UploadId = "../../etc" }, 1, new byte[10]));

        var upload = await store.BeginUploadAsync("k", 100);
        var part = await store.UploadPartAsync(upload, 1, new byte[10]);
        await store.CompleteUploadAsync(upload, [part]);
        await Assert.ThrowsAsync<UploadNotFoundException>(() => store.CompleteUploadAsync(upload, [part]));
    }

    [Fact]
    public async Task Deleting_the_last_key_of_a_folder_removes_the_folder()
    {
        var store = NewStore();
        await store.PutAsync("a/b/c/one", new byte[1]);
        await store.PutAsync("a/two", new byte[1]);
        await store.DeleteAsync("a/b/c/one");
        Assert.False(System.IO.Directory.Exists(Path.Combine(FolderOf(store), "a", "b")));
        Assert.True(System.IO.Directory.Exists(Path.Combine(FolderOf(store), "a")));
        Assert.True(System.IO.Directory.Exists(FolderOf(store)));
    }

    [Fact]
    public async Task A_key_whose_path_is_a_folder_is_not_an_object_and_cannot_be_overwritten()
    {
        var store = NewStore();
        await store.PutAsync("a/b", new byte[1]);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("a"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.ReadAsync("a", 0, new byte[1]));
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("a", new byte[1]));
        Assert.Contains("folder", e.Message, StringComparison.Ordinal);
        var f = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("a/b/c", new byte[1]));
        Assert.Contains("in the way", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Versions_come_from_the_clock_so_a_rewrite_within_one_tick_of_the_file_system_still_differs()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        var store = NewStore(clock);
        var first = await store.PutAsync("v", Bytes(10, 33));
        Assert.Equal(clock.GetUtcNow(), first.LastModified);
        clock.Advance(TimeSpan.FromTicks(1));
        var second = await store.PutAsync("v", Bytes(10, 34));
        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(clock.GetUtcNow(), (await store.StatAsync("v")).LastModified);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_unreadable_folder_is_permission_denied()
    {
        var store = NewStore();
        await store.PutAsync("secret/x", new byte[1]);
        var secret = Path.Combine(FolderOf(store), "secret");
        File.SetUnixFileMode(secret, UnixFileMode.None);
        var blocked = true;
        try { _ = System.IO.Directory.EnumerateFileSystemEntries(secret).ToList(); blocked = false; }
        catch (UnauthorizedAccessException) { }
        Skip.IfNot(blocked, "running as root: file modes do not deny access");
        await Assert.ThrowsAsync<PermissionDeniedException>(() => store.ListAllAsync().ToListAsync().AsTask());
        await Assert.ThrowsAsync<PermissionDeniedException>(() => store.ReadAsync("secret/x", 0, new byte[1]));
    }

    [Fact]
    public async Task A_copy_between_two_folders_is_a_file_copy()
    {
        var from = NewStore();
        var to = NewStore();
        var data = Bytes(12_345, 35);
        await from.PutAsync("src", data);
        Assert.True(to.CanCopyFrom(from));
        await to.CopyFromAsync(from, "src", "nested/dst");
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(FolderOf(to), "nested", "dst")));
    }

    [Fact]
    public async Task A_version_is_the_files_time_in_ticks_and_its_size_in_hex_whether_listed_stated_or_copied()
    {
        var from = NewStore();
        var to = NewStore();
        await from.PutAsync("a/b.bin", Bytes(4321, 37));
        // Several copies: the first reads the copy's time back, the later ones use the time they set.
        var copies = new List<ObjectInfo>();
        for (var i = 0; i < 3; i++) copies.Add(await to.CopyFromAsync(from, "a/b.bin", $"c/{i}.bin", (await from.StatAsync("a/b.bin")).Version));

        foreach (var (store, key, info) in new[] { (from, "a/b.bin", await from.StatAsync("a/b.bin")) }
            .Concat(copies.Select((c, i) => (to, $"c/{i}.bin", c))))
        {
            var file = new FileInfo(Path.Combine(FolderOf(store), key));
            Assert.Equal($"{file.LastWriteTimeUtc.Ticks:x}-{file.Length:x}", info.Version);
            Assert.Equal(info.Version, (await store.StatAsync(key)).Version);
            Assert.Equal(info.Version, (await store.ListAsync(key)).Objects.Single().Version);
        }
    }

    [Fact]
    public async Task A_copy_onto_a_key_replaces_it_and_a_copy_onto_a_folder_of_keys_fails()
    {
        var from = NewStore();
        var to = NewStore();
        await from.PutAsync("src", Bytes(100, 38));
        await to.PutAsync("dst", Bytes(5, 39));
        await to.PutAsync("dir/inside", Bytes(5, 40));

        var copied = await to.CopyFromAsync(from, "src", "dst");

        Assert.Equal(100, copied.Size);
        Assert.Equal(Bytes(100, 38), await File.ReadAllBytesAsync(Path.Combine(FolderOf(to), "dst")));
        await Assert.ThrowsAsync<ObjectStoreException>(() => to.CopyFromAsync(from, "src", "dir"));
        Assert.Equal(["dir/inside", "dst"], (await to.ListAllAsync().ToListAsync()).Select(o => o.Key));
    }

    [Fact]
    public async Task A_copy_checks_both_keys_before_anything_moves()
    {
        var from = NewStore();
        var to = NewStore();
        await from.PutAsync("src", Bytes(10, 41));
        foreach (var key in new[] { "", "../x", "a//b", "a/./b", "a/", ".sky-uploads/x", "bad\u0001key", new string('k', 1025) })
        {
            Assert.Throws<InvalidObjectUriException>(() => { _ = to.CopyFromAsync(from, "src", key); });
            Assert.Throws<InvalidObjectUriException>(() => { _ = to.CopyFromAsync(from, key, "dst"); });
        }
        var longKey = string.Join('/', Enumerable.Repeat(new string('k', 100), 10)); // over the fast check's length, under the limit
        Assert.Equal(10, (await to.CopyFromAsync(from, "src", longKey)).Size);
        Assert.Equal([longKey], (await to.ListAllAsync().ToListAsync()).Select(o => o.Key));
    }

    [Fact]
    public async Task The_root_folder_of_a_file_uri_is_its_parent()
    {
        var store = NewStore();
        await store.PutAsync("a.bin", Bytes(3, 36));
        var uri = ObjectUri.Parse($"file://{FolderOf(store)}/a.bin");
        await using var stores = new ObjectStores(new ObjectStoreOptions());
        var (opened, key) = stores.Resolve(uri.ToString());
        Assert.IsType<LocalObjectStore>(opened);
        Assert.Equal("a.bin", key);
        Assert.Equal(3, (await opened.StatAsync(key)).Size);
    }
}
