using Google.Cloud.Storage.V1;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Gcs;

namespace Sky.Transfer.Tests.Storage;

/// <summary>
/// The GCS adapter at the HTTP level: Google.Cloud.Storage.V1 against <see cref="FakeGcsServer"/>, a fake of the JSON API
/// endpoints the adapter uses, since no GCS emulator is available here. The shared contract, and GCS particulars
/// (compose trees, temporary parts, the composed CRC-32C check).
/// </summary>
public sealed class GcsObjectStoreTests : ObjectStoreContract, IAsyncLifetime
{
    private readonly List<StorageClient> _clients = [];
    private FakeGcsServer _gcs = null!;

    public async Task InitializeAsync() => _gcs = await FakeGcsServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await _gcs.DisposeAsync();
    }

    private ObjectStoreOptions Options => new() { GcsEndpoint = _gcs.Endpoint.ToString() };

    private StorageClient NewClient()
    {
        var client = GcsObjectStore.CreateClient(Options);
        _clients.Add(client);
        return client;
    }

    private ObjectUri NewBucket()
    {
        var name = $"sky-gcs-{Guid.NewGuid():N}";
        _gcs.CreateBucket(name);
        return ObjectUri.Parse($"gs://{name}/");
    }

    protected override Task<IObjectStore> NewStoreAsync() => Task.FromResult<IObjectStore>(new GcsObjectStore(NewClient(), NewBucket()));

    protected override IObjectStore MissingBucketStore() => new GcsObjectStore(NewClient(), ObjectUri.Parse($"gs://missing-{Guid.NewGuid():N}/"));

    protected override IObjectStore Reopen(IObjectStore store) => new GcsObjectStore(NewClient(), store.Root);

    [Fact]
    public async Task Forty_parts_compose_as_a_tree_of_at_most_32_and_leave_no_temporary_objects()
    {
        var store = await NewStoreAsync();
        const int partSize = 1000;
        var data = Bytes((39 * partSize) + 7, 60);
        var upload = await store.BeginUploadAsync("tree", partSize);
        var parts = await Task.WhenAll(Enumerable.Range(1, 40).Reverse().Select(n => store.UploadPartAsync(upload, n, Slice(data, partSize, n))));

        var done = await store.CompleteUploadAsync(upload, parts);
        Assert.Equal(data.Length, done.Size);
        Assert.Equal(Checksum.Compute(ChecksumAlgorithm.Crc32C, data), done.ChecksumOf(ChecksumAlgorithm.Crc32C));
        Assert.Null(done.ChecksumOf(ChecksumAlgorithm.Md5)); // a composite object has no MD5
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("tree")));
        Assert.Equal(3, _gcs.Requests.Count(r => r.Contains("/compose", StringComparison.Ordinal))); // 32 + 8, then the two
        Assert.Equal(["tree"], _gcs.ObjectNames(store.Root.Bucket));
    }

    [Fact]
    public async Task Each_part_sends_its_crc32c_and_the_callers_md5_in_the_upload_metadata_for_gcs_to_check()
    {
        var store = await NewStoreAsync();
        var upload = await store.BeginUploadAsync("k", 1000);
        var data = Bytes(1000, 61);
        var md5 = Checksum.Compute(ChecksumAlgorithm.Md5, data);
        var part = await store.UploadPartAsync(upload, 1, data, [md5]);
        var sent = Assert.Single(_gcs.UploadMetadata);
        Assert.Equal(ReferenceCrc32C.Base64(data), sent["crc32c"]?.GetValue<string>());
        Assert.Equal(md5.ToBase64(), sent["md5Hash"]?.GetValue<string>());
        Assert.Contains(Checksum.FromBase64(ChecksumAlgorithm.Crc32C, ReferenceCrc32C.Base64(data)), part.Checksums);
        Assert.Contains(_gcs.ObjectNames(store.Root.Bucket), n => n.StartsWith($".sky-uploads/{upload.UploadId}/", StringComparison.Ordinal));
        Assert.Empty(await store.ListAllAsync().ToListAsync()); // temporary parts are not listed
        await store.AbortUploadAsync(upload);
        Assert.Empty(_gcs.ObjectNames(store.Root.Bucket));
    }

    [Fact]
    public async Task A_composed_object_whose_crc32c_is_not_the_parts_combined_fails()
    {
        var store = await NewStoreAsync();
        var upload = await store.BeginUploadAsync("k", 1000);
        var parts = new[] { await store.UploadPartAsync(upload, 1, Bytes(1000, 62)), await store.UploadPartAsync(upload, 2, Bytes(10, 63)) };
        _gcs.CorruptCompose = true;
        await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.CompleteUploadAsync(upload, parts));
    }

    [Fact]
    public async Task A_part_uploaded_again_after_it_was_recorded_is_not_composed()
    {
        var store = await NewStoreAsync();
        var upload = await store.BeginUploadAsync("k", 1000);
        var recorded = await store.UploadPartAsync(upload, 1, Bytes(1000, 64));
        await store.UploadPartAsync(upload, 1, Bytes(1000, 65)); // a newer generation the caller did not record
        await Assert.ThrowsAsync<UploadNotFoundException>(() => store.CompleteUploadAsync(upload, [recorded]));
    }

    [Fact]
    public async Task A_part_bigger_than_one_upload_chunk_goes_in_several_puts()
    {
        var store = await NewStoreAsync();
        var data = Bytes((17 << 20) + 5, 68);
        var upload = await store.BeginUploadAsync("large", data.Length);
        var part = await store.UploadPartAsync(upload, 1, data);
        Assert.True(_gcs.Requests.Count(r => r.StartsWith("PUT /upload/", StringComparison.Ordinal)) >= 2);
        await store.CompleteUploadAsync(upload, [part]);
        Assert.Equal(data, await ReadAllAsync(await store.OpenReadAsync("large")));
    }

    [Fact]
    public async Task Reads_are_ranged_gets_through_the_clients_http()
    {
        var store = await NewStoreAsync();
        await store.PutAsync("dir/a b", Bytes(5000, 66));
        Assert.Equal(100, await store.ReadAsync("dir/a b", 4900, new byte[1000]));
        Assert.Contains(_gcs.Requests, r => r.StartsWith("GET /storage/v1/b/", StringComparison.Ordinal)
            && r.Contains("/o/dir%2Fa%20b?alt=media", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_registry_builds_gcs_stores_for_the_configured_endpoint()
    {
        var bucket = NewBucket();
        await using var stores = new ObjectStores(Options);
        var (store, key) = stores.Resolve($"{bucket}x/y");
        Assert.IsType<GcsObjectStore>(store);
        await store.PutAsync(key, Bytes(12, 67));
        Assert.Equal(12, (await store.StatAsync(key)).Size);
        Assert.True(stores.Open(NewBucket()).CanCopyFrom(store));
    }
}
