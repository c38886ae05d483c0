using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Storage.v1.Data;
using Google.Cloud.Storage.V1;
using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace Sky.Transfer.Storage.Gcs;

/// <summary>
/// A GCS bucket through Google.Cloud.Storage.V1 (JSON API). A multipart upload is parts uploaded in any order as
/// temporary objects under <c>.sky-uploads/{uploadId}/</c>, joined by compose (32 sources a call, in a tree for more)
/// pinned to each part's generation, then deleted; GCS's resumable uploads take chunks only in order, so they cannot
/// carry parallel parts. Ranged reads are plain <c>alt=media</c> GETs with a Range header through the client's
/// authenticated HttpClient, so the body streams instead of being copied into a destination stream.
/// <para>Checksums: each part and put sends its CRC-32C (and the caller's MD5, if given) in the object's metadata,
/// which GCS verifies before creating the object; the composed object's CRC-32C, which GCS computes, must equal the
/// parts' CRCs combined. Stat reports CRC-32C always and MD5 for objects that are not composite.</para>
/// <para>No GCS emulator runs here: the tests drive this adapter over HTTP against a fake of the JSON API endpoints it
/// uses (tests/Sky.Transfer.Tests/Storage/FakeGcsServer.cs).</para>
/// </summary>
public sealed class GcsObjectStore : IObjectStore
{
    /// <summary>Compose takes at most 32 sources per call.</summary>
    private const int ComposeFanIn = 32;
    /// <summary>Resumable upload chunks are multiples of 256 KiB; bigger parts go in several chunks of at most this.</summary>
    private const int MaxChunk = 16 << 20;
    private readonly StorageClient _client;
    private readonly bool _ownsClient;

    /// <param name="client">A client from <see cref="CreateClient"/>.</param>
    /// <param name="bucket">The bucket (a gs:// URI; its key is ignored).</param>
    /// <param name="ownsClient">Dispose the client with the store.</param>
    public GcsObjectStore(StorageClient client, ObjectUri bucket, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(bucket);
        if (bucket.Kind != StoreKind.Gcs) throw new ArgumentException($"{bucket} is not a gs:// URI", nameof(bucket));
        _client = client;
        _ownsClient = ownsClient;
        Root = bucket.BucketUri();
    }

    public ObjectUri Root { get; }

    /// <summary>Parts are capped at 1024 so a composite stays within GCS's component limit (1024 × 5 GiB is GCS's largest object).</summary>
    public StoreCapabilities Capabilities { get; } = new()
    {
        VerifiedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Crc32C, ChecksumAlgorithm.Md5 },
        ReportedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Crc32C, ChecksumAlgorithm.Md5 },
        MinPartSize = 1,
        MaxPartSize = 5L << 30,
        MaxParts = 1024,
    };

    private string Bucket => Root.Bucket;

    /// <summary>
    /// A client for <see cref="ObjectStoreOptions.GcsEndpoint"/> (unauthenticated unless a key file is given) or for
    /// Google with the service account key file or the application default credentials.
    /// </summary>
    public static StorageClient CreateClient(ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new StorageClientBuilder();
        if (options.GcsEndpoint is { } endpoint)
        {
            var baseUri = endpoint.TrimEnd('/') + "/";
            builder.BaseUri = baseUri.EndsWith("/storage/v1/", StringComparison.Ordinal) ? baseUri : baseUri + "storage/v1/";
            builder.UnauthenticatedAccess = options.GcsCredentialsFile is null;
        }
        if (options.GcsCredentialsFile is { } file)
            builder.GoogleCredential = CredentialFactory.FromFile<ServiceAccountCredential>(file).ToGoogleCredential();
        try { return builder.Build(); }
        catch (InvalidOperationException e)
        {
            throw new ObjectStoreException($"gs://: no Google credentials ({e.Message}): set GcsCredentialsFile or GOOGLE_APPLICATION_CREDENTIALS", false, e);
        }
    }

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => Call(Root, "list", async () =>
    {
        await FirstPageAsync("", null, 1, ct);
        if (!access.HasFlag(StoreAccess.Write)) return true;
        var probe = ObjectKeys.NewProbeKey();
        await Call(Root.WithKey(probe), "write", () => _client.UploadObjectAsync(Bucket, probe, null, new MemoryStream([]), cancellationToken: ct));
        try { await _client.DeleteObjectAsync(Bucket, probe, cancellationToken: ct); }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.Forbidden) { } // writing is what was asked
        return true;
    });

    public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var where = ObjectKeys.CheckPrefix(Root, prefix);
        return Call(where, "list", async () =>
        {
            var response = await FirstPageAsync(prefix, pageToken, Math.Min(pageSize, 1000), ct);
            var objects = (response.Items ?? []).Where(o => !ObjectKeys.IsReserved(o.Name)).Select(Info).ToList();
            return new ObjectPage(objects, string.IsNullOrEmpty(response.NextPageToken) ? null : response.NextPageToken);
        });
    }

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "stat", async () => Info(await _client.GetObjectAsync(Bucket, key, cancellationToken: ct)));
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l) ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        var generation = ifVersion is null ? (long?)null : ParseGeneration(uri, ifVersion);
        return Call(uri, "read", async () =>
        {
            if (length == 0) return await EmptyReadAsync(uri, ifVersion, ct);
            var url = $"{_client.Service.BaseUri}b/{Uri.EscapeDataString(Bucket)}/o/{Uri.EscapeDataString(key)}?alt=media"
                + (generation is { } g ? $"&ifGenerationMatch={g.ToString(CultureInfo.InvariantCulture)}" : "");
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (offset > 0 || length is not null) request.Headers.Range = new RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null);
            var response = await _client.Service.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            try
            {
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return await EmptyReadAsync(uri, ifVersion, ct);
                if (response.StatusCode == HttpStatusCode.PreconditionFailed && ifVersion is not null) throw new ObjectChangedException(uri, ifVersion);
                if (!response.IsSuccessStatusCode) throw await ErrorAsync(uri, response, ct);
                if (ifVersion is not null && response.Headers.TryGetValues("x-goog-generation", out var values) && values.FirstOrDefault() != ifVersion)
                    throw new ObjectChangedException(uri, ifVersion);
                var body = await response.Content.ReadAsStreamAsync(ct);
                return new OwnedReadStream(body, response.Content.Headers.ContentLength, response);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        });
    }

    public async Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default)
    {
        if (buffer.Length == 0) return 0;
        await using var stream = await OpenReadAsync(key, offset, buffer.Length, ifVersion, ct);
        return await Call(Root.WithKey(key), "read", () => ReadStreams.FillAsync(stream, buffer, ct));
    }

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "write", async () =>
        {
            var (written, verified) = await UploadAsync(uri, key, data, options?.Checksums, options?.ContentType, ct);
            return Info(written) with { Checksums = verified };
        });
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default)
    {
        ObjectKeys.CheckObjectKey(Root, key);
        ObjectKeys.CheckPartSize(Capabilities, partSize);
        return Task.FromResult(new MultipartUpload(key, ObjectKeys.NewUploadId(), partSize, contentType));
    }

    /// <summary>Uploads the part as a temporary object; its ETag is that object's generation, which compose is pinned to.</summary>
    public Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        ObjectKeys.CheckPart(Capabilities, upload, partNumber, data.Length);
        return Call(uri, "upload a part", async () =>
        {
            var (written, verified) = await UploadAsync(uri, PartName(upload, partNumber), data, checksums, null, ct);
            return new UploadedPart(partNumber, data.Length, Generation(written)) { Checksums = verified };
        });
    }

    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        var (ordered, size) = ObjectKeys.CheckParts(upload, parts);
        return Call(uri, "complete an upload", async () =>
        {
            var sources = ordered.Select(p => (Name: PartName(upload, p.PartNumber), Generation: ParsePartGeneration(uri, p))).ToList();
            var level = 0;
            while (sources.Count > ComposeFanIn)
            {
                var next = new List<(string, long)>();
                foreach (var (group, index) in sources.Chunk(ComposeFanIn).Select((g, i) => (g, i)))
                {
                    var name = string.Create(CultureInfo.InvariantCulture, $"{ObjectKeys.ReservedPrefix}{upload.UploadId}/compose-{level}-{index:D6}");
                    var composed = await ComposeAsync(uri, upload, group, name, null, ct);
                    next.Add((name, composed.Generation ?? 0));
                }
                sources = next;
                level++;
            }
            var result = await ComposeAsync(uri, upload, sources, upload.Key, upload.ContentType, ct);
            var info = Info(result);
            if (info.Size != size) throw new ObjectStoreException($"{uri}: composed object is {info.Size} bytes, the parts add up to {size}");
            if (ExpectedCrc(ordered) is { } expected && info.ChecksumOf(ChecksumAlgorithm.Crc32C) is { } actual && actual != expected)
                throw new ChecksumMismatchException(uri, expected, actual);
            await DeleteTemporariesAsync(upload, ct);
            return info;
        });
    }

    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        return Call(uri, "abort an upload", async () => { await DeleteTemporariesAsync(upload, ct); return true; });
    }

    /// <summary>Any bucket through the same client: objects.rewrite copies within GCS, across buckets and locations.</summary>
    public bool CanCopyFrom(IObjectStore source) => source is GcsObjectStore other && ReferenceEquals(other._client, _client);

    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default)
    {
        if (!CanCopyFrom(source)) throw new ArgumentException($"cannot copy from {source.Root} to {Root} inside the store", nameof(source));
        var from = (GcsObjectStore)source;
        var sourceUri = ObjectKeys.CheckObjectKey(from.Root, sourceKey);
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "copy", async () =>
        {
            var sourceObject = await Call(sourceUri, "stat", () => _client.GetObjectAsync(from.Bucket, sourceKey, cancellationToken: ct));
            if (ifVersion is not null && Info(sourceObject).Version != ifVersion) throw new ObjectChangedException(sourceUri, ifVersion);
            var copied = await _client.CopyObjectAsync(from.Bucket, sourceKey, Bucket, key,
                new CopyObjectOptions { IfSourceGenerationMatch = sourceObject.Generation }, ct);
            return Info(copied);
        });
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        return Call(uri, "delete", async () =>
        {
            try { await _client.DeleteObjectAsync(Bucket, key, cancellationToken: ct); }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound && !IsBucketMissing(e.Error?.Message ?? e.Message)) { }
            return true;
        });
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsClient) _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Uploads <paramref name="data"/> as <paramref name="name"/> with its CRC-32C (and the caller's MD5) in the metadata,
    /// which GCS checks before it creates the object. The CRC-32C of the object it created is compared as well.
    /// </summary>
    private async Task<(GcsObject Written, IReadOnlyList<Checksum> Verified)> UploadAsync(
        ObjectUri uri, string name, ReadOnlyMemory<byte> data, IReadOnlyList<Checksum>? given, string? contentType, CancellationToken ct)
    {
        var crc = ObjectKeys.ChecksumToSend(given, ChecksumAlgorithm.Crc32C, data.Span);
        var md5 = ChecksumVerification.Find(given, ChecksumAlgorithm.Md5);
        var verified = ChecksumVerification.Verify(uri, data.Span, (given ?? []).Where(c => c.Algorithm == ChecksumAlgorithm.Sha256)).ToList();
        verified.Add(crc);
        if (md5 is { } m) verified.Add(m);
        var destination = new GcsObject { Bucket = Bucket, Name = name, ContentType = contentType, Crc32c = crc.ToBase64(), Md5Hash = md5?.ToBase64() };
        var chunk = (int)Math.Min(MaxChunk, Math.Max(UploadObjectOptions.MinimumChunkSize,
            (data.Length + UploadObjectOptions.MinimumChunkSize - 1L) / UploadObjectOptions.MinimumChunkSize * UploadObjectOptions.MinimumChunkSize));
        var options = new UploadObjectOptions { UploadValidationMode = UploadValidationMode.None, ChunkSize = chunk };
        GcsObject written;
        try { written = await _client.UploadObjectAsync(destination, ReadStreams.Over(data), options, ct); }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.BadRequest && MentionsChecksum(e))
        {
            throw new ChecksumMismatchException(uri, md5 is { } m2 && e.Message.Contains("MD5", StringComparison.OrdinalIgnoreCase) ? m2 : crc, null, e);
        }
        if (written.Crc32c is { } stored && Checksum.FromBase64(ChecksumAlgorithm.Crc32C, stored) is var got && got != crc)
        {
            await _client.DeleteObjectAsync(Bucket, name, new DeleteObjectOptions { IfGenerationMatch = written.Generation }, ct);
            throw new ChecksumMismatchException(uri, crc, got);
        }
        return (written, verified);
    }

    private async Task<GcsObject> ComposeAsync(ObjectUri uri, MultipartUpload upload, IEnumerable<(string Name, long Generation)> sources,
        string destination, string? contentType, CancellationToken ct)
    {
        var request = new ComposeRequest
        {
            Destination = new GcsObject { Bucket = Bucket, Name = destination, ContentType = contentType },
            SourceObjects = sources.Select(s => new ComposeRequest.SourceObjectsData { Name = s.Name, Generation = s.Generation }).ToList(),
        };
        try { return await _client.Service.Objects.Compose(request, Bucket, destination).ExecuteAsync(ct); }
        catch (GoogleApiException e) when (e.HttpStatusCode is HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed
            && !IsBucketMissing(e.Error?.Message ?? e.Message))
        {
            // A part is gone or was uploaded again since the caller recorded it.
            throw new UploadNotFoundException(uri, upload.UploadId + $" ({e.Error?.Message ?? e.Message})", e);
        }
    }

    private async Task DeleteTemporariesAsync(MultipartUpload upload, CancellationToken ct)
    {
        var prefix = $"{ObjectKeys.ReservedPrefix}{upload.UploadId}/";
        await foreach (var obj in _client.ListObjectsAsync(Bucket, prefix).WithCancellation(ct))
        {
            try { await _client.DeleteObjectAsync(Bucket, obj.Name, cancellationToken: ct); }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound) { }
        }
    }

    private async Task<Objects> FirstPageAsync(string prefix, string? pageToken, int pageSize, CancellationToken ct)
    {
        var options = new ListObjectsOptions { PageSize = pageSize, PageToken = pageToken };
        await using var pages = _client.ListObjectsAsync(Bucket, prefix.Length == 0 ? null : prefix, options).AsRawResponses().GetAsyncEnumerator(ct);
        return await pages.MoveNextAsync() ? pages.Current : new Objects();
    }

    private async Task<Stream> EmptyReadAsync(ObjectUri uri, string? ifVersion, CancellationToken ct)
    {
        var info = Info(await _client.GetObjectAsync(Bucket, uri.Key, cancellationToken: ct));
        if (ifVersion is not null && info.Version != ifVersion) throw new ObjectChangedException(uri, ifVersion);
        return Stream.Null;
    }

    private static ObjectInfo Info(GcsObject o)
    {
        var checksums = new List<Checksum>();
        if (!string.IsNullOrEmpty(o.Crc32c)) checksums.Add(Checksum.FromBase64(ChecksumAlgorithm.Crc32C, o.Crc32c));
        if (!string.IsNullOrEmpty(o.Md5Hash)) checksums.Add(Checksum.FromBase64(ChecksumAlgorithm.Md5, o.Md5Hash));
        var modified = o.UpdatedDateTimeOffset ?? o.TimeCreatedDateTimeOffset ?? DateTimeOffset.MinValue;
        return new ObjectInfo(o.Name, (long)(o.Size ?? 0), o.ETag ?? "", modified) { Version = Generation(o), Checksums = checksums };
    }

    private static string Generation(GcsObject o) => (o.Generation ?? 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>The whole object's CRC-32C from its parts' (when every part has one).</summary>
    private static Checksum? ExpectedCrc(IReadOnlyList<UploadedPart> parts)
    {
        uint crc = 0;
        foreach (var part in parts)
        {
            if (ChecksumVerification.Find(part.Checksums, ChecksumAlgorithm.Crc32C) is not { } c) return null;
            crc = Crc32C.Combine(crc, c.ToCrc32C(), part.Size);
        }
        return Checksum.FromCrc32C(crc);
    }

    private static string PartName(MultipartUpload upload, int partNumber) =>
        string.Create(CultureInfo.InvariantCulture, $"{ObjectKeys.ReservedPrefix}{upload.UploadId}/part-{partNumber:D6}");

    private ObjectUri CheckUpload(MultipartUpload upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = ObjectKeys.CheckObjectKey(Root, upload.Key);
        if (upload.UploadId.Length != 32 || !upload.UploadId.All(char.IsAsciiHexDigitLower)) throw new UploadNotFoundException(uri, upload.UploadId);
        return uri;
    }

    private static long ParsePartGeneration(ObjectUri uri, UploadedPart part) =>
        long.TryParse(part.ETag, NumberStyles.None, CultureInfo.InvariantCulture, out var g)
            ? g
            : throw new ArgumentException($"{uri}: part {part.PartNumber}'s ETag '{part.ETag}' is not a GCS generation", nameof(part));

    private static long ParseGeneration(ObjectUri uri, string version) =>
        long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var g)
            ? g
            : throw new ArgumentException($"{uri}: '{version}' is not a GCS generation", nameof(version));

    private static bool MentionsChecksum(GoogleApiException e) =>
        (e.Error?.Message ?? e.Message) is var m && (m.Contains("CRC32C", StringComparison.OrdinalIgnoreCase) || m.Contains("MD5", StringComparison.OrdinalIgnoreCase));

    private static bool IsBucketMissing(string message) =>
        message.Contains("bucket does not exist", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a JSON API error from a raw response (the ranged GET).</summary>
    private static async Task<ObjectStoreException> ErrorAsync(ObjectUri uri, HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        var message = body;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var m)) message = m.GetString() ?? body;
        }
        catch (JsonException) { }
        return Map(uri, "read", response.StatusCode, message, null);
    }

    private static async Task<T> Call<T>(ObjectUri where, string operation, Func<Task<T>> action)
    {
        try { return await action(); }
        catch (ObjectStoreException) { throw; }
        catch (GoogleApiException e) { throw Map(where, operation, e.HttpStatusCode, e.Error?.Message ?? e.Message, e); }
        catch (TokenResponseException e) { throw new PermissionDeniedException(where, operation, e.Error?.ErrorDescription ?? e.Message, e); }
        catch (HttpRequestException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
        catch (IOException e) { throw new ObjectStoreException($"{where}: {operation} failed: {e.Message}", true, e); }
    }

    private static ObjectStoreException Map(ObjectUri where, string operation, HttpStatusCode status, string message, Exception? inner) => status switch
    {
        HttpStatusCode.NotFound when IsBucketMissing(message) => new BucketNotFoundException(where, inner),
        HttpStatusCode.NotFound => new ObjectNotFoundException(where, inner),
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new PermissionDeniedException(where, operation, message, inner),
        _ => new ObjectStoreException(string.Create(CultureInfo.InvariantCulture, $"{where}: {operation} failed: HTTP {(int)status}: {message}"),
            (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout, inner),
    };
}
