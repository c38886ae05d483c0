using System.Text.Json;
using System.Text.Json.Serialization;
using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// The JSON a stored checkpoint's values are written in (source-generated, short field names: a manifest entry is one
/// list element and 10,000 of them are read back at every resume). Checksums are written as <c>md5:hex</c>.
/// </summary>
internal static partial class CheckpointJson
{
    internal sealed record Header(string Id, string Src, string Dst, long Chunk, DateTimeOffset Created);
    internal sealed record Entry(string S, string D, long N, string V, string[]? C);
    internal sealed record Upload(string K, string Id, long Ps, string? Ct);
    internal sealed record Part(int N, long Sz, string E, string[]? C, uint Crc);
    internal sealed record Finished(string[] Checks, string? Fail);

    public static string Write(CheckpointHeader h) =>
        JsonSerializer.Serialize(new Header(h.TransferId, h.Source, h.Destination, h.ChunkSize, h.CreatedAt), Context.Default.Header);

    public static CheckpointHeader ReadHeader(string json)
    {
        var h = JsonSerializer.Deserialize(json, Context.Default.Header) ?? throw Bad("header", json);
        return new CheckpointHeader(h.Id, h.Src, h.Dst, h.Chunk, h.Created);
    }

    public static string Write(ManifestEntry e) =>
        JsonSerializer.Serialize(new Entry(e.SourceKey, e.DestinationKey, e.Size, e.Version, Texts(e.Checksums)), Context.Default.Entry);

    public static ManifestEntry ReadEntry(string json)
    {
        var e = JsonSerializer.Deserialize(json, Context.Default.Entry) ?? throw Bad("manifest entry", json);
        return new ManifestEntry(e.S, e.D, e.N, e.V) { Checksums = Checksums(e.C) };
    }

    public static string Write(MultipartUpload u) =>
        JsonSerializer.Serialize(new Upload(u.Key, u.UploadId, u.PartSize, u.ContentType), Context.Default.Upload);

    public static MultipartUpload ReadUpload(string json)
    {
        var u = JsonSerializer.Deserialize(json, Context.Default.Upload) ?? throw Bad("upload", json);
        return new MultipartUpload(u.K, u.Id, u.Ps, u.Ct);
    }

    public static string Write(CopiedPart p) =>
        JsonSerializer.Serialize(new Part(p.Part.PartNumber, p.Part.Size, p.Part.ETag, Texts(p.Part.Checksums), p.Crc32C), Context.Default.Part);

    public static CopiedPart ReadPart(string json)
    {
        var p = JsonSerializer.Deserialize(json, Context.Default.Part) ?? throw Bad("part", json);
        return new CopiedPart(new UploadedPart(p.N, p.Sz, p.E) { Checksums = Checksums(p.C) }, p.Crc);
    }

    public static string Write(FinishedObject f) =>
        JsonSerializer.Serialize(new Finished([.. f.Checks], f.Failure), Context.Default.Finished);

    public static FinishedObject ReadFinished(int index, string json)
    {
        var f = JsonSerializer.Deserialize(json, Context.Default.Finished) ?? throw Bad("finished object", json);
        return new FinishedObject(index, f.Checks, f.Fail);
    }

    private static string[]? Texts(IReadOnlyList<Checksum> checksums) => checksums.Count == 0 ? null : [.. checksums.Select(c => c.ToString())];

    private static IReadOnlyList<Checksum> Checksums(string[]? texts) => texts is null ? [] : [.. texts.Select(ParseChecksum)];

    /// <summary>Reads <see cref="Checksum.ToString"/>'s <c>name:hex</c> form.</summary>
    internal static Checksum ParseChecksum(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var algorithm = (colon < 0 ? "" : text[..colon]) switch
        {
            "crc32c" => ChecksumAlgorithm.Crc32C,
            "md5" => ChecksumAlgorithm.Md5,
            "sha256" => ChecksumAlgorithm.Sha256,
            _ => throw new FormatException($"checkpoint: '{text}' is not a checksum (crc32c:, md5: or sha256: and hex)"),
        };
        return Checksum.FromHex(algorithm, text[(colon + 1)..]);
    }

    private static FormatException Bad(string what, string json) => new($"checkpoint: unreadable {what}: {json}");

    [JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(Header))]
    [JsonSerializable(typeof(Entry))]
    [JsonSerializable(typeof(Upload))]
    [JsonSerializable(typeof(Part))]
    [JsonSerializable(typeof(Finished))]
    internal sealed partial class Context : JsonSerializerContext;
}
