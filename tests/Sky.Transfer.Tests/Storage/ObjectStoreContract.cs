using Sky.Transfer.Storage;

namespace Sky.Transfer.Tests.Storage;

/// <summary>
/// What every <see cref="IObjectStore"/> adapter must do, whatever store is behind it. An adapter's test class derives
/// from this, gives a fresh empty bucket per test, a store whose bucket does not exist and a second instance of a
/// store (as a restarted process would open it), and inherits every test here.
/// </summary>
public abstract class ObjectStoreContract
{
    /// <summary>A store on a fresh, empty bucket.</summary>
    protected abstract Task<IObjectStore> NewStoreAsync();

    /// <summary>A store whose bucket does not exist.</summary>
    protected abstract IObjectStore MissingBucketStore();

    /// <summary>Another store on the same bucket, with clients of its own.</summary>
    protected abstract IObjectStore Reopen(IObjectStore store);

    /// <summary>Why the store under test cannot be sent a completion naming a part it never received, or null.</summary>
    protected virtual string? MissingPartSkipReason => null;

    /// <summary>The part size multipart tests use: the store's minimum, or 64 KiB.</summary>
    protected static long PartSize(IObjectStore store) => Math.Max(store.Capabilities.MinPartSize, 64 * 1024);

    protected static byte[] Bytes(long count, int seed)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    [SkippableFact]
    public async Task Put_then_stat_list_and_read_back()
    {
        var store = await NewStoreAsync();
        var data = Bytes(100_000, 1);
        var put = await store.PutAsync("dir/one.bin", data, new PutOptions { ContentType = "application/octet-stream" });
        Assert.Equal(("dir/one.bin", 100_000L), (put.Key, put.Size));

        var stat = await store.StatAsync("dir/one.bin");
        Assert.Equal(100_000, stat.Size);
        Assert.False(string.IsNullOrEmpty(stat.ETag));
        Assert.False(string.IsNullOrEmpty(stat.Version));
        Assert.InRange(stat.LastModified, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(10));
        AssertReportedChecksumsMatch(store, stat, data);

        var listed = Assert.Single(await store.ListAllAsync().ToListAsync());
        Assert.Equal(("dir/one.bin", 100_000L, stat.ETag), (listed.Key, listed.Size, listed.ETag));

        var buffer = new byte[200_000];
        Assert.Equal(100_000, await store.ReadAsync("dir/one.bin", 0, buffer));
        Assert.Equal(data, buffer[..100_000]);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("dir/one.bin")));
    }

    [SkippableFact]
    public async Task Ranged_reads_are_cut_at_the_end_and_empty_past_it()
    {
        var store = await NewStoreAsync();
        var data = Bytes(10_000, 2);
        await store.PutAsync("r", data);

        var buffer = new byte[500];
        Assert.Equal(500, await store.ReadAsync("r", 1000, buffer));
        Assert.Equal(data[1000..1500], buffer);
        Assert.Equal(100, await store.ReadAsync("r", 9_900, buffer));
        Assert.Equal(data[9_900..], buffer[..100]);
        Assert.Equal(0, await store.ReadAsync("r", 10_000, buffer));
        Assert.Equal(0, await store.ReadAsync("r", 20_000, buffer));

        Assert.Equal(data[5..15], await ReadAllAsync(await store.OpenReadAsync("r", 5, 10)));
        Assert.Equal(data[9_990..], await ReadAllAsync(await store.OpenReadAsync("r", 9_990, 100)));
        Assert.Equal(data[7..], await ReadAllAsync(await store.OpenReadAsync("r", 7)));
        Assert.Empty(await ReadAllAsync(await store.OpenReadAsync("r", 10_000)));
        Assert.Empty(await ReadAllAsync(await store.OpenReadAsync("r", 3, 0)));
    }

    [SkippableFact]
    public async Task An_empty_object_round_trips()
    {
        var store = await NewStoreAsync();
        await store.PutAsync("empty", ReadOnlyMemory<byte>.Empty);
        Assert.Equal(0, (await store.StatAsync("empty")).Size);
        Assert.Equal(0, await store.ReadAsync("empty", 0, new byte[10]));
        Assert.Empty(await ReadAllAsync(await store.OpenReadAsync("empty")));
        Assert.Equal(0, Assert.Single(await store.ListAllAsync().ToListAsync()).Size);
    }

    [SkippableFact]
    public async Task A_put_with_a_wrong_checksum_stores_nothing()
    {
        var store = await NewStoreAsync();
        var data = Bytes(5_000, 3);
        var other = Bytes(5_000, 4);
        foreach (var algorithm in Enum.GetValues<ChecksumAlgorithm>())
        {
            var wrong = Checksum.Compute(algorithm, other);
            var e = await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.PutAsync("p", data, new PutOptions { Checksums = [wrong] }));
            Assert.Equal(wrong, e.Expected);
            await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("p"));
        }
    }

    [SkippableFact]
    public async Task A_put_with_the_right_checksums_reports_them_verified()
    {
        var store = await NewStoreAsync();
        var data = Bytes(5_000, 5);
        var all = Enum.GetValues<ChecksumAlgorithm>().Select(a => Checksum.Compute(a, data)).ToList();
        var put = await store.PutAsync("p", data, new PutOptions { Checksums = all });
        Assert.All(all, c => Assert.Contains(c, put.Checksums));
        AssertReportedChecksumsMatch(store, await store.StatAsync("p"), data);
    }

    [SkippableFact]
    public async Task Parts_uploaded_in_any_order_make_the_object()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var data = Bytes((2 * partSize) + (partSize / 3), 6);
        var upload = await store.BeginUploadAsync("big/object.bin", partSize, "application/x-test");

        var parts = await Task.WhenAll(new[] { 3, 1, 2 }.Select(n => store.UploadPartAsync(upload, n, Slice(data, partSize, n))));
        Assert.Equal([3, 1, 2], parts.Select(p => p.PartNumber));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("big/object.bin")); // nothing shows before completing

        var done = await store.CompleteUploadAsync(upload, [parts[1], parts[0], parts[2]]);
        Assert.Equal(data.Length, done.Size);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("big/object.bin")));
        var stat = await store.StatAsync("big/object.bin");
        Assert.Equal(data.Length, stat.Size);
        AssertReportedChecksumsMatch(store, stat, data);
        Assert.Equal("big/object.bin", Assert.Single(await store.ListAllAsync().ToListAsync()).Key);
    }

    [SkippableFact]
    public async Task A_part_with_a_wrong_checksum_is_refused_and_can_be_sent_again()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var data = Bytes(partSize, 7);
        var other = Bytes(partSize, 8);
        var upload = await store.BeginUploadAsync("k", partSize);
        foreach (var algorithm in Enum.GetValues<ChecksumAlgorithm>())
            await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.UploadPartAsync(upload, 1, data, [Checksum.Compute(algorithm, other)]));

        var right = Enum.GetValues<ChecksumAlgorithm>().Select(a => Checksum.Compute(a, data)).ToList();
        var part = await store.UploadPartAsync(upload, 1, data, right);
        Assert.All(right, c => Assert.Contains(c, part.Checksums));
        await store.CompleteUploadAsync(upload, [part]);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("k")));
    }

    [SkippableFact]
    public async Task Every_part_is_checked_on_the_wire_even_without_a_checksum()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var upload = await store.BeginUploadAsync("k", partSize);
        var part = await store.UploadPartAsync(upload, 1, Bytes(100, 9));
        Assert.Contains(part.Checksums, c => store.Capabilities.VerifiedChecksums.Contains(c.Algorithm));
        await store.AbortUploadAsync(upload);
    }

    [SkippableFact]
    public async Task A_part_sent_again_replaces_the_first()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var data = Bytes(partSize + 10, 10);
        var upload = await store.BeginUploadAsync("k", partSize);
        await store.UploadPartAsync(upload, 1, Bytes(partSize, 11));
        var first = await store.UploadPartAsync(upload, 1, Slice(data, partSize, 1));
        var second = await store.UploadPartAsync(upload, 2, Slice(data, partSize, 2));
        await store.CompleteUploadAsync(upload, [first, second]);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("k")));
    }

    [SkippableFact]
    public async Task An_upload_continues_in_another_store_instance()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var data = Bytes((2 * partSize) + 1, 12);
        var upload = await store.BeginUploadAsync("resumed", partSize);
        var one = await store.UploadPartAsync(upload, 1, Slice(data, partSize, 1));

        var restarted = Reopen(store);
        try
        {
            var rest = new[] { await restarted.UploadPartAsync(upload, 3, Slice(data, partSize, 3)), await restarted.UploadPartAsync(upload, 2, Slice(data, partSize, 2)) };
            await restarted.CompleteUploadAsync(upload, [one, .. rest]);
            Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("resumed")));
        }
        finally { await restarted.DisposeAsync(); }
    }

    [SkippableFact]
    public async Task Completing_with_a_part_never_uploaded_fails_and_writes_nothing()
    {
        Skip.If(MissingPartSkipReason is not null, MissingPartSkipReason);
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var upload = await store.BeginUploadAsync("k", partSize);
        var one = await store.UploadPartAsync(upload, 1, Bytes(partSize, 13));
        var three = await store.UploadPartAsync(upload, 3, Bytes(10, 14));
        var invented = new UploadedPart(2, partSize, one.ETag);
        await Assert.ThrowsAnyAsync<ObjectStoreException>(() => store.CompleteUploadAsync(upload, [one, invented, three]));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("k"));
    }

    [SkippableFact]
    public async Task Abort_leaves_nothing_behind_and_may_be_repeated()
    {
        var store = await NewStoreAsync();
        var partSize = PartSize(store);
        var upload = await store.BeginUploadAsync("k", partSize);
        await store.UploadPartAsync(upload, 1, Bytes(partSize, 15));
        await store.AbortUploadAsync(upload);
        await store.AbortUploadAsync(upload);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("k"));
        Assert.Empty(await store.ListAllAsync().ToListAsync());
    }

    /// <summary>
    /// Keys for the listing test: nested, with names that sort before '/' ("b-", "b.txt" beside the folder "b/"), a space
    /// and a non-ASCII letter, so a store that lists folder by folder instead of in key order is caught.
    /// </summary>
    protected virtual IReadOnlyList<string> ListingKeys => ["a", "b/1", "b/2", "b/3/x", "b-", "b.txt", "c d", "z/é"];

    [SkippableFact]
    public async Task Listing_pages_through_keys_in_order_and_filters_by_prefix()
    {
        var store = await NewStoreAsync();
        var keys = ListingKeys;
        foreach (var (key, i) in keys.Select((k, i) => (k, i))) await store.PutAsync(key, Bytes(i + 1, i));

        var pages = new List<ObjectPage>();
        string? token = null;
        do
        {
            var page = await store.ListAsync("", token, pageSize: 3);
            Assert.InRange(page.Objects.Count, 0, 3);
            pages.Add(page);
            token = page.NextPageToken;
        }
        while (token is not null);
        Assert.True(pages.Count >= (keys.Count + 2) / 3, $"{keys.Count} keys in pages of 3 came in {pages.Count} pages");
        var listed = pages.SelectMany(p => p.Objects).ToList();
        Assert.Equal(keys.Select((k, i) => (k, (long)i + 1)).OrderBy(x => x.k, StringComparer.Ordinal), listed.Select(o => (o.Key, o.Size)));

        foreach (var prefix in new[] { "b/", "b" })
        {
            var expected = keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
            Assert.Equal(expected, (await store.ListAllAsync(prefix).ToListAsync()).Select(o => o.Key));
        }
        Assert.Empty(await store.ListAllAsync("nothing/").ToListAsync());
    }

    [SkippableFact]
    public async Task Missing_objects_and_missing_buckets_are_told_apart()
    {
        var store = await NewStoreAsync();
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("nope"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.ReadAsync("nope", 0, new byte[10]));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenReadAsync("nope"));
        await store.DeleteAsync("nope");

        var missing = MissingBucketStore();
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.VerifyAccessAsync(StoreAccess.Read));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.StatAsync("k"));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.ListAsync(""));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.ReadAsync("k", 0, new byte[10]));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.PutAsync("k", new byte[10]));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.DeleteAsync("k"));
        var e = await Assert.ThrowsAsync<BucketNotFoundException>(() => missing.StatAsync("k"));
        Assert.Equal(missing.Root, e.Bucket);
        Assert.Contains(missing.Root.ToString(), e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_read_pinned_to_a_replaced_version_fails()
    {
        var store = await NewStoreAsync();
        var v1 = await store.PutAsync("v", Bytes(1000, 16));
        var v2 = await store.PutAsync("v", Bytes(1000, 17));
        Assert.NotEqual(v1.Version, v2.Version);
        Assert.Equal(v2.Version, (await store.StatAsync("v")).Version);

        await Assert.ThrowsAsync<ObjectChangedException>(() => store.ReadAsync("v", 0, new byte[100], v1.Version));
        await Assert.ThrowsAsync<ObjectChangedException>(() => store.OpenReadAsync("v", 10, 100, v1.Version));
        Assert.Equal(100, await store.ReadAsync("v", 0, new byte[100], v2.Version));
    }

    [SkippableFact]
    public async Task Server_side_copy_within_the_store()
    {
        var store = await NewStoreAsync();
        var data = Bytes(70_000, 18);
        await store.PutAsync("src/a", data);
        Assert.True(store.CanCopyFrom(store));
        var copied = await store.CopyFromAsync(store, "src/a", "dst/a");
        Assert.Equal(("dst/a", 70_000L), (copied.Key, copied.Size));
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("dst/a")));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.CopyFromAsync(store, "src/none", "dst/b"));
    }

    [SkippableFact]
    public async Task A_server_side_copy_pinned_to_a_replaced_version_fails_and_copies_nothing()
    {
        var store = await NewStoreAsync();
        var v1 = await store.PutAsync("pinned", Bytes(2000, 21));
        var v2 = await store.PutAsync("pinned", Bytes(2000, 22));

        await Assert.ThrowsAsync<ObjectChangedException>(() => store.CopyFromAsync(store, "pinned", "copy/stale", v1.Version));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("copy/stale"));
        var copied = await store.CopyFromAsync(store, "pinned", "copy/current", v2.Version);
        Assert.Equal(2000, copied.Size);
        Assert.Equal(Bytes(2000, 22), await ReadAllAsync(await store.OpenReadAsync("copy/current")));
    }

    [SkippableFact]
    public async Task Delete_removes_and_may_be_repeated()
    {
        var store = await NewStoreAsync();
        await store.PutAsync("d/x", Bytes(10, 19));
        await store.DeleteAsync("d/x");
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("d/x"));
        await store.DeleteAsync("d/x");
        Assert.Empty(await store.ListAllAsync().ToListAsync());
    }

    [SkippableFact]
    public async Task Verifying_access_passes_and_leaves_no_probe()
    {
        var store = await NewStoreAsync();
        await store.VerifyAccessAsync(StoreAccess.Read | StoreAccess.Write);
        Assert.Empty(await store.ListAllAsync().ToListAsync());
    }

    [SkippableFact]
    public async Task Bad_keys_and_parts_are_refused_before_any_request()
    {
        var store = await NewStoreAsync();
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.PutAsync("", new byte[1]));
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.PutAsync("dir/", new byte[1]));
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.PutAsync(ObjectKeys.ReservedPrefix + "x", new byte[1]));
        await Assert.ThrowsAsync<InvalidObjectUriException>(() => store.StatAsync("tab\there"));

        var partSize = PartSize(store);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.BeginUploadAsync("k", store.Capabilities.MaxPartSize + 1));
        var upload = await store.BeginUploadAsync("k", partSize);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.UploadPartAsync(upload, 0, new byte[1]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.UploadPartAsync(upload, store.Capabilities.MaxParts + 1, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.UploadPartAsync(upload, 1, new byte[partSize + 1]));
        var one = await store.UploadPartAsync(upload, 1, Bytes(partSize, 20));
        var short2 = await store.UploadPartAsync(upload, 2, Bytes(10, 21));
        var three = await store.UploadPartAsync(upload, 3, Bytes(10, 22));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CompleteUploadAsync(upload, [one, three]));      // gap
        await Assert.ThrowsAsync<ArgumentException>(() => store.CompleteUploadAsync(upload, [one, short2, three])); // short middle part
        await Assert.ThrowsAsync<ArgumentException>(() => store.CompleteUploadAsync(upload, [one, one]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CompleteUploadAsync(upload, []));
        await store.AbortUploadAsync(upload);
    }

    [SkippableFact]
    public async Task Keys_with_spaces_plus_signs_and_unicode_survive_every_operation()
    {
        var store = await NewStoreAsync();
        const string key = "dir with space/a+b=c&d%e/ünï.bin";
        var data = Bytes(100, 43);
        await store.PutAsync(key, data);
        Assert.Equal(key, Assert.Single(await store.ListAllAsync().ToListAsync()).Key);
        Assert.Equal(100, (await store.StatAsync(key)).Size);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync(key)));
        await store.DeleteAsync(key);
        Assert.Empty(await store.ListAllAsync().ToListAsync());
    }

    /// <summary>Every checksum a store reports for an object is the checksum of its bytes.</summary>
    protected static void AssertReportedChecksumsMatch(IObjectStore store, ObjectInfo info, byte[] data)
    {
        foreach (var reported in info.Checksums)
        {
            Assert.Contains(reported.Algorithm, store.Capabilities.ReportedChecksums);
            Assert.Equal(Checksum.Compute(reported.Algorithm, data), reported);
        }
    }

    protected static ReadOnlyMemory<byte> Slice(byte[] data, long partSize, int partNumber)
    {
        var start = (int)((partNumber - 1) * partSize);
        return data.AsMemory(start, (int)Math.Min(partSize, data.Length - start));
    }

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, 81920);
            return copy.ToArray();
        }
    }
}
