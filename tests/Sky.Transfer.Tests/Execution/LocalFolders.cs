using Microsoft.Extensions.Logging.Abstractions;
using Sky.Transfer.Execution;
using Sky.Transfer.Storage;
using Sky.Transfer.Storage.Local;

namespace Sky.Transfer.Tests.Execution;

/// <summary>Temporary source and destination folders for copier tests, with deterministic data and the copier's calls.</summary>
internal sealed class LocalFolders : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("sky-copy-").FullName;

    public LocalFolders()
    {
        SourcePath = System.IO.Directory.CreateDirectory(Path.Combine(_dir, "src")).FullName;
        DestinationPath = System.IO.Directory.CreateDirectory(Path.Combine(_dir, "dst")).FullName;
        Source = new LocalObjectStore(ObjectUri.Parse($"file://{SourcePath}/"));
        Destination = new LocalObjectStore(ObjectUri.Parse($"file://{DestinationPath}/"));
    }

    public string SourcePath { get; }
    public string DestinationPath { get; }
    public LocalObjectStore Source { get; }
    public LocalObjectStore Destination { get; }

    /// <summary>Small chunks, so a test object of a few hundred KiB is many parts.</summary>
    public static CopyOptions SmallChunks => new()
    {
        ChunkSize = 64 * 1024, MaxBufferBytes = 512 * 1024, MaxChunksInFlight = 4, MaxObjectsInFlight = 4, RetryBackoff = TimeSpan.FromMilliseconds(1),
    };

    public static byte[] Bytes(long count, int seed)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Writes <paramref name="data"/> as <paramref name="key"/> in the source folder.</summary>
    public byte[] Write(string key, byte[] data)
    {
        var path = Path.Combine(SourcePath, key);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return data;
    }

    public byte[] Write(string key, long size, int seed) => Write(key, Bytes(size, seed));

    public byte[] Copied(string key) => File.ReadAllBytes(Path.Combine(DestinationPath, key));

    public bool IsCopied(string key) => File.Exists(Path.Combine(DestinationPath, key));

    /// <summary>Keys under the destination folder, uploads in progress aside.</summary>
    public IReadOnlyList<string> DestinationKeys() =>
        [.. System.IO.Directory.EnumerateFiles(DestinationPath, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(DestinationPath, p).Replace('\\', '/'))
            .Where(k => !ObjectKeys.IsReserved(k)).Order(StringComparer.Ordinal)];

    /// <summary>Multipart uploads still open in the destination folder.</summary>
    public int OpenUploads()
    {
        var uploads = Path.Combine(DestinationPath, ObjectKeys.ReservedPrefix.TrimEnd('/'));
        return System.IO.Directory.Exists(uploads) ? System.IO.Directory.EnumerateDirectories(uploads).Count() : 0;
    }

    public static ObjectCopier Copier(ICopyCheckpointStore checkpoints) => new(checkpoints, TimeProvider.System, NullLogger<ObjectCopier>.Instance);

    /// <summary>Runs a copy and keeps every progress report.</summary>
    public static async Task<(CopyOutcome Outcome, List<CopyProgress> Reports)> RunAsync(ObjectCopier copier, CopyRequest request, CopyOptions options,
        CancellationToken ct = default)
    {
        var reports = new List<CopyProgress>();
        var outcome = await copier.RunAsync(request, options, p => { lock (reports) reports.Add(p); }, ct);
        return (outcome, reports);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
