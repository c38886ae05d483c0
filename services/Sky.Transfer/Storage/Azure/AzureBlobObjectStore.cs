using System.Globalization;
using System.Net;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Sky.Transfer.Storage.Azure;

/// <summary>
/// An Azure Blob container through Azure.Storage.Blobs, on Azure or azurite. A multipart upload is a block blob's
/// staged blocks (Put Block, then Put Block List in part order); the upload id lives only in the block ids
/// (<c>base64("{uploadId}-{part:D6}")</c>), so nothing is kept server-side beyond the blocks, and aborting cannot
/// remove them: Azure discards uncommitted blocks after a week, or when another block list is committed.
/// <para>Checksums: every block and put carries its MD5 (Content-MD5), which Azure and azurite verify; a put stores it as the
/// blob's Content-MD5, which stat then reports. A committed block list gets no MD5 of the whole (Azure computes none),
/// and azurite's ETags are not MD5s. CRC-64 is not used: azurite does not speak it.</para>
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private readonly BlobServiceClient _service;
    private readonly BlobContainerClient _container;

    /// <param name="service">The account's client, from <see cref="CreateServiceClient"/>.</param>
    /// <param name="root">The container (an az:// URI naming the same account; its key is ignored).</param>
    public AzureBlobObjectStore(BlobServiceClient service, ObjectUri root)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(root);
        if (root.Kind != StoreKind.Azure) throw new ArgumentException($"{root} is not an az:// URI", nameof(root));
        if (!string.Equals(service.AccountName, root.Account, StringComparison.Ordinal))
            throw new ArgumentException($"the client is for account '{service.AccountName}', the URI names '{root.Account}'", nameof(root));
        _service = service;
        _container = service.GetBlobContainerClient(root.Bucket);
        Root = root.BucketUri();
    }

    public ObjectUri Root { get; }

    public StoreCapabilities Capabilities { get; } = new()
    {
        VerifiedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Md5 },
        ReportedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Md5 },
        MinPartSize = 1,
        MaxPartSize = 4000L << 20,
        MaxParts = 50_000,
    };

    /// <summary>
    /// The client for <paramref name="account"/>: from the connection string when one is set (it must be for that
    /// account), else <see cref="ObjectStoreOptions.AzureAccountEndpoint"/> with the shared key, the SAS token, or nothing
    /// (public containers).
    /// </summary>
    public static BlobServiceClient CreateServiceClient(ObjectStoreOptions options, string account)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(account);
        var clientOptions = ClientOptions(options.AzureServiceVersion);
        if (options.AzureConnectionString is { } connection)
        {
            var client = new BlobServiceClient(connection, clientOptions);
            if (!string.Equals(client.AccountName, account, StringComparison.Ordinal))
                throw new ObjectStoreException($"az://{account}/: AzureConnectionString is for account '{client.AccountName}'");
            return client;
        }
        var endpoint = options.AzureAccountEndpoint(account);
        if (options.AzureAccountKey is { } key) return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key), clientOptions);
        if (options.AzureSasToken is { } sas) return new BlobServiceClient(endpoint, new AzureSasCredential(sas.TrimStart('?')), clientOptions);
        return new BlobServiceClient(endpoint, clientOptions);
    }

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => Call(Root, "list", async () =>
    {
        await foreach (var _ in _container.GetBlobsAsync(new GetBlobsOptions(), ct).AsPages(null, 1)) break;
        if (!access.HasFlag(StoreAccess.Write)) return;
        var probe = _container.GetBlockBlobClient(ObjectKeys.NewProbeKey());
        await Call(Root.WithKey(probe.Name), "write", () => probe.UploadAsync(new MemoryStream([]), new BlobUploadOptions(), ct));
        try { await probe.DeleteIfExistsAsync(cancellationToken: ct); }
        catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.Forbidden) { } // writing is what was asked
    });

    public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var where = ObjectKeys.CheckPrefix(Root, prefix);
        return Call(where, "list", async () =>
        {
            var options = new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix };
            await foreach (var page in _container.GetBlobsAsync(options, ct).AsPages(pageToken, Math.Min(pageSize, 5000)))
            {
                var objects = page.Values.Where(b => !ObjectKeys.IsReserved(b.Name))
                    .Select(b => Info(b.Name, b.Properties.ContentLength ?? 0, b.Properties.ETag, b.Properties.LastModified, b.Properties.ContentHash))
                    .ToList();
                return new ObjectPage(objects, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
            }
            return new ObjectPage([], null);
        });
    }

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "stat", () => PropertiesAsync(uri, ct));
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l) ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        return Call(uri, "read", async () =>
        {
            if (length == 0) return await EmptyReadAsync(uri, ifVersion, ct);
            var options = new BlobDownloadOptions { Range = new HttpRange(offset, length) };
            if (ifVersion is not null) options.Conditions = new BlobRequestConditions { IfMatch = new ETag(Quote(ifVersion)) };
            try
            {
                var result = await _container.GetBlobClient(key).DownloadStreamingAsync(options, ct);
                return (Stream)new OwnedReadStream(result.Value.Content, result.Value.Details.ContentLength, result.Value);
            }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable) { return await EmptyReadAsync(uri, ifVersion, ct); }
            catch (RequestFailedException e) when (e.Status == (int)HttpStatusCode.PreconditionFailed && ifVersion is not null)
            {
                throw new ObjectChangedException(uri, ifVersion, e);
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound && offset > 0)
            {
                // azurite answers a range starting at the end with BlobNotFound, where Azure says 416.
                return await EmptyReadAsync(uri, ifVersion, ct);
            }
        });
    }

    public async Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default)
    {
        if (buffer.Length == 0) return 0;
        await using var stream = await OpenReadAsync(key, offset, buffer.Length, ifVersion, ct);
        return await Call(Root.WithKey(key), "read", () => ReadStreams.FillAsync(stream, buffer, ct));
    }

    /// <summary>
    /// One Put Blob (up to 5000 MiB) with a transactional Content-MD5, which Azure checks the body against, and the same
    /// MD5 as the blob's Content-MD5, which stat then reports. The MD5 is the caller's when it gave one (sent by
    /// <see cref="PutMd5Policy"/>: no pass over the bytes here), else computed; other checksums a caller gives are compared
    /// with the buffer first, so a mismatch stores nothing. (azurite's Put Blob response carries no usable MD5, so unlike
    /// a block's it is not compared.)
    /// </summary>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        var given = options?.Checksums ?? [];
        var callers = ChecksumVerification.Find(given, ChecksumAlgorithm.Md5);
        var md5 = callers ?? Checksum.Compute(ChecksumAlgorithm.Md5, data.Span);
        var verified = ChecksumVerification.Verify(uri, data.Span, given.Where(c => c.Algorithm != ChecksumAlgorithm.Md5)).Append(md5).ToList();
        return Call(uri, "write", async () =>
        {
            var upload = new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = options?.ContentType, ContentHash = md5.ToBytes() },
                // One Put Blob: the SDK sends in one request only what is below InitialTransferSize (at exactly the size it
                // staged blocks and committed them, two or more requests per put).
                TransferOptions = new StorageTransferOptions { InitialTransferSize = data.Length + 1L, MaximumConcurrency = 1 },
            };
            var sent = new PutMd5(md5.ToBase64());
            Response<BlobContentInfo> response;
            try
            {
                using (HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [PutMd5Policy.Property] = sent }))
                    response = await _container.GetBlockBlobClient(key).UploadAsync(ReadStreams.Over(data), upload, ct);
            }
            catch (RequestFailedException e) when (IsMd5Error(e)) { throw new ChecksumMismatchException(uri, md5, null, e); }
            if (!sent.Sent && callers is not null && Checksum.Compute(ChecksumAlgorithm.Md5, data.Span) is var actual && actual != md5)
            {
                // A client made without the policy sent no Content-MD5, so the service checked nothing: check here.
                await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: ct);
                throw new ChecksumMismatchException(uri, md5, actual);
            }
            return Info(key, data.Length, response.Value.ETag, response.Value.LastModified, md5.ToBytes()) with { Checksums = verified };
        });
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default)
    {
        ObjectKeys.CheckObjectKey(Root, key);
        ObjectKeys.CheckPartSize(Capabilities, partSize);
        return Task.FromResult(new MultipartUpload(key, ObjectKeys.NewUploadId(), partSize, contentType));
    }

    public Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        ObjectKeys.CheckPart(Capabilities, upload, partNumber, data.Length);
        var given = checksums ?? [];
        var md5 = ObjectKeys.ChecksumToSend(given, ChecksumAlgorithm.Md5, data.Span);
        var verified = ChecksumVerification.Verify(uri, data.Span, given.Where(c => c.Algorithm != ChecksumAlgorithm.Md5)).Append(md5).ToList();
        return Call(uri, "upload a part", async () =>
        {
            var options = new BlockBlobStageBlockOptions
            {
                TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, PrecalculatedChecksum = md5.ToBytes() },
            };
            Response<BlockInfo> response;
            try { response = await _container.GetBlockBlobClient(upload.Key).StageBlockAsync(BlockId(upload, partNumber), ReadStreams.Over(data), options, ct); }
            catch (RequestFailedException e) when (IsMd5Error(e)) { throw new ChecksumMismatchException(uri, md5, null, e); }
            CheckReceived(uri, md5, response.Value.ContentHash);
            return new UploadedPart(partNumber, data.Length, md5.Hex) { Checksums = verified };
        });
    }

    /// <summary>Checks that each listed part is staged with its size (Get Block List), then commits the blocks in part order.</summary>
    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        var (ordered, size) = ObjectKeys.CheckParts(upload, parts);
        return Call(uri, "complete an upload", async () =>
        {
            var blob = _container.GetBlockBlobClient(upload.Key);
            Dictionary<string, long> staged;
            try
            {
                var list = await blob.GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: ct);
                staged = list.Value.UncommittedBlocks.ToDictionary(b => b.Name, b => b.SizeLong, StringComparer.Ordinal);
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound) { throw new UploadNotFoundException(uri, upload.UploadId, e); }
            foreach (var part in ordered)
            {
                if (!staged.TryGetValue(BlockId(upload, part.PartNumber), out var stagedSize))
                    throw new UploadNotFoundException(uri, upload.UploadId + $" (part {part.PartNumber} is not staged)");
                if (stagedSize != part.Size)
                    throw new ObjectStoreException($"{uri}: part {part.PartNumber} is staged with {stagedSize} bytes, listed with {part.Size}");
            }
            var options = new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = upload.ContentType } };
            var response = await blob.CommitBlockListAsync(ordered.Select(p => BlockId(upload, p.PartNumber)), options, ct);
            return Info(upload.Key, size, response.Value.ETag, response.Value.LastModified, null);
        });
    }

    /// <summary>Nothing to do server-side: uncommitted blocks cannot be deleted alone and expire after a week.</summary>
    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default)
    {
        CheckUpload(upload);
        return Task.CompletedTask;
    }

    /// <summary>A container of the same account, through the same client (Copy Blob within an account needs no SAS).</summary>
    public bool CanCopyFrom(IObjectStore source) => source is AzureBlobObjectStore other && ReferenceEquals(other._service, _service);

    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default)
    {
        if (!CanCopyFrom(source)) throw new ArgumentException($"cannot copy from {source.Root} to {Root} inside the store", nameof(source));
        var from = (AzureBlobObjectStore)source;
        var sourceUri = ObjectKeys.CheckObjectKey(from.Root, sourceKey);
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "copy", async () =>
        {
            var sourceInfo = await Call(sourceUri, "stat", () => from.PropertiesAsync(sourceUri, ct));
            if (ifVersion is not null && sourceInfo.Version != ifVersion) throw new ObjectChangedException(sourceUri, ifVersion);
            var target = _container.GetBlobClient(key);
            var options = new BlobCopyFromUriOptions { SourceConditions = new BlobRequestConditions { IfMatch = new ETag(Quote(sourceInfo.ETag)) } };
            var copy = await Call(sourceUri, "copy", () => target.StartCopyFromUriAsync(from._container.GetBlobClient(sourceKey).Uri, options, ct));
            await copy.WaitForCompletionAsync(ct);
            var properties = await target.GetPropertiesAsync(cancellationToken: ct);
            if (properties.Value.CopyStatus != CopyStatus.Success)
                throw new ObjectStoreException($"{uri}: copy from {sourceUri} ended {properties.Value.CopyStatus}: {properties.Value.CopyStatusDescription}");
            return Info(key, properties.Value.ContentLength, properties.Value.ETag, properties.Value.LastModified, properties.Value.ContentHash);
        });
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "delete", async () =>
        {
            // Not DeleteIfExists: it also swallows ContainerNotFound, and a missing container is an error here.
            try { await _container.GetBlobClient(key).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct); }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound) { }
        });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static BlobClientOptions ClientOptions(string? serviceVersion)
    {
        BlobClientOptions options;
        if (serviceVersion is null) options = new BlobClientOptions();
        else
        {
            var name = "V" + serviceVersion.Replace('-', '_');
            options = Enum.TryParse<BlobClientOptions.ServiceVersion>(name, out var version) && Enum.IsDefined(version)
                ? new BlobClientOptions(version)
                : throw new FormatException($"AzureServiceVersion: '{serviceVersion}' is not a Blob service version this SDK knows (e.g. 2025-11-05)");
        }
        options.AddPolicy(new PutMd5Policy(), HttpPipelinePosition.PerCall);
        return options;
    }

    /// <summary>
    /// Sends a put's Content-MD5 from the caller's checksum, which the service checks the body against: the put then costs
    /// no pass over its bytes here. The SDK's own validation would hash them again, and refuses a precalculated MD5 for an
    /// upload it might split into blocks (its Upload always might). Per call, before the request is signed.
    /// </summary>
    private sealed class PutMd5Policy : HttpPipelineSynchronousPolicy
    {
        public const string Property = "sky.put-content-md5";

        public override void OnSendingRequest(HttpMessage message)
        {
            if (!message.TryGetProperty(Property, out var value) || value is not PutMd5 md5) return;
            // Put Blob only: on a block or a block list the whole blob's MD5 would be wrong (then nothing is sent, and the
            // put checks the bytes itself).
            if (message.Request.Method != RequestMethod.Put || message.Request.Uri.Query.Contains("comp=", StringComparison.Ordinal)) return;
            message.Request.Headers.SetValue("Content-MD5", md5.Base64);
            md5.Sent = true;
        }
    }

    /// <summary>One put's MD5 for <see cref="PutMd5Policy"/>, and whether it went out.</summary>
    private sealed class PutMd5(string base64)
    {
        public string Base64 { get; } = base64;
        public bool Sent { get; set; }
    }

    private async Task<ObjectInfo> PropertiesAsync(ObjectUri uri, CancellationToken ct)
    {
        var p = (await _container.GetBlobClient(uri.Key).GetPropertiesAsync(cancellationToken: ct)).Value;
        return Info(uri.Key, p.ContentLength, p.ETag, p.LastModified, p.ContentHash);
    }

    /// <summary>An empty read at or past the end, after checking the blob is there (and is the version asked for).</summary>
    private async Task<Stream> EmptyReadAsync(ObjectUri uri, string? ifVersion, CancellationToken ct)
    {
        var info = await PropertiesAsync(uri, ct);
        if (ifVersion is not null && info.Version != ifVersion) throw new ObjectChangedException(uri, ifVersion);
        return Stream.Null;
    }

    private static ObjectInfo Info(string key, long size, ETag etag, DateTimeOffset lastModified, byte[]? md5)
    {
        var checksums = md5 is { Length: 16 } ? [Checksum.FromBytes(ChecksumAlgorithm.Md5, md5)] : Array.Empty<Checksum>();
        return new ObjectInfo(key, size, etag.ToString().Trim('"'), lastModified) { Checksums = checksums };
    }

    private static ObjectInfo Info(string key, long size, ETag? etag, DateTimeOffset? lastModified, byte[]? md5) =>
        Info(key, size, etag ?? default, lastModified ?? DateTimeOffset.MinValue, md5);

    /// <summary>Azure returns the MD5 of what it received; compare it too, in case a store accepted the header without checking.</summary>
    private static void CheckReceived(ObjectUri uri, Checksum md5, byte[]? received)
    {
        if (received is { Length: 16 } && Checksum.FromBytes(ChecksumAlgorithm.Md5, received) is var got && got != md5)
            throw new ChecksumMismatchException(uri, md5, got);
    }

    private ObjectUri CheckUpload(MultipartUpload upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = ObjectKeys.CheckObjectKey(Root, upload.Key);
        if (upload.UploadId.Length != 32 || !upload.UploadId.All(char.IsAsciiHexDigitLower)) throw new UploadNotFoundException(uri, upload.UploadId);
        return uri;
    }

    /// <summary>Block ids of one blob must all be the same length: 32 hex digits, a dash and 6 digits, base64'ed.</summary>
    private static string BlockId(MultipartUpload upload, int partNumber) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{upload.UploadId}-{partNumber:D6}")));

    /// <summary>Azure says Md5Mismatch; azurite says InvalidOperation "Provided contentMD5 doesn't match.".</summary>
    private static bool IsMd5Error(RequestFailedException e) =>
        e.ErrorCode == BlobErrorCode.Md5Mismatch || (e.Status == 400 && e.Message.Contains("MD5", StringComparison.OrdinalIgnoreCase));

    private static string Quote(string etag) => "\"" + etag + "\"";

    private static async Task<T> Call<T>(ObjectUri where, string operation, Func<Task<T>> action)
    {
        try { return await action(); }
        catch (ObjectStoreException) { throw; }
        catch (RequestFailedException e) { throw Map(where, operation, e); }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is RequestFailedException or HttpRequestException or IOException))
        {
            throw new ObjectStoreException($"{where}: {operation} failed after retries: {e.InnerExceptions[^1].Message}", true, e);
        }
        catch (HttpRequestException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
        catch (IOException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
    }

    private static Task Call(ObjectUri where, string operation, Func<Task> action) =>
        Call(where, operation, async () => { await action(); return true; });

    private static ObjectStoreException Map(ObjectUri where, string operation, RequestFailedException e)
    {
        if (e.ErrorCode == BlobErrorCode.ContainerNotFound) return new BucketNotFoundException(where, e);
        if (e.ErrorCode == BlobErrorCode.BlobNotFound) return new ObjectNotFoundException(where, e);
        if (e.Status is 401 or 403) return new PermissionDeniedException(where, operation, e.ErrorCode, e);
        var transient = e.Status is 0 or 408 or 429 or >= 500;
        var firstLine = e.Message.Split('\n', 2)[0].Trim();
        return new ObjectStoreException($"{where}: {operation} failed: {e.ErrorCode ?? e.Status.ToString(CultureInfo.InvariantCulture)}: {firstLine}", transient, e);
    }
}
