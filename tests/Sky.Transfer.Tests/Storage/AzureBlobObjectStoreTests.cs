using Azure.Storage.Blobs;
using Sky.Testing;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Azure;

namespace Sky.Transfer.Tests.Storage;

/// <summary>The Azure Blob adapter against a real azurite (CI's, or one started here): the shared contract and Azure particulars.</summary>
public sealed class AzureBlobObjectStoreTests(AzuriteEmulator azurite) : ObjectStoreContract, IClassFixture<AzuriteEmulator>
{
    /// <summary>Pinned, so the tests also pass against an azurite started without --skipApiVersionCheck.</summary>
    private const string ServiceVersion = "2025-11-05";

    private ObjectStoreOptions Options => new()
    {
        AzureEndpoint = azurite.Endpoint, AzureAccountKey = AzuriteEmulator.AccountKey, AzureServiceVersion = ServiceVersion,
    };

    private static ObjectUri Container(string name) => ObjectUri.Parse($"az://{AzuriteEmulator.AccountName}/{name}/");

    private BlobServiceClient NewClient(ObjectStoreOptions? options = null) =>
        AzureBlobObjectStore.CreateServiceClient(options ?? Options, AzuriteEmulator.AccountName);

    private static async Task<ObjectUri> NewContainerAsync(BlobServiceClient client)
    {
        var name = NpmEmulator.NewName("sky-az");
        await client.CreateBlobContainerAsync(name);
        return Container(name);
    }

    protected override async Task<IObjectStore> NewStoreAsync()
    {
        azurite.Require();
        var client = NewClient();
        return new AzureBlobObjectStore(client, await NewContainerAsync(client));
    }

    protected override IObjectStore MissingBucketStore() => new AzureBlobObjectStore(NewClient(), Container(NpmEmulator.NewName("missing")));

    protected override IObjectStore Reopen(IObjectStore store) => new AzureBlobObjectStore(NewClient(), store.Root);

    [SkippableFact]
    public async Task A_wrong_account_key_or_no_credentials_is_permission_denied()
    {
        var store = await NewStoreAsync();
        await store.PutAsync("k", Bytes(10, 50));
        var wrongKey = new AzureBlobObjectStore(NewClient(Options with { AzureAccountKey = Convert.ToBase64String(new byte[64]) }), store.Root);
        var e = await Assert.ThrowsAsync<PermissionDeniedException>(() => wrongKey.StatAsync("k"));
        Assert.Contains(store.Root.ToString(), e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => wrongKey.VerifyAccessAsync(StoreAccess.Read));
        var anonymous = new AzureBlobObjectStore(NewClient(Options with { AzureAccountKey = null }), store.Root);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => anonymous.ReadAsync("k", 0, new byte[10]));
    }

    [SkippableFact]
    public async Task A_put_is_one_request_carrying_the_callers_md5_and_a_client_without_the_policy_still_stores_nothing_wrong()
    {
        var store = await NewStoreAsync();
        var data = Bytes(9 << 20, 3); // above the SDK's 4 MiB block size: one Put Blob all the same
        var right = Checksum.Compute(ChecksumAlgorithm.Md5, data);
        var wrong = Checksum.Compute(ChecksumAlgorithm.Md5, Bytes(5_000, 4));
        var key = NpmEmulator.NewName("put");
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using (new global::Azure.Core.Diagnostics.AzureEventSourceListener((_, message) =>
               {
                   if (message.StartsWith("Request [", StringComparison.Ordinal) && message.Contains("/" + key, StringComparison.Ordinal)) requests.Enqueue(message);
               }, System.Diagnostics.Tracing.EventLevel.Informational))
        {
            await store.PutAsync(key, data, new PutOptions { Checksums = [right] });
            var refused = await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.PutAsync(key, data, new PutOptions { Checksums = [wrong] }));
            Assert.IsType<global::Azure.RequestFailedException>(refused.InnerException); // azurite's refusal, not a check here
        }
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.DoesNotContain("comp=", r.Split('\n')[0], StringComparison.Ordinal));
        Assert.All(requests, r => Assert.Contains("Content-MD5:", r, StringComparison.Ordinal));
        Assert.Equal(right, (await store.StatAsync(key)).ChecksumOf(ChecksumAlgorithm.Md5)); // the refused put left the first

        // A client made elsewhere has no such policy: the put still stores nothing that does not match the caller's MD5.
        var plain = new BlobServiceClient(Options.AzureAccountEndpoint(AzuriteEmulator.AccountName),
            new global::Azure.Storage.StorageSharedKeyCredential(AzuriteEmulator.AccountName, AzuriteEmulator.AccountKey),
            new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05));
        var outside = new AzureBlobObjectStore(plain, store.Root);
        var caught = await Assert.ThrowsAsync<ChecksumMismatchException>(() => outside.PutAsync("q", data, new PutOptions { Checksums = [wrong] }));
        Assert.Equal(wrong, caught.Expected);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.StatAsync("q"));
        Assert.Equal(right, (await outside.PutAsync("q", data, new PutOptions { Checksums = [right] })).ChecksumOf(ChecksumAlgorithm.Md5));
    }

    [SkippableFact]
    public async Task Containers_of_one_account_copy_server_side()
    {
        azurite.Require();
        var client = NewClient();
        var from = new AzureBlobObjectStore(client, await NewContainerAsync(client));
        var to = new AzureBlobObjectStore(client, await NewContainerAsync(client));
        var data = Bytes(300_000, 51);
        await from.PutAsync("src", data);
        Assert.True(to.CanCopyFrom(from));
        Assert.Equal(300_000, (await to.CopyFromAsync(from, "src", "dst")).Size);
        Assert.Equal(data, await ReadAllAsync(await to.OpenReadAsync("dst")));
    }

    [SkippableFact]
    public async Task A_put_keeps_its_md5_and_a_block_list_has_none()
    {
        var store = await NewStoreAsync();
        var data = Bytes(1000, 52);
        await store.PutAsync("put", data);
        Assert.Equal(Checksum.Compute(ChecksumAlgorithm.Md5, data), (await store.StatAsync("put")).ChecksumOf(ChecksumAlgorithm.Md5));

        var upload = await store.BeginUploadAsync("blocks", 1000);
        await store.CompleteUploadAsync(upload, [await store.UploadPartAsync(upload, 1, data)]);
        Assert.Null((await store.StatAsync("blocks")).ChecksumOf(ChecksumAlgorithm.Md5));
    }

    [SkippableFact]
    public async Task The_registry_reaches_azurite_through_the_endpoint_base_and_the_key()
    {
        azurite.Require();
        var container = await NewContainerAsync(NewClient());
        await using var stores = new ObjectStores(Options);
        var (store, key) = stores.Resolve($"{container}a/b");
        Assert.IsType<AzureBlobObjectStore>(store);
        await store.PutAsync(key, Bytes(5, 53));
        Assert.Equal(5, (await store.StatAsync(key)).Size);
    }

    [Fact]
    public void The_account_endpoint_is_a_template_or_a_path_style_base()
    {
        Assert.Equal(new Uri("https://acct1.blob.core.windows.net"), new ObjectStoreOptions().AzureAccountEndpoint("acct1"));
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), new ObjectStoreOptions { AzureEndpoint = "http://127.0.0.1:10000/" }.AzureAccountEndpoint("devstoreaccount1"));
        Assert.Equal(new Uri("https://acct1.privatelink.blob.core.windows.net"),
            new ObjectStoreOptions { AzureEndpoint = "https://{account}.privatelink.blob.core.windows.net" }.AzureAccountEndpoint("acct1"));
        Assert.Throws<FormatException>(() => new ObjectStoreOptions { AzureEndpoint = "ftp://x" }.AzureAccountEndpoint("a"));
    }

    [Fact]
    public void An_unknown_service_version_or_a_connection_string_for_another_account_is_refused()
    {
        Assert.Throws<FormatException>(() => AzureBlobObjectStore.CreateServiceClient(new ObjectStoreOptions { AzureServiceVersion = "1999-01-01" }, "acct1"));
        var other = "DefaultEndpointsProtocol=http;AccountName=other1;AccountKey=" + AzuriteEmulator.AccountKey + ";BlobEndpoint=http://127.0.0.1:1/other1;";
        var e = Assert.Throws<ObjectStoreException>(() => AzureBlobObjectStore.CreateServiceClient(new ObjectStoreOptions { AzureConnectionString = other }, "acct1"));
        Assert.Contains("other1", e.Message, StringComparison.Ordinal);
    }
}
