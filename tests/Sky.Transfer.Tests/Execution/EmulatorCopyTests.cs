using Amazon.S3;
using Azure.Storage.Blobs;
using Sky.Testing;
using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Azure;
using Sky.Transfer.Storage.S3;

namespace Sky.Transfer.Tests.Execution;

/// <summary>
/// The copier between two real emulators, s3rver (S3) to azurite (Azure Blob), as the storage tests run them (skipped,
/// with the reason, when they are absent): multipart and single-put objects arrive byte for byte, every chunk checked by
/// Azure's Content-MD5, every object against the MD5 s3rver reports.
/// </summary>
public sealed class EmulatorCopyTests(S3rverEmulator s3rver, AzuriteEmulator azurite)
    : IClassFixture<S3rverEmulator>, IClassFixture<AzuriteEmulator>, IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
    }

    private async Task<(IObjectStore Source, IObjectStore Destination, BlobContainerClient Container)> StoresAsync()
    {
        s3rver.Require();
        azurite.Require();
        var options = new ObjectStoreOptions
        {
            S3ServiceUrl = s3rver.Endpoint, S3AccessKey = S3rverEmulator.AccessKey, S3SecretKey = S3rverEmulator.SecretKey,
            AzureEndpoint = azurite.Endpoint, AzureAccountKey = AzuriteEmulator.AccountKey, AzureServiceVersion = "2025-11-05",
        };
        var s3 = S3ObjectStore.CreateClient(options);
        _owned.Add(s3);
        var bucket = NpmEmulator.NewName("sky-copy");
        await s3.PutBucketAsync(bucket);
        var blobs = AzureBlobObjectStore.CreateServiceClient(options, AzuriteEmulator.AccountName);
        var container = (await blobs.CreateBlobContainerAsync(NpmEmulator.NewName("sky-copy"))).Value;
        return (new S3ObjectStore(s3, ObjectUri.Parse($"s3://{bucket}/")),
            new AzureBlobObjectStore(blobs, ObjectUri.Parse($"az://{AzuriteEmulator.AccountName}/{container.Name}/")), container);
    }

    [SkippableFact]
    public async Task Objects_copy_from_s3rver_to_azurite_byte_for_byte_and_verified()
    {
        var (source, destination, container) = await StoresAsync();
        var objects = new Dictionary<string, byte[]>
        {
            ["in/big.bin"] = LocalFolders.Bytes((3 << 20) + 4321, 1),
            ["in/deep/small.txt"] = LocalFolders.Bytes(777, 2),
            ["in/empty"] = [],
        };
        foreach (var (key, data) in objects) await source.PutAsync(key, data);
        var options = new CopyOptions { ChunkSize = 1 << 20, RetryBackoff = TimeSpan.FromMilliseconds(10) };

        var (outcome, _) = await LocalFolders.RunAsync(LocalFolders.Copier(new MemoryCopyCheckpointStore()),
            new CopyRequest("emu", source, "in/", destination, "out/"), options);

        Assert.True(outcome.Succeeded, string.Join("; ", outcome.Failures));
        Assert.Equal(3, outcome.Final.ObjectsDone);
        foreach (var (key, data) in objects)
        {
            var blob = container.GetBlobClient("out/" + key["in/".Length..]);
            Assert.Equal(data, (await blob.DownloadContentAsync()).Value.Content.ToArray());
        }
        // Azure verifies each chunk's MD5; s3rver reports each object's MD5, which the bytes read must match.
        Assert.Equal(3, outcome.Checks["chunks:md5"]);
        Assert.Equal(3, outcome.Checks["source:md5"]);
        Assert.Equal(3, outcome.Checks["size"]);
    }

    [SkippableFact]
    public async Task A_missing_container_fails_before_any_byte_moves()
    {
        var (source, _, container) = await StoresAsync();
        await source.PutAsync("x", new byte[10]);
        var blobs = AzureBlobObjectStore.CreateServiceClient(new ObjectStoreOptions
        {
            AzureEndpoint = azurite.Endpoint, AzureAccountKey = AzuriteEmulator.AccountKey, AzureServiceVersion = "2025-11-05",
        }, AzuriteEmulator.AccountName);
        var missing = new AzureBlobObjectStore(blobs, ObjectUri.Parse($"az://{AzuriteEmulator.AccountName}/{NpmEmulator.NewName("missing")}/"));

        var e = await Assert.ThrowsAsync<CopyPreconditionException>(() =>
            LocalFolders.RunAsync(LocalFolders.Copier(new MemoryCopyCheckpointStore()), new CopyRequest("m", source, "", missing, ""), new CopyOptions()));

        Assert.Equal(CopyPrecondition.DestinationNotFound, e.Problem);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Empty(await container.GetBlobsAsync().ToListAsync());
    }
}
