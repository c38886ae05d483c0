using System.Globalization;
using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Sky.Transfer.Storage.S3;

/// <summary>
/// An S3 bucket through AWSSDK.S3, on AWS or any S3-compatible endpoint (<see cref="ObjectStoreOptions.S3ServiceUrl"/>).
/// <para>Written to work on s3rver as on S3: bodies are sent without aws-chunked framing (<c>UseChunkEncoding = false</c>),
/// listings page with markers (ListObjects v1: s3rver's v2 continuation tokens fail on Node's OpenSSL 3), the copy
/// source header keeps its '/' unencoded (see <see cref="CreateClient"/>), and the adapter keeps no server-side record of
/// parts: the caller's <see cref="UploadedPart"/>s are the record (s3rver has no ListParts).</para>
/// <para>Checksums: every part and put carries Content-MD5, which S3 verifies; s3rver does not, so the part's or
/// object's returned ETag, which both compute as the MD5 of the bytes received, is compared too (unless the bucket
/// encrypts with KMS or a customer key, when the ETag is no MD5). Stat reports the MD5 when the ETag is one and the
/// CRC-32C or SHA-256 full-object checksums S3 keeps for objects written with them.</para>
/// </summary>
public sealed class S3ObjectStore : IObjectStore
{
    /// <summary>S3's largest single-request copy; bigger objects are copied in parts with UploadPartCopy.</summary>
    private const long MaxSingleCopy = 5L << 30;
    private const long CopyPartSize = 1L << 30;
    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly bool _etagIsMd5;

    /// <param name="client">A client from <see cref="CreateClient"/> (or configured the same way).</param>
    /// <param name="bucket">The bucket (an s3:// URI; its key is ignored).</param>
    /// <param name="etagIsMd5">False for buckets whose ETags are not MD5s for another reason than SSE-KMS/SSE-C (which are detected).</param>
    /// <param name="ownsClient">Dispose the client with the store.</param>
    public S3ObjectStore(IAmazonS3 client, ObjectUri bucket, bool etagIsMd5 = true, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(bucket);
        if (bucket.Kind != StoreKind.S3) throw new ArgumentException($"{bucket} is not an s3:// URI", nameof(bucket));
        _client = client;
        Root = bucket.BucketUri();
        _etagIsMd5 = etagIsMd5;
        _ownsClient = ownsClient;
    }

    public ObjectUri Root { get; }

    public StoreCapabilities Capabilities { get; } = new()
    {
        VerifiedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Md5 },
        ReportedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Md5, ChecksumAlgorithm.Crc32C, ChecksumAlgorithm.Sha256 },
        MinPartSize = 5L << 20,
        MaxPartSize = 5L << 30,
        MaxParts = 10_000,
    };

    private string Bucket => Root.Bucket;

    /// <summary>
    /// A client for the endpoint and credentials in <paramref name="options"/>: path-style addressing for a custom
    /// endpoint, SDK-computed checksums only where S3 requires them (the adapter sends its own Content-MD5), and the
    /// <c>x-amz-copy-source</c> header written as S3 documents it, bucket/key with the slash unencoded (the SDK encodes
    /// it as %2F, which S3 accepts and s3rver does not).
    /// </summary>
    public static AmazonS3Client CreateClient(ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        var region = string.IsNullOrWhiteSpace(options.S3Region) ? "us-east-1" : options.S3Region;
        if (!string.IsNullOrWhiteSpace(options.S3ServiceUrl))
        {
            config.ServiceURL = options.S3ServiceUrl;
            config.AuthenticationRegion = region;
            config.ForcePathStyle = options.S3ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            if (options.S3ForcePathStyle is { } pathStyle) config.ForcePathStyle = pathStyle;
        }
        var hasKey = !string.IsNullOrEmpty(options.S3AccessKey);
        if (hasKey != !string.IsNullOrEmpty(options.S3SecretKey))
            throw new ArgumentException("S3AccessKey and S3SecretKey go together: set both or neither", nameof(options));
        var client = hasKey ? new AmazonS3Client(new BasicAWSCredentials(options.S3AccessKey, options.S3SecretKey), config) : new AmazonS3Client(config);
        client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs request && request.Headers.TryGetValue("x-amz-copy-source", out var source))
                request.Headers["x-amz-copy-source"] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        };
        return client;
    }

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => Call(Root, "list", async () =>
    {
        await _client.ListObjectsAsync(new ListObjectsRequest { BucketName = Bucket, MaxKeys = 1 }, ct);
        if (!access.HasFlag(StoreAccess.Write)) return true;
        var probe = ObjectKeys.NewProbeKey();
        await Call(Root.WithKey(probe), "write", () => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket, Key = probe, InputStream = new MemoryStream([]), UseChunkEncoding = false,
        }, ct));
        try { await _client.DeleteObjectAsync(Bucket, probe, ct); }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Forbidden) { } // may write, may not delete: writing is what was asked
        return true;
    });

    public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var where = ObjectKeys.CheckPrefix(Root, prefix);
        return Call(where, "list", async () =>
        {
            var response = await _client.ListObjectsAsync(new ListObjectsRequest
            {
                BucketName = Bucket, Prefix = prefix, Marker = pageToken, MaxKeys = Math.Min(pageSize, 1000),
            }, ct);
            var objects = response.S3Objects ?? [];
            var page = objects.Where(o => !ObjectKeys.IsReserved(o.Key))
                .Select(o => Info(o.Key, o.Size ?? 0, o.ETag, o.LastModified, [])).ToList();
            var next = response.IsTruncated == true && objects.Count > 0 ? objects[^1].Key : null;
            return new ObjectPage(page, next);
        });
    }

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "stat", () => HeadAsync(uri, ct));
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l) ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        return Call(uri, "read", async () =>
        {
            if (length == 0)
            {
                var info = await HeadAsync(uri, ct);
                if (ifVersion is not null && info.Version != ifVersion) throw new ObjectChangedException(uri, ifVersion);
                return Stream.Null;
            }
            var request = new GetObjectRequest { BucketName = Bucket, Key = key };
            if (offset > 0 || length is not null) request.ByteRange = new ByteRange(ReadStreams.RangeHeader(offset, length));
            if (ifVersion is not null) request.EtagToMatch = Quote(ifVersion);
            GetObjectResponse response;
            try { response = await _client.GetObjectAsync(request, ct); }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) { return Stream.Null; }
            catch (AmazonS3Exception e) when (ifVersion is not null && e.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                throw new ObjectChangedException(uri, ifVersion, e);
            }
            // s3rver ignores If-Match; the ETag of what came back says the same.
            if (ifVersion is not null && Unquote(response.ETag) != ifVersion)
            {
                response.Dispose();
                throw new ObjectChangedException(uri, ifVersion);
            }
            // s3rver answers a range of an empty object with 206, "bytes 0-0/0" and a body it never sends, where S3 says 416.
            if (TotalSize(response.ContentRange) is { } total && total <= offset)
            {
                response.Dispose();
                return Stream.Null;
            }
            return (Stream)new OwnedReadStream(response.ResponseStream, response.ContentLength, response);
        });
    }

    public async Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default)
    {
        if (buffer.Length == 0) return 0;
        await using var stream = await OpenReadAsync(key, offset, buffer.Length, ifVersion, ct);
        var uri = Root.WithKey(key);
        return await Call(uri, "read", () => ReadStreams.FillAsync(stream, buffer, ct));
    }

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        var given = options?.Checksums ?? [];
        var md5 = ObjectKeys.ChecksumToSend(given, ChecksumAlgorithm.Md5, data.Span);
        var verified = ChecksumVerification.Verify(uri, data.Span, given.Where(c => c.Algorithm != ChecksumAlgorithm.Md5)).Append(md5).ToList();
        return Call(uri, "write", async () =>
        {
            var request = new PutObjectRequest
            {
                BucketName = Bucket, Key = key, InputStream = ReadStreams.Over(data), MD5Digest = md5.ToBase64(), UseChunkEncoding = false,
            };
            if (options?.ContentType is { } type) request.ContentType = type;
            PutObjectResponse response;
            try { response = await _client.PutObjectAsync(request, ct); }
            catch (AmazonS3Exception e) when (IsDigestError(e)) { throw new ChecksumMismatchException(uri, md5, null, e); }
            if (ReceivedOtherBytes(response.ETag, IsKeyEncrypted(response.ServerSideEncryptionMethod, response.ServerSideEncryptionCustomerMethod), md5))
            {
                await _client.DeleteObjectAsync(Bucket, key, ct); // the store kept bytes that are not the caller's
                throw new ChecksumMismatchException(uri, md5, Checksum.FromHex(ChecksumAlgorithm.Md5, Unquote(response.ETag)));
            }
            // PutObject's answer has no size or time: the HEAD gives the ObjectInfo the store would list.
            return await HeadAsync(uri, ct) with { Checksums = verified };
        });
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        ObjectKeys.CheckPartSize(Capabilities, partSize);
        return Call(uri, "start an upload", async () =>
        {
            var request = new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key };
            if (contentType is not null) request.ContentType = contentType;
            var response = await _client.InitiateMultipartUploadAsync(request, ct);
            return new MultipartUpload(key, response.UploadId, partSize, contentType);
        });
    }

    public Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = ObjectKeys.CheckObjectKey(Root, upload.Key);
        ObjectKeys.CheckPart(Capabilities, upload, partNumber, data.Length);
        var given = checksums ?? [];
        var md5 = ObjectKeys.ChecksumToSend(given, ChecksumAlgorithm.Md5, data.Span);
        var verified = ChecksumVerification.Verify(uri, data.Span, given.Where(c => c.Algorithm != ChecksumAlgorithm.Md5)).Append(md5).ToList();
        return Call(uri, "upload a part", async () =>
        {
            UploadPartResponse response;
            try
            {
                response = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket, Key = upload.Key, UploadId = upload.UploadId, PartNumber = partNumber,
                    InputStream = ReadStreams.Over(data), PartSize = data.Length, MD5Digest = md5.ToBase64(), UseChunkEncoding = false,
                }, ct);
            }
            catch (AmazonS3Exception e) when (IsDigestError(e)) { throw new ChecksumMismatchException(uri, md5, null, e); }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchUpload") { throw new UploadNotFoundException(uri, upload.UploadId, e); }
            if (ReceivedOtherBytes(response.ETag, IsKeyEncrypted(response.ServerSideEncryptionMethod, null) || !string.IsNullOrEmpty(response.SSECustomerAlgorithm), md5))
                throw new ChecksumMismatchException(uri, md5, Checksum.FromHex(ChecksumAlgorithm.Md5, Unquote(response.ETag)));
            return new UploadedPart(partNumber, data.Length, Unquote(response.ETag)) { Checksums = verified };
        });
    }

    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = ObjectKeys.CheckObjectKey(Root, upload.Key);
        var (ordered, size) = ObjectKeys.CheckParts(upload, parts);
        return Call(uri, "complete an upload", async () =>
        {
            try
            {
                await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = Bucket, Key = upload.Key, UploadId = upload.UploadId,
                    PartETags = ordered.Select(p => new PartETag(p.PartNumber, Quote(p.ETag))).ToList(),
                }, ct);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchUpload") { throw new UploadNotFoundException(uri, upload.UploadId, e); }
            catch (AmazonS3Exception e) when (e.ErrorCode is "InvalidPart" or "InvalidPartOrder" or "EntityTooSmall")
            {
                throw new ObjectStoreException($"{uri}: the store refused the part list: {e.ErrorCode}: {e.Message}", false, e);
            }
            var info = await HeadAsync(uri, ct);
            if (info.Size != size) throw new ObjectStoreException($"{uri}: completed object is {info.Size} bytes, the parts add up to {size}");
            return info;
        });
    }

    /// <summary>Aborts the upload; s3rver has no AbortMultipartUpload (its parts then stay in its data folder), which is not an error.</summary>
    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = ObjectKeys.CheckObjectKey(Root, upload.Key);
        return Call(uri, "abort an upload", async () =>
        {
            try { await _client.AbortMultipartUploadAsync(Bucket, upload.Key, upload.UploadId, ct); }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchUpload"
                || e.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented) { }
            return true;
        });
    }

    /// <summary>Another bucket through the same client: the same endpoint and credentials.</summary>
    public bool CanCopyFrom(IObjectStore source) => source is S3ObjectStore other && ReferenceEquals(other._client, _client);

    /// <summary>
    /// CopyObject up to 5 GiB; above, a multipart upload of UploadPartCopy parts (1 GiB each), which S3 has and
    /// s3rver lacks (so the tests exercise only the single-request path).
    /// </summary>
    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default)
    {
        if (!CanCopyFrom(source)) throw new ArgumentException($"cannot copy from {source.Root} to {Root} inside the store", nameof(source));
        var from = (S3ObjectStore)source;
        var sourceUri = ObjectKeys.CheckObjectKey(from.Root, sourceKey);
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "copy", async () =>
        {
            var sourceInfo = await Call(sourceUri, "stat", () => from.HeadAsync(sourceUri, ct));
            if (ifVersion is not null && sourceInfo.Version != ifVersion) throw new ObjectChangedException(sourceUri, ifVersion);
            if (sourceInfo.Size <= MaxSingleCopy)
            {
                try
                {
                    await _client.CopyObjectAsync(new CopyObjectRequest
                    {
                        SourceBucket = from.Bucket, SourceKey = sourceKey, DestinationBucket = Bucket, DestinationKey = key,
                        ETagToMatch = Quote(sourceInfo.ETag),
                    }, ct);
                }
                catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
                {
                    throw new ObjectStoreException($"{uri}: the store did not find {sourceUri} to copy, though it was just there: it was deleted "
                        + "meanwhile, or the store misreads the key in x-amz-copy-source (s3rver does for keys holding ; : @ & = + $ , or #)", false, e);
                }
            }
            else await CopyInPartsAsync(from.Bucket, sourceInfo, key, ct);
            return await HeadAsync(uri, ct);
        });
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "delete", () => _client.DeleteObjectAsync(Bucket, key, ct));
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsClient) _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task CopyInPartsAsync(string sourceBucket, ObjectInfo source, string key, CancellationToken ct)
    {
        var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key }, ct);
        try
        {
            var tags = new List<PartETag>();
            for (long first = 0, part = 1; first < source.Size; first += CopyPartSize, part++)
            {
                var response = await _client.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = sourceBucket, SourceKey = source.Key, DestinationBucket = Bucket, DestinationKey = key,
                    UploadId = upload.UploadId, PartNumber = (int)part, FirstByte = first,
                    LastByte = Math.Min(first + CopyPartSize, source.Size) - 1, ETagToMatch = [Quote(source.ETag)],
                }, ct);
                tags.Add(new PartETag((int)part, response.ETag));
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket, Key = key, UploadId = upload.UploadId, PartETags = tags,
            }, ct);
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(Bucket, key, upload.UploadId, CancellationToken.None);
            throw;
        }
    }

    private async Task<ObjectInfo> HeadAsync(ObjectUri uri, CancellationToken ct)
    {
        GetObjectMetadataResponse head;
        try
        {
            head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest
            {
                BucketName = Bucket, Key = uri.Key, ChecksumMode = ChecksumMode.ENABLED,
            }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw await NotFoundAsync(uri, e, ct); // HEAD has no body to say whether the bucket or the key is missing
        }
        var full = head.ChecksumType != ChecksumType.COMPOSITE;
        var extra = new List<Checksum>();
        if (full && WholeChecksum(head.ChecksumCRC32C) is { } crc) extra.Add(Checksum.FromBase64(ChecksumAlgorithm.Crc32C, crc));
        if (full && WholeChecksum(head.ChecksumSHA256) is { } sha) extra.Add(Checksum.FromBase64(ChecksumAlgorithm.Sha256, sha));
        var encrypted = IsKeyEncrypted(head.ServerSideEncryptionMethod, head.ServerSideEncryptionCustomerMethod);
        return Info(uri.Key, head.ContentLength, head.ETag, head.LastModified, extra, encrypted);
    }

    private async Task<StoreNotFoundException> NotFoundAsync(ObjectUri uri, Exception e, CancellationToken ct)
    {
        try { await _client.ListObjectsAsync(new ListObjectsRequest { BucketName = Bucket, MaxKeys = 1 }, ct); }
        catch (AmazonS3Exception probe) when (probe.ErrorCode == "NoSuchBucket") { return new BucketNotFoundException(Root, e); }
        return new ObjectNotFoundException(uri, e);
    }

    private ObjectInfo Info(string key, long size, string? etag, DateTime? lastModified, List<Checksum> checksums, bool encrypted = false)
    {
        var tag = Unquote(etag);
        if (_etagIsMd5 && !encrypted && IsMd5(tag)) checksums.Insert(0, Checksum.FromHex(ChecksumAlgorithm.Md5, tag));
        var modified = lastModified is { } t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()) : DateTimeOffset.MinValue;
        return new ObjectInfo(key, size, tag, modified) { Checksums = checksums };
    }

    /// <summary>True when the store says (by an MD5 ETag) that it received bytes other than those whose MD5 was sent.</summary>
    private bool ReceivedOtherBytes(string? etag, bool keyEncrypted, Checksum md5)
    {
        var tag = Unquote(etag);
        return _etagIsMd5 && !keyEncrypted && IsMd5(tag) && !tag.Equals(md5.Hex, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsKeyEncrypted(ServerSideEncryptionMethod? sse, ServerSideEncryptionCustomerMethod? sseCustomer) =>
        sse == ServerSideEncryptionMethod.AWSKMS || sse == ServerSideEncryptionMethod.AWSKMSDSSE
        || (sseCustomer is not null && sseCustomer != ServerSideEncryptionCustomerMethod.None);

    /// <summary>The object size at the end of a Content-Range ("bytes 0-99/1234"), if there is one.</summary>
    private static long? TotalSize(string? contentRange) =>
        contentRange is not null && contentRange.LastIndexOf('/') is var slash and >= 0
            && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            ? total
            : null;

    private static bool IsMd5(string tag) => tag.Length == 32 && tag.All(char.IsAsciiHexDigit);

    private static string? WholeChecksum(string? value) => string.IsNullOrEmpty(value) || value.Contains('-', StringComparison.Ordinal) ? null : value;

    private static bool IsDigestError(AmazonS3Exception e) => e.ErrorCode is "BadDigest" or "InvalidDigest";

    private static string Unquote(string? etag) => (etag ?? "").Trim('"');

    private static string Quote(string etag) => "\"" + etag + "\"";

    /// <summary>Runs an SDK call, mapping its failures onto <see cref="ObjectStoreException"/>s about <paramref name="where"/>.</summary>
    private static async Task<T> Call<T>(ObjectUri where, string operation, Func<Task<T>> action)
    {
        try { return await action(); }
        catch (ObjectStoreException) { throw; }
        catch (AmazonS3Exception e) { throw Map(where, operation, e); }
        catch (AmazonServiceException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", IsTransientStatus(e.StatusCode), e); }
        catch (AmazonClientException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", e.InnerException is HttpRequestException or IOException, e); }
        catch (HttpRequestException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
        catch (IOException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
    }

    private static ObjectStoreException Map(ObjectUri where, string operation, AmazonS3Exception e) => e.ErrorCode switch
    {
        "NoSuchBucket" => new BucketNotFoundException(where, e),
        "NoSuchKey" => new ObjectNotFoundException(where, e),
        "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AllAccessDisabled" or "AccountProblem" or "ExpiredToken" or "InvalidToken"
            => new PermissionDeniedException(where, operation, e.ErrorCode, e),
        _ when e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => new PermissionDeniedException(where, operation, e.ErrorCode, e),
        _ => new ObjectStoreException(string.Create(CultureInfo.InvariantCulture,
            $"{where}: {operation} failed: {e.ErrorCode ?? ((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)}: {e.Message}"),
            e.ErrorCode is "SlowDown" or "RequestTimeout" or "InternalError" or "ServiceUnavailable" || IsTransientStatus(e.StatusCode), e),
    };

    private static bool IsTransientStatus(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;

    private static Task<bool> Call(ObjectUri where, string operation, Func<Task> action) =>
        Call(where, operation, async () => { await action(); return true; });
}
