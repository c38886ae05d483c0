using Amazon.S3;
using Azure.Storage.Blobs;
using Google.Cloud.Storage.V1;
using Sky.Transfer.Storage.Azure;
using Sky.Transfer.Storage.Gcs;
using Sky.Transfer.Storage.Local;
using Sky.Transfer.Storage.S3;

namespace Sky.Transfer.Storage;

/// <summary>
/// Builds the adapter for a URI from <see cref="ObjectStoreOptions"/>, one per bucket, and shares one SDK client per
/// endpoint (one S3 client, one Blob client per Azure account, one GCS client), so two buckets behind the same client
/// can copy server-side (<see cref="IObjectStore.CanCopyFrom"/>). Clients are made on first use: a URI for a store
/// that is not configured fails only when it is opened. Disposing the registry disposes the clients.
/// </summary>
public sealed class ObjectStores(ObjectStoreOptions options) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ObjectUri, IObjectStore> _stores = [];
    private readonly Dictionary<string, BlobServiceClient> _azure = new(StringComparer.Ordinal);
    private AmazonS3Client? _s3;
    private StorageClient? _gcs;
    private bool _disposed;

    public ObjectStoreOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The store for <paramref name="uri"/>'s bucket and the key (or prefix) it names.</summary>
    public (IObjectStore Store, string Key) Resolve(string uri)
    {
        var parsed = ObjectUri.Parse(uri);
        return (Open(parsed), parsed.Key);
    }

    /// <summary>The store for <paramref name="uri"/>'s bucket (its key is ignored).</summary>
    public IObjectStore Open(ObjectUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var bucket = uri.BucketUri();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_stores.TryGetValue(bucket, out var store)) return store;
            store = bucket.Kind switch
            {
                StoreKind.Local => new LocalObjectStore(bucket, Options.Time),
                StoreKind.S3 => new S3ObjectStore(_s3 ??= S3ObjectStore.CreateClient(Options), bucket, Options.S3ETagIsMd5),
                StoreKind.Azure => new AzureBlobObjectStore(AzureClient(bucket.Account!), bucket),
                StoreKind.Gcs => new GcsObjectStore(_gcs ??= GcsObjectStore.CreateClient(Options), bucket),
                _ => throw new InvalidObjectUriException(uri.ToString(), $"no adapter for {bucket.Kind}"),
            };
            _stores[bucket] = store;
            return store;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<IObjectStore> stores;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            stores = [.. _stores.Values];
        }
        foreach (var store in stores) await store.DisposeAsync();
        _s3?.Dispose();
        _gcs?.Dispose();
    }

    private BlobServiceClient AzureClient(string account)
    {
        if (!_azure.TryGetValue(account, out var client)) _azure[account] = client = AzureBlobObjectStore.CreateServiceClient(Options, account);
        return client;
    }
}
