using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Sky.Transfer.Storage.Local;

/// <summary>
/// A folder as an object store: keys are relative paths under it. Writes never show a half-written file: a put or
/// an upload goes to a temporary file under <c>.sky-uploads/</c> in the folder (the same file system) and is renamed
/// into place. A multipart upload is a directory there holding the data file, written part by part at the part's
/// offset, and one small marker per part naming the part's ETag (its CRC-32C), written after the part's bytes; so
/// completing checks that every listed part is the one written, and an upload outlives the process.
/// <para>Every write stamps the file's modification time from <see cref="TimeProvider"/> at full precision, and the
/// ETag (and version) is that time and the size, so an overwrite always changes the version. Nothing is fsync'ed: a
/// killed process loses nothing the kernel has, and a power cut is out of scope (as for cp).</para>
/// <para>Folders this instance created or found are remembered, so a small object costs no mkdir or stat of its folders
/// (10,000 small files are mostly such calls); one that went away meanwhile is noticed when a write fails, and the write
/// is tried once more after checking the root is still there.</para>
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    private const string DataFile = "data";
    private readonly string _folder;
    private readonly string _uploads;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, byte> _folders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> _folderLookup;
    private readonly string _tempStem;

    public LocalObjectStore(ObjectUri root, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.Kind != StoreKind.Local) throw new ArgumentException($"{root} is not a file:// URI", nameof(root));
        Root = root.BucketUri();
        _folder = root.Bucket;
        _uploads = Path.Combine(_folder, ObjectKeys.ReservedPrefix.TrimEnd('/'));
        _tempStem = _uploads + "/";
        _folderLookup = _folders.GetAlternateLookup<ReadOnlySpan<char>>();
        _time = time ?? TimeProvider.System;
    }

    public ObjectUri Root { get; }

    /// <summary>The adapter checks every checksum it is given before writing (the disk is the store); it keeps none.</summary>
    public StoreCapabilities Capabilities { get; } = new()
    {
        VerifiedChecksums = new HashSet<ChecksumAlgorithm> { ChecksumAlgorithm.Crc32C, ChecksumAlgorithm.Md5, ChecksumAlgorithm.Sha256 },
        ReportedChecksums = new HashSet<ChecksumAlgorithm>(),
        MinPartSize = 1,
        MaxPartSize = Array.MaxLength,
        MaxParts = 100_000,
    };

    public Task VerifyAccessAsync(StoreAccess access, CancellationToken ct = default) => Run(Root, "verify access", () =>
    {
        RequireFolder();
        using (var entries = System.IO.Directory.EnumerateFileSystemEntries(_folder).GetEnumerator()) entries.MoveNext();
        if (access.HasFlag(StoreAccess.Write))
        {
            var probe = Path.Combine(_folder, ObjectKeys.NewProbeKey());
            EnsureFolder("", _uploads);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        return Task.CompletedTask;
    });

    public Task<ObjectPage> ListAsync(string prefix, string? pageToken = null, int pageSize = 1000, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var where = ObjectKeys.CheckPrefix(Root, prefix);
        return Run(where, "list", () =>
        {
            RequireFolder();
            var startKey = prefix[..(prefix.LastIndexOf('/') + 1)];
            if (startKey.Length > 0 && startKey[..^1].Split('/').Any(s => s is "" or "." or ".."))
                throw new InvalidObjectUriException(where.ToString(), "a local prefix cannot have empty, '.' or '..' segments");
            var start = PathOf(startKey);
            var found = System.IO.Directory.Exists(start) ? Walk(start, startKey, prefix, pageToken).Take(pageSize + 1).ToList() : [];
            var more = found.Count > pageSize;
            var page = found.Take(pageSize).Select(f => Info(f.Key, f.Size, f.LastWriteUtc)).ToList();
            return Task.FromResult(new ObjectPage(page, more ? page[^1].Key : null));
        });
    }

    public Task<ObjectInfo> StatAsync(string key, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        return Run(uri, "stat", () =>
        {
            var file = new FileInfo(PathOf(key));
            if (!file.Exists) throw Missing(uri);
            return Task.FromResult(Info(key, file));
        });
    }

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, string? ifVersion = null, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        CheckRange(offset, length);
        return Run<Stream>(uri, "read", () =>
        {
            var handle = OpenForRead(uri, ifVersion, out var size);
            var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            var start = Math.Min(offset, size);
            stream.Position = start;
            return Task.FromResult<Stream>(new OwnedReadStream(stream, Math.Min(length ?? long.MaxValue, size - start)));
        });
    }

    public Task<int> ReadAsync(string key, long offset, Memory<byte> buffer, string? ifVersion = null, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        CheckRange(offset, null);
        return Run(uri, "read", async () =>
        {
            using var handle = OpenForRead(uri, ifVersion, out var size);
            var total = 0;
            while (total < buffer.Length && offset + total < size)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer[total..], offset + total, ct);
                if (n == 0) break;
                total += n;
            }
            return total;
        });
    }

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> data, PutOptions? options = null, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        var verified = ChecksumVerification.Verify(uri, data.Span, options?.Checksums ?? []);
        return Run(uri, "write", () =>
        {
            var written = WriteThenMove(key, "put-", static (temp, state) =>
            {
                using var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                RandomAccess.Write(handle, state.Data.Span, 0);
                return state.Store.Stamp(handle);
            }, (Store: this, Data: data));
            return Task.FromResult(Info(key, data.Length, written) with { Checksums = verified });
        });
    }

    public Task<MultipartUpload> BeginUploadAsync(string key, long partSize, string? contentType = null, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        ObjectKeys.CheckPartSize(Capabilities, partSize);
        return Run(uri, "start an upload", () =>
        {
            RequireFolder();
            var id = ObjectKeys.NewUploadId();
            var dir = System.IO.Directory.CreateDirectory(UploadDir(id));
            File.WriteAllBytes(Path.Combine(dir.FullName, DataFile), []);
            return Task.FromResult(new MultipartUpload(key, id, partSize, contentType));
        });
    }

    public Task<UploadedPart> UploadPartAsync(MultipartUpload upload, int partNumber, ReadOnlyMemory<byte> data,
        IReadOnlyList<Checksum>? checksums = null, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        ObjectKeys.CheckPart(Capabilities, upload, partNumber, data.Length);
        var verified = ChecksumVerification.Verify(uri, data.Span, checksums ?? []).ToList();
        var crc = ChecksumVerification.Find(verified, ChecksumAlgorithm.Crc32C) ?? Checksum.Compute(ChecksumAlgorithm.Crc32C, data.Span);
        if (!verified.Contains(crc)) verified.Add(crc);
        var part = new UploadedPart(partNumber, data.Length, crc.Hex) { Checksums = verified };
        return Run(uri, "upload a part", async () =>
        {
            using (var handle = OpenUploadData(uri, upload, FileAccess.Write))
                await RandomAccess.WriteAsync(handle, data, (partNumber - 1) * upload.PartSize, ct);
            await File.WriteAllTextAsync(MarkerPath(upload, partNumber), Marker(part), ct);
            return part;
        });
    }

    public Task<ObjectInfo> CompleteUploadAsync(MultipartUpload upload, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        var (ordered, size) = ObjectKeys.CheckParts(upload, parts);
        return Run(uri, "complete an upload", async () =>
        {
            using (var handle = OpenUploadData(uri, upload, FileAccess.Write))
            {
                foreach (var part in ordered)
                {
                    var marker = MarkerPath(upload, part.PartNumber);
                    var written = File.Exists(marker) ? await File.ReadAllTextAsync(marker, ct) : null;
                    if (written != Marker(part))
                        throw new ObjectStoreException($"{uri}: part {part.PartNumber} ({part.ETag}, {part.Size} bytes) is not the part uploaded"
                            + (written is null ? " (none was)" : $" ({written})"));
                }
                RandomAccess.SetLength(handle, size);
                File.SetLastWriteTimeUtc(handle, _time.GetUtcNow().UtcDateTime);
            }
            MoveIntoPlace(upload.Key, Path.Combine(UploadDir(upload.UploadId), DataFile), PathOf(upload.Key));
            System.IO.Directory.Delete(UploadDir(upload.UploadId), recursive: true);
            return Info(upload.Key, new FileInfo(PathOf(upload.Key)));
        });
    }

    public Task AbortUploadAsync(MultipartUpload upload, CancellationToken ct = default)
    {
        var uri = CheckUpload(upload);
        return Run(uri, "abort an upload", () =>
        {
            RequireFolder();
            if (System.IO.Directory.Exists(UploadDir(upload.UploadId))) System.IO.Directory.Delete(UploadDir(upload.UploadId), recursive: true);
            return Task.CompletedTask;
        });
    }

    /// <summary>Any local folder: a copy is a file copy (the kernel's copy_file_range or a reflink where the file system has them).</summary>
    public bool CanCopyFrom(IObjectStore source) => source is LocalObjectStore;

    /// <summary>
    /// Copies the file and returns a finished task: every step is a short system call, and a copy of 10,000 small files
    /// costs less without a task, a closure and a URI per file (the URIs are made only for an error's message).
    /// </summary>
    public Task<ObjectInfo> CopyFromAsync(IObjectStore source, string sourceKey, string key, string? ifVersion = null, CancellationToken ct = default)
    {
        if (source is not LocalObjectStore from) throw new ArgumentException($"cannot copy from {source.Root} to {Root} inside the store", nameof(source));
        from.RequireKey(sourceKey);
        RequireKey(key);
        if (ct.IsCancellationRequested) return Task.FromCanceled<ObjectInfo>(ct);
        try
        {
            var job = new CopyJob(from, sourceKey, ifVersion, _time.GetUtcNow().UtcDateTime, Volatile.Read(ref _timesKept) != TimesKeptExactly);
            var (copied, written) = (Volatile.Read(ref _unnamed) ? CopyUnnamed(job, key) : null) ?? WriteThenMove(key, "copy-", static (temp, job) =>
            {
                try { return FileCopy.CopyToNew(job.SourcePath, temp, job.Stamp, CopyJob.CheckSource, job, job.ReadBack); }
                catch (FileNotFoundException e) { throw job.Missing(e); }
            }, job);
            if (job.ReadBack) Volatile.Write(ref _timesKept, written == job.Stamp ? TimesKeptExactly : TimesRounded);
            return Task.FromResult(Info(key, copied, written));
        }
        catch (Exception e) { return Task.FromException<ObjectInfo>(Mapped(e, Root.WithKey(key), "copy")); }
    }

    /// <summary>One file copy's source, its pinned version and the time to stamp.</summary>
    private readonly record struct CopyJob(LocalObjectStore From, string SourceKey, string? IfVersion, DateTime Stamp, bool ReadBack)
    {
        public string SourcePath => From.PathOf(SourceKey);

        public static void CheckSource(CopyJob job, long size, DateTime lastWrite)
        {
            if (job.IfVersion is not null && !IsVersion(lastWrite, size, job.IfVersion))
                throw new ObjectChangedException(job.From.Root.WithKey(job.SourceKey), job.IfVersion);
        }

        public StoreNotFoundException Missing(FileNotFoundException e) => From.Missing(From.Root.WithKey(SourceKey), e);
    }

    /// <summary>
    /// The copy made as an unnamed file in the uploads folder and linked to its key (<see cref="FileCopy.CopyToUnnamed"/>):
    /// it appears whole, or not at all, and a crash leaves nothing behind. A key already there is replaced by a rename,
    /// as a put replaces it. Null where unnamed files cannot be made or linked (then never tried again by this instance).
    /// </summary>
    private (long Size, DateTime Written)? CopyUnnamed(CopyJob job, string key)
    {
        UnnamedCopy? made;
        for (var attempt = 0; ; attempt++)
        {
            EnsureFolder(key, _uploads);
            try
            {
                made = FileCopy.CopyToUnnamed(job.SourcePath, _uploads, job.Stamp, CopyJob.CheckSource, job, job.ReadBack);
                break;
            }
            catch (DirectoryNotFoundException) when (attempt == 0) { _folders.Clear(); } // the uploads folder went away meanwhile
            catch (FileNotFoundException e) { throw job.Missing(e); }
        }
        if (made is not { } copy)
        {
            Volatile.Write(ref _unnamed, false);
            return null;
        }
        using (copy)
        {
            var path = PathOf(key);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    EnsureFolder(key, Path.GetDirectoryName(path.AsSpan()));
                    if (FileCopy.TryLink(copy, path)) return (copy.Size, copy.LastWriteUtc);
                    var temp = TempPath(key, "copy-");
                    if (!FileCopy.TryLink(copy, temp)) throw new IOException($"{temp}: a temporary file of that name exists");
                    try { MoveIntoPlace(key, temp, path); }
                    catch
                    {
                        File.Delete(temp);
                        throw;
                    }
                    return (copy.Size, copy.LastWriteUtc);
                }
                catch (DirectoryNotFoundException) when (attempt == 0) { _folders.Clear(); } // a folder went away meanwhile
                catch (DirectoryNotFoundException)
                {
                    // Its folder is there now, so the link itself is refused (no capability and no /proc): named files from now on.
                    Volatile.Write(ref _unnamed, false);
                    return null;
                }
            }
        }
    }

    private bool _unnamed = FileCopy.Native;

    // Whether the file system keeps a modification time exactly as set (to 100 ns): learnt from the first copy, whose
    // time is read back; then a copy's time is the one it set, without a stat. Every temporary file is in the uploads
    // folder, so on one file system.
    private const int TimesKeptExactly = 1, TimesRounded = 2;
    private int _timesKept;

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        var uri = CheckKey(key);
        return Run(uri, "delete", () =>
        {
            RequireFolder();
            var path = PathOf(key);
            if (!File.Exists(path)) return Task.CompletedTask;
            File.Delete(path);
            // Folders exist only to hold keys: remove the ones this delete emptied, as a prefix vanishes in a bucket.
            for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > _folder.TrimEnd('/').Length; dir = Path.GetDirectoryName(dir))
            {
                if (System.IO.Directory.EnumerateFileSystemEntries(dir).Any()) break;
                try { System.IO.Directory.Delete(dir); }
                catch (IOException) { break; } // a key arrived meanwhile
                _folders.TryRemove(dir, out _);
            }
            return Task.CompletedTask;
        });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Files under <paramref name="dir"/> whose keys start with <paramref name="prefix"/> and sort after
    /// <paramref name="after"/>, in ordinal key order: each folder's entries are sorted with a folder's name followed by
    /// '/', which is the order its keys take among the others; whole folders before <paramref name="after"/> are skipped.
    /// A file's size and time come from one status call as its entry is read (<see cref="FolderEntries"/>).
    /// </summary>
    private static IEnumerable<(string Key, long Size, DateTime LastWriteUtc)> Walk(string dir, string dirKey, string prefix, string? after)
    {
        var entries = new List<(string Key, FolderEntry Entry)>();
        foreach (var entry in FolderEntries.Read(dir))
        {
            if (entry.IsLinkedFolder) continue; // a linked folder could loop
            var isDir = entry.IsFolder;
            var key = dirKey + entry.Name + (isDir ? "/" : "");
            if (isDir && key == ObjectKeys.ReservedPrefix) continue;
            var matches = isDir ? key.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(key, StringComparison.Ordinal)
                : key.StartsWith(prefix, StringComparison.Ordinal);
            if (!matches) continue;
            if (after is not null && string.CompareOrdinal(key, after) <= 0 && !(isDir && after.StartsWith(key, StringComparison.Ordinal))) continue;
            entries.Add((key, entry));
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, entry) in entries)
        {
            if (entry.IsFolder)
                foreach (var found in Walk(Path.Join(dir, entry.Name), key, prefix, after)) yield return found;
            else
                yield return (key, entry.Size, entry.LastWriteUtc);
        }
    }

    private static ObjectInfo Info(string key, FileInfo file) => Info(key, file.Length, file.LastWriteTimeUtc);

    private static ObjectInfo Info(string key, long size, DateTime lastWriteUtc) =>
        new(key, size, Version(lastWriteUtc, size), new DateTimeOffset(lastWriteUtc, TimeSpan.Zero));

    /// <summary>A file's ETag and version: its modification time (in ticks) and size in hex, so any write changes it.</summary>
    private static string Version(DateTime lastWriteUtc, long size)
    {
        Span<char> text = stackalloc char[VersionChars];
        return new string(text[..WriteVersion(text, lastWriteUtc, size)]);
    }

    /// <summary>Whether <paramref name="version"/> is the <see cref="Version"/> of this time and size (compared without making the string).</summary>
    private static bool IsVersion(DateTime lastWriteUtc, long size, string version)
    {
        Span<char> text = stackalloc char[VersionChars];
        return text[..WriteVersion(text, lastWriteUtc, size)].SequenceEqual(version);
    }

    private const int VersionChars = 33; // two 64-bit numbers in hex and a '-'

    // Lowercase hex without leading zeros, as {0:x} writes it, into a span: a version is made for every file listed or
    // copied, and this makes no string until the caller wants one.
    private static int WriteVersion(Span<char> text, DateTime lastWriteUtc, long size)
    {
        var n = WriteHex(text, (ulong)lastWriteUtc.Ticks);
        text[n++] = '-';
        return n + WriteHex(text[n..], (ulong)size);
    }

    private static int WriteHex(Span<char> text, ulong value) =>
        value.TryFormat(text, out var written, "x", CultureInfo.InvariantCulture) ? written : throw new ArgumentException("no room for a version", nameof(text));

    /// <summary>Stamps a written file with the store's clock; returns the time as the file system keeps it (its precision may be coarser).</summary>
    private DateTime Stamp(SafeFileHandle handle)
    {
        File.SetLastWriteTimeUtc(handle, _time.GetUtcNow().UtcDateTime);
        return File.GetLastWriteTimeUtc(handle);
    }

    /// <summary>
    /// The one way a whole object is written: <paramref name="write"/> creates a new temporary file under the uploads
    /// folder, which is then renamed onto the key. If the uploads folder went away meanwhile (the file was never created)
    /// it is tried once more, the folder made again after checking the root. The temporary file never outlives a failure.
    /// Synchronous, with the writer's state passed in (no closure): a local write is a few system calls.
    /// </summary>
    private T WriteThenMove<T, TState>(string key, string prefix, Func<string, TState, T> write, TState state)
    {
        for (var attempt = 0; ; attempt++)
        {
            var temp = TempPath(key, prefix);
            var moved = false;
            try
            {
                var written = write(temp, state);
                MoveIntoPlace(key, temp, PathOf(key));
                moved = true;
                return written;
            }
            catch (DirectoryNotFoundException) when (attempt == 0 && !File.Exists(temp)) { _folders.Clear(); }
            finally { if (!moved) File.Delete(temp); }
        }
    }

    /// <summary>
    /// A name for a temporary file under the uploads folder (made if this instance has not seen it): unique by this
    /// instance's random prefix and a counter, so naming one costs no random bytes; files are created exclusively anyway.
    /// </summary>
    private string TempPath(string key, string prefix)
    {
        EnsureFolder(key, _uploads);
        Span<char> counter = stackalloc char[16];
        return string.Concat(_tempStem, prefix, _tempPrefix, counter[..WriteHex(counter, (ulong)Interlocked.Increment(ref _temps))]);
    }

    private readonly string _tempPrefix = ObjectKeys.NewUploadId()[..16] + "-";
    private long _temps;

    /// <summary>Creates <paramref name="dir"/> (and its parents below the root) unless this instance knows it is there; the root itself must exist.</summary>
    private void EnsureFolder(string key, ReadOnlySpan<char> dir)
    {
        // Looked up by span: a key's folder is a slice of its path, so a known folder costs no string.
        if (_folderLookup.ContainsKey(dir)) return;
        RequireFolder();
        var path = dir.ToString();
        try
        {
            System.IO.Directory.CreateDirectory(path);
        }
        catch (IOException e) { throw new ObjectStoreException($"{Root.WithKey(key)}: a file is in the way of its folder ({e.Message})", false, e); }
        _folders.TryAdd(path, 0);
    }

    private SafeFileHandle OpenForRead(ObjectUri uri, string? ifVersion, out long size)
    {
        SafeFileHandle handle;
        try { handle = File.OpenHandle(PathOf(uri.Key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw Missing(uri, e); }
        catch (UnauthorizedAccessException) when (System.IO.Directory.Exists(PathOf(uri.Key))) { throw Missing(uri); }
        size = RandomAccess.GetLength(handle);
        if (ifVersion is not null)
        {
            if (!IsVersion(File.GetLastWriteTimeUtc(handle), size, ifVersion))
            {
                handle.Dispose();
                throw new ObjectChangedException(uri, ifVersion);
            }
        }
        return handle;
    }

    private SafeFileHandle OpenUploadData(ObjectUri uri, MultipartUpload upload, FileAccess access)
    {
        RequireFolder();
        try { return File.OpenHandle(Path.Combine(UploadDir(upload.UploadId), DataFile), FileMode.Open, access, FileShare.ReadWrite); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new UploadNotFoundException(uri, upload.UploadId, e); }
    }

    /// <summary>Renames a finished temporary file onto the key's path (atomic: rename(2) within one file system).</summary>
    private void MoveIntoPlace(string key, string temp, string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                EnsureFolder(key, Path.GetDirectoryName(path.AsSpan()));
                FileCopy.Replace(temp, path);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt == 0 && File.Exists(temp)) { _folders.Clear(); } // its folder went away meanwhile
            catch (IOException) when (System.IO.Directory.Exists(path)) { throw new ObjectStoreException($"{Root.WithKey(key)}: a folder of other keys is in the way"); }
        }
    }

    private ObjectUri CheckKey(string key)
    {
        var uri = ObjectKeys.CheckObjectKey(Root, key);
        foreach (var segment in key.Split('/'))
            if (segment is "" or "." or "..")
                throw new InvalidObjectUriException(uri.ToString(), "a local key cannot have empty, '.' or '..' segments");
        return uri;
    }

    /// <summary>
    /// <see cref="CheckKey"/> without making the key's URI when the key is plainly valid (the common case, twice per
    /// copied file); anything else goes through <see cref="CheckKey"/>, which throws with its reason.
    /// </summary>
    private void RequireKey(string key)
    {
        if (!IsPlainKey(key)) CheckKey(key);
    }

    /// <summary>
    /// True only for keys every check accepts: not empty, at most <see cref="ObjectUri.MaxKeyBytes"/> bytes (certain
    /// from its length), no control character, not reserved, and segments that are not empty, '.' or '..'.
    /// </summary>
    private static bool IsPlainKey(string? key)
    {
        if (key is null || key.Length == 0 || key.Length * 3 > ObjectUri.MaxKeyBytes || ObjectKeys.IsReserved(key)) return false;
        var start = 0;
        for (var i = 0; i <= key.Length; i++)
        {
            if (i < key.Length && key[i] != '/')
            {
                if (char.IsControl(key[i])) return false;
                continue;
            }
            var segment = key.AsSpan(start, i - start);
            if (segment.IsEmpty || segment is "." or "..") return false;
            start = i + 1;
        }
        return true;
    }

    private ObjectUri CheckUpload(MultipartUpload upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var uri = CheckKey(upload.Key);
        if (upload.UploadId.Length != 32 || !upload.UploadId.All(char.IsAsciiHexDigitLower))
            throw new UploadNotFoundException(uri, upload.UploadId);
        return uri;
    }

    private static void CheckRange(long offset, long? length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l) ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
    }

    private void RequireFolder()
    {
        if (!System.IO.Directory.Exists(_folder)) throw new BucketNotFoundException(Root);
    }

    private StoreNotFoundException Missing(ObjectUri uri, Exception? inner = null) =>
        System.IO.Directory.Exists(_folder) ? new ObjectNotFoundException(uri, inner) : new BucketNotFoundException(Root, inner);

    private string PathOf(string key) => key.Length == 0 ? _folder : Path.Combine(_folder, key);

    private string UploadDir(string uploadId) => Path.Combine(_uploads, uploadId);

    private string MarkerPath(MultipartUpload upload, int partNumber) =>
        Path.Combine(UploadDir(upload.UploadId), partNumber.ToString("D6", CultureInfo.InvariantCulture));

    private static string Marker(UploadedPart part) => string.Create(CultureInfo.InvariantCulture, $"{part.ETag} {part.Size}");

    /// <summary>Maps the file system's exceptions onto the store's.</summary>
    private static async Task<T> Run<T>(ObjectUri where, string operation, Func<Task<T>> action)
    {
        try { return await action(); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { throw Mapped(e, where, operation); }
    }

    /// <summary><see cref="Run{T}"/>'s mapping for a call made without a task.</summary>
    private static Exception Mapped(Exception e, ObjectUri where, string operation) => e switch
    {
        ObjectStoreException => e,
        UnauthorizedAccessException => new PermissionDeniedException(where, operation, e.Message, e),
        IOException => new ObjectStoreException($"{where}: {operation} failed: {e.Message}", false, e),
        _ => e,
    };

    private static Task Run(ObjectUri where, string operation, Func<Task> action) =>
        Run<bool>(where, operation, async () => { await action(); return true; });
}
