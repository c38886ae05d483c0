using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sky.Transfer.Tests.Storage;

/// <summary>
/// A fake of the Google Cloud Storage JSON API endpoints <c>GcsObjectStore</c> uses, on a Kestrel loopback port, written
/// from the published reference (no GCS emulator is available here). Google.Cloud.Storage.V1 talks real HTTP to it.
/// <para>As GCS does: <c>GET b/B/o</c> (prefix, maxResults, pageToken; names in byte order); <c>GET b/B/o/O</c> (metadata,
/// or the bytes with <c>alt=media</c>, honouring Range with 206 and 416, and <c>ifGenerationMatch</c> with 412);
/// <c>DELETE</c>; resumable uploads (<c>POST upload/.../o?uploadType=resumable</c> with the object's metadata, then
/// <c>PUT</c>s with Content-Range, 308 until the last byte; gzip'ed request bodies accepted), which create the object only if the metadata's
/// <c>crc32c</c> and <c>md5Hash</c> match the bytes (else 400, GCS's message); <c>compose</c> (1-32 sources, each pinned
/// to its generation, CRC-32C of the result and no MD5, component counts added); <c>rewriteTo</c> (one call, done).
/// Errors are GCS's JSON with its messages ("No such object: B/O", "The specified bucket does not exist.").</para>
/// <para>Checksums are computed with <see cref="ReferenceCrc32C"/>, not the code under test.</para>
/// </summary>
public sealed class FakeGcsServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private readonly List<JsonObject> _finished = [];
    private WebApplication? _app;
    private long _generation = 1_700_000_000_000_000;

    private FakeGcsServer() { }

    /// <summary>The API root, as <c>GcsEndpoint</c> takes it.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>When set, compose stores a CRC-32C that is not the bytes' (a store that corrupted the join).</summary>
    public bool CorruptCompose { get; set; }

    /// <summary>The object metadata each resumable upload started with, in order.</summary>
    public IReadOnlyList<JsonObject> UploadMetadata
    {
        get { lock (_gate) return [.. _sessions.Values.Select(s => s.Metadata).Concat(_finished)]; }
    }

    /// <summary>"METHOD path?query" of every request so far.</summary>
    public IReadOnlyList<string> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    public static async Task<FakeGcsServer> StartAsync()
    {
        var fake = new FakeGcsServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        fake._app = builder.Build();
        fake._app.Run(async context =>
        {
            try { await fake.HandleAsync(context); }
            catch (Exception e) when (!context.Response.HasStarted) { await Error(context, 500, $"the fake failed: {e}"); }
        });
        await fake._app.StartAsync();
        var address = fake._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Endpoint = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    public void CreateBucket(string name)
    {
        lock (_gate) _buckets[name] = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
    }

    /// <summary>Names of the objects in <paramref name="bucket"/>, temporary ones included.</summary>
    public IReadOnlyList<string> ObjectNames(string bucket)
    {
        lock (_gate) return [.. _buckets[bucket].Keys];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record StoredObject(string Bucket, string Name, byte[] Data, long Generation, string? ContentType,
        DateTimeOffset Updated, string Crc32c, string? Md5, int ComponentCount);

    private sealed class Session(string bucket, string name, JsonObject metadata)
    {
        public string Bucket { get; } = bucket;
        public string Name { get; } = name;
        public JsonObject Metadata { get; } = metadata;
        public MemoryStream Data { get; } = new();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var queryAt = raw.IndexOf('?', StringComparison.Ordinal);
        var path = queryAt < 0 ? raw : raw[..queryAt];
        lock (_gate) _requests.Add($"{context.Request.Method} {raw}");
        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        var query = context.Request.Query;
        var method = context.Request.Method;
        switch (segments)
        {
            case ["storage", "v1", "b", var bucket] when method == "GET":
                await (BucketExists(bucket) ? Json(context, 200, new JsonObject { ["kind"] = "storage#bucket", ["name"] = bucket }) : NoBucket(context));
                return;
            case ["storage", "v1", "b", var bucket, "o"] when method == "GET":
                await ListAsync(context, bucket);
                return;
            case ["storage", "v1", "b", var bucket, "o", var name] when method == "GET":
                await GetAsync(context, bucket, name, query["alt"] == "media");
                return;
            case ["storage", "v1", "b", var bucket, "o", var name] when method == "DELETE":
                await DeleteAsync(context, bucket, name);
                return;
            case ["storage", "v1", "b", var bucket, "o", var name, "compose"] when method == "POST":
                await ComposeAsync(context, bucket, name);
                return;
            case ["storage", "v1", "b", var bucket, "o", var name, "rewriteTo" or "copyTo", "b", var toBucket, "o", var toName] when method == "POST":
                await RewriteAsync(context, bucket, name, toBucket, toName, segments[6] == "rewriteTo");
                return;
            case ["upload", "storage", "v1", "b", var bucket, "o"] when method == "POST" && query["uploadType"] == "resumable":
                await StartUploadAsync(context, bucket);
                return;
            case ["upload", "storage", "v1", "b", _, "o"] when method == "PUT" && query.ContainsKey("upload_id"):
                await ContinueUploadAsync(context, query["upload_id"].ToString());
                return;
            default:
                await Error(context, 400, $"the fake does not serve {method} {raw}");
                return;
        }
    }

    private async Task ListAsync(HttpContext context, string bucket)
    {
        var prefix = context.Request.Query["prefix"].ToString();
        var max = int.TryParse(context.Request.Query["maxResults"], out var m) ? m : 1000;
        var after = context.Request.Query["pageToken"].ToString();
        List<StoredObject> found;
        lock (_gate)
        {
            if (!_buckets.TryGetValue(bucket, out var objects)) { found = null!; }
            else found = [.. objects.Values.Where(o => o.Name.StartsWith(prefix, StringComparison.Ordinal)
                && (after.Length == 0 || string.CompareOrdinal(o.Name, after) > 0)).Take(max + 1)];
        }
        if (found is null) { await NoBucket(context); return; }
        var page = found.Take(max).ToList();
        var body = new JsonObject { ["kind"] = "storage#objects", ["items"] = new JsonArray([.. page.Select(Resource)]) };
        if (found.Count > max) body["nextPageToken"] = page[^1].Name;
        await Json(context, 200, body);
    }

    private async Task GetAsync(HttpContext context, string bucket, string name, bool media)
    {
        if (Find(bucket, name) is not { } obj) { await Missing(context, bucket, name); return; }
        if (context.Request.Query["ifGenerationMatch"] is { Count: > 0 } g && g.ToString() != Gen(obj.Generation))
        {
            await Error(context, 412, "At least one of the pre-conditions you specified did not hold.");
            return;
        }
        if (!media) { await Json(context, 200, Resource(obj)); return; }
        context.Response.Headers["x-goog-generation"] = Gen(obj.Generation);
        context.Response.Headers["x-goog-hash"] = $"crc32c={obj.Crc32c}" + (obj.Md5 is null ? "" : $",md5={obj.Md5}");
        var range = context.Request.Headers.Range.ToString();
        if (range.Length == 0)
        {
            context.Response.ContentLength = obj.Data.Length;
            await context.Response.Body.WriteAsync(obj.Data);
            return;
        }
        var bounds = range["bytes=".Length..].Split('-');
        var start = long.Parse(bounds[0], CultureInfo.InvariantCulture);
        var end = bounds[1].Length == 0 ? obj.Data.Length - 1 : Math.Min(long.Parse(bounds[1], CultureInfo.InvariantCulture), obj.Data.Length - 1);
        if (start >= obj.Data.Length)
        {
            await Error(context, 416, "The requested range cannot be satisfied.");
            return;
        }
        context.Response.StatusCode = 206;
        context.Response.Headers.ContentRange = $"bytes {start}-{end}/{obj.Data.Length}";
        context.Response.ContentLength = end - start + 1;
        await context.Response.Body.WriteAsync(obj.Data.AsMemory((int)start, (int)(end - start + 1)));
    }

    private async Task DeleteAsync(HttpContext context, string bucket, string name)
    {
        if (Find(bucket, name) is not { } obj) { await Missing(context, bucket, name); return; }
        if (context.Request.Query["ifGenerationMatch"] is { Count: > 0 } g && g.ToString() != Gen(obj.Generation))
        {
            await Error(context, 412, "At least one of the pre-conditions you specified did not hold.");
            return;
        }
        lock (_gate) _buckets[bucket].Remove(name);
        context.Response.StatusCode = 204;
    }

    private async Task StartUploadAsync(HttpContext context, string bucket)
    {
        if (!BucketExists(bucket)) { await NoBucket(context); return; }
        var metadata = await JsonNode.ParseAsync(Body(context)) as JsonObject ?? [];
        var name = context.Request.Query["name"].FirstOrDefault() ?? metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name)) { await Error(context, 400, "Required object name"); return; }
        var id = Guid.NewGuid().ToString("N");
        lock (_gate) _sessions[id] = new Session(bucket, name, metadata);
        context.Response.Headers.Location = $"{Endpoint}upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={id}";
        context.Response.StatusCode = 200;
    }

    private async Task ContinueUploadAsync(HttpContext context, string id)
    {
        Session? session;
        lock (_gate) _sessions.TryGetValue(id, out session);
        if (session is null) { await Error(context, 404, "No such upload"); return; }
        // Content-Range: "bytes a-b/total", "bytes a-b/*", "bytes */total" or "bytes */*".
        var spec = context.Request.Headers.ContentRange.ToString()["bytes ".Length..];
        var slash = spec.IndexOf('/', StringComparison.Ordinal);
        var total = spec[(slash + 1)..] == "*" ? (long?)null : long.Parse(spec[(slash + 1)..], CultureInfo.InvariantCulture);
        if (spec[..slash] != "*")
        {
            var first = long.Parse(spec[..slash].Split('-')[0], CultureInfo.InvariantCulture);
            if (first != session.Data.Length) { await Error(context, 400, $"expected the chunk at {session.Data.Length}, got {first}"); return; }
            await Body(context).CopyToAsync(session.Data);
        }
        if (total is null || session.Data.Length < total)
        {
            context.Response.StatusCode = 308;
            if (session.Data.Length > 0) context.Response.Headers["Range"] = $"bytes=0-{session.Data.Length - 1}";
            return;
        }
        lock (_gate)
        {
            _sessions.Remove(id);
            _finished.Add(session.Metadata);
        }
        var data = session.Data.ToArray();
        var crc = Crc(data);
        var md5 = Convert.ToBase64String(MD5.HashData(data));
        if (session.Metadata["crc32c"]?.GetValue<string>() is { } wantCrc && wantCrc != crc)
        {
            await Error(context, 400, $"Provided CRC32C \"{wantCrc}\" doesn't match calculated CRC32C \"{crc}\".");
            return;
        }
        if (session.Metadata["md5Hash"]?.GetValue<string>() is { } wantMd5 && wantMd5 != md5)
        {
            await Error(context, 400, $"Provided MD5 hash \"{wantMd5}\" doesn't match calculated MD5 hash \"{md5}\".");
            return;
        }
        var stored = Store(session.Bucket, session.Name, data, session.Metadata["contentType"]?.GetValue<string>(), crc, md5, 1);
        await Json(context, 200, Resource(stored));
    }

    private async Task ComposeAsync(HttpContext context, string bucket, string name)
    {
        if (!BucketExists(bucket)) { await NoBucket(context); return; }
        var body = (JsonObject)(await JsonNode.ParseAsync(Body(context)))!;
        var sources = body["sourceObjects"]!.AsArray();
        if (sources.Count is 0 or > 32) { await Error(context, 400, "The number of source components provided (" + sources.Count + ") exceeds the maximum (32)"); return; }
        var parts = new List<StoredObject>();
        foreach (var source in sources)
        {
            var sourceName = source!["name"]!.GetValue<string>();
            if (Find(bucket, sourceName) is not { } obj) { await Missing(context, bucket, sourceName); return; }
            if (source["generation"] is { } gen && gen.ToString() != Gen(obj.Generation))
            {
                await Error(context, 412, "At least one of the pre-conditions you specified did not hold.");
                return;
            }
            parts.Add(obj);
        }
        var data = parts.SelectMany(p => p.Data).ToArray();
        var crc = Crc(data);
        if (CorruptCompose) crc = Crc([.. data, 0]);
        var contentType = body["destination"]?["contentType"]?.GetValue<string>();
        var stored = Store(bucket, name, data, contentType, crc, null, parts.Sum(p => p.ComponentCount));
        await Json(context, 200, Resource(stored));
    }

    private async Task RewriteAsync(HttpContext context, string bucket, string name, string toBucket, string toName, bool rewrite)
    {
        if (!BucketExists(toBucket)) { await NoBucket(context); return; }
        if (Find(bucket, name) is not { } source) { await Missing(context, bucket, name); return; }
        if (context.Request.Query["ifSourceGenerationMatch"] is { Count: > 0 } g && g.ToString() != Gen(source.Generation))
        {
            await Error(context, 412, "At least one of the pre-conditions you specified did not hold.");
            return;
        }
        var copy = Store(toBucket, toName, source.Data, source.ContentType, source.Crc32c, source.Md5, source.ComponentCount);
        if (!rewrite) { await Json(context, 200, Resource(copy)); return; }
        var size = copy.Data.Length.ToString(CultureInfo.InvariantCulture);
        await Json(context, 200, new JsonObject
        {
            ["kind"] = "storage#rewriteResponse", ["totalBytesRewritten"] = size, ["objectSize"] = size, ["done"] = true, ["resource"] = Resource(copy),
        });
    }

    /// <summary>The request body, un-gzipped when the client compressed it (Google's client gzips JSON bodies, as GCS accepts).</summary>
    private static Stream Body(HttpContext context) =>
        context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
            ? new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress)
            : context.Request.Body;

    private StoredObject Store(string bucket, string name, byte[] data, string? contentType, string crc, string? md5, int components)
    {
        lock (_gate)
        {
            var stored = new StoredObject(bucket, name, data, ++_generation, contentType, DateTimeOffset.UtcNow, crc, md5, components);
            _buckets[bucket][name] = stored;
            return stored;
        }
    }

    private StoredObject? Find(string bucket, string name)
    {
        lock (_gate) return _buckets.TryGetValue(bucket, out var objects) && objects.TryGetValue(name, out var obj) ? obj : null;
    }

    private bool BucketExists(string bucket)
    {
        lock (_gate) return _buckets.ContainsKey(bucket);
    }

    private static JsonObject Resource(StoredObject o)
    {
        var resource = new JsonObject
        {
            ["kind"] = "storage#object",
            ["id"] = $"{o.Bucket}/{o.Name}/{Gen(o.Generation)}",
            ["name"] = o.Name,
            ["bucket"] = o.Bucket,
            ["generation"] = Gen(o.Generation),
            ["metageneration"] = "1",
            ["size"] = o.Data.Length.ToString(CultureInfo.InvariantCulture),
            ["crc32c"] = o.Crc32c,
            ["etag"] = Convert.ToBase64String(BitConverter.GetBytes(o.Generation)),
            ["timeCreated"] = o.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["updated"] = o.Updated.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["storageClass"] = "STANDARD",
        };
        if (o.ContentType is not null) resource["contentType"] = o.ContentType;
        if (o.Md5 is not null) resource["md5Hash"] = o.Md5;
        if (o.ComponentCount > 1) resource["componentCount"] = o.ComponentCount;
        return resource;
    }

    private static string Crc(byte[] data) => ReferenceCrc32C.Base64(data);

    private static string Gen(long generation) => generation.ToString(CultureInfo.InvariantCulture);

    private Task Missing(HttpContext context, string bucket, string name) =>
        BucketExists(bucket) ? Error(context, 404, $"No such object: {bucket}/{name}") : NoBucket(context);

    private static Task NoBucket(HttpContext context) => Error(context, 404, "The specified bucket does not exist.");

    private static Task Error(HttpContext context, int status, string message) => Json(context, status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = status,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = status == 404 ? "notFound" : "invalid" }),
        },
    });

    private static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}
