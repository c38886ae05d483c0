using System.Collections.Concurrent;
using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>Objects bigger than a chunk: a multipart upload, its chunks copied in parallel, then completed and verified whole.</summary>
internal sealed partial class CopyRun
{
    /// <summary>One multipart object of this run: its upload, the parts the destination holds, and how it failed, if it did.</summary>
    private sealed class MultipartObject(int index, ManifestEntry entry, MultipartUpload upload, IReadOnlyDictionary<int, CopiedPart>? parts)
    {
        private string? _failure;

        public int Index { get; } = index;
        public ManifestEntry Entry { get; } = entry;
        public MultipartUpload Upload { get; } = upload;
        public ConcurrentDictionary<int, CopiedPart> Parts { get; } = new(parts ?? new Dictionary<int, CopiedPart>());
        public List<Task> PartTasks { get; } = [];
        public OrderedDigest? Digest { get; init; }
        public int PartCount => (int)((Entry.Size + Upload.PartSize - 1) / Upload.PartSize);
        public string? Failure => Volatile.Read(ref _failure);

        /// <summary>Bytes of the parts the destination holds (what progress counted for this object).</summary>
        public long PartBytes => Parts.Values.Sum(p => p.Part.Size);

        public (long Offset, int Length) Range(int partNumber)
        {
            var offset = (partNumber - 1) * Upload.PartSize;
            return (offset, (int)Math.Min(Upload.PartSize, Entry.Size - offset));
        }

        /// <summary>The first failure wins; parts not yet sent are not sent.</summary>
        public void Fail(string reason)
        {
            Interlocked.CompareExchange(ref _failure, reason, null);
            Digest?.Abandon();
        }

        /// <summary>The CRC-32C of the whole object, joined from its parts' in order.</summary>
        public uint Crc32C()
        {
            var crc = 0u;
            foreach (var part in Parts.Values.OrderBy(p => p.Part.PartNumber)) crc = Storage.Crc32C.Combine(crc, part.Crc32C, part.Part.Size);
            return crc;
        }
    }

    /// <summary>
    /// Begins the upload (or takes the checkpoint's), then hands out the chunks not yet copied, in order, each once it has
    /// a chunk slot and a buffer; returns the task that completes the object once its chunks are in.
    /// </summary>
    private async Task StartMultipartAsync(int index, ManifestEntry entry, OpenUpload? open, long partSize)
    {
        var capabilities = Destination.Capabilities;
        var parts = (entry.Size + partSize - 1) / partSize;
        if (partSize > capabilities.MaxPartSize || parts > capabilities.MaxParts)
        {
            _ = Spawn(() => FailAsync(index, $"{entry.Size} bytes do not fit in {capabilities.MaxParts} parts of at most {capabilities.MaxPartSize} bytes", 0), () => { });
            return;
        }
        if (TooBigForBuffers(index, partSize)) return;
        MultipartUpload upload;
        if (open is not null) upload = open.Upload;
        else
        {
            try
            {
                upload = await _retry.RunAsync(c => Destination.BeginUploadAsync(entry.DestinationKey, partSize, ct: c), Stopping);
            }
            catch (Exception e) when (IsObjectFailure(e))
            {
                _ = Spawn(() => FailAsync(index, Reason(e), 0), () => { });
                return;
            }
            await _writer.WriteAsync(new CheckpointUpdate.UploadStarted(index, upload), Stopping);
        }
        // An MD5 or SHA-256 of the whole object needs every byte in order: only when no chunk was copied by an earlier run.
        var digest = open is { Parts.Count: > 0 } || !_options.WholeObjectDigest ? null : WholeDigestFor(entry);
        var obj = new MultipartObject(index, entry, upload, open?.Parts) { Digest = digest is { } algorithm ? new OrderedDigest(algorithm) : null };
        try
        {
            await DispatchPartsAsync(obj);
        }
        finally
        {
            // Also when the dispatch stopped half way: the object's task waits for the parts it started.
            _ = Spawn(() => CompleteAsync(obj), () => obj.Digest?.Dispose());
        }
    }

    private async Task DispatchPartsAsync(MultipartObject obj)
    {
        for (var n = 1; n <= obj.PartCount && obj.Failure is null; n++)
        {
            if (obj.Parts.ContainsKey(n)) continue;
            await _chunkSlots.WaitAsync(Stopping);
            byte[] buffer;
            try { buffer = await _buffers.RentAsync(obj.Range(n).Length, Stopping); }
            catch
            {
                _chunkSlots.Release();
                throw;
            }
            var part = n;
            obj.PartTasks.Add(Spawn(() => CopyPartAsync(obj, part, buffer), () =>
            {
                _buffers.Return(buffer);
                _chunkSlots.Release();
            }));
        }
    }

    /// <summary>
    /// One chunk: read (pinned to the listed version), checksummed, marked in flight, sent with its checksum (again on a
    /// mismatch), recorded; meanwhile hashed in order into the object's digest, if it has one.
    /// </summary>
    private async Task CopyPartAsync(MultipartObject obj, int partNumber, byte[] buffer)
    {
        var entry = obj.Entry;
        var (offset, length) = obj.Range(partNumber);
        var data = buffer.AsMemory(0, length);
        var hashing = Task.CompletedTask;
        try
        {
            var read = await _retry.RunAsync(c => Source.ReadAsync(entry.SourceKey, offset, data, entry.Version, c), Stopping);
            if (read != length) throw new ObjectCopyException($"the source returned {read} bytes at offset {offset}, {length} expected: it changed since it was listed");
            var crc = Crc32C.Compute(data.Span);
            var send = _chunkAlgorithm == ChecksumAlgorithm.Crc32C ? Checksum.FromCrc32C(crc) : Checksum.Compute(_chunkAlgorithm, data.Span);
            if (obj.Failure is not null) return;
            // The whole-object digest takes the chunk, in order, while it is being sent (both only read the buffer).
            if (obj.Digest is { } digest) hashing = Task.Run(() => digest.AppendAsync(partNumber, data, Stopping));
            await _writer.WriteAsync(new CheckpointUpdate.PartInFlight(obj.Index, partNumber, length), Stopping);
            var part = await SendAsync(c => Destination.UploadPartAsync(obj.Upload, partNumber, data, [send], c), length);
            var copied = new CopiedPart(part, crc);
            await _writer.WriteAsync(new CheckpointUpdate.PartCopied(obj.Index, copied), Stopping);
            obj.Parts[partNumber] = copied;
            Interlocked.Add(ref _bytesDone, length);
            Report();
        }
        catch (Exception e) when (IsObjectFailure(e))
        {
            obj.Fail($"part {partNumber}: {Reason(e)}"); // also releases the digest's waiters
        }
        finally
        {
            // The buffer goes back to the pool when this returns: not before the digest is done with it. (Each part's
            // turn waits only for earlier parts' hashing, never for their sends, so this always ends.)
            await hashing.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Once every chunk is in: completes the upload and verifies the whole object; a failure aborts the upload.</summary>
    private async Task CompleteAsync(MultipartObject obj)
    {
        await Task.WhenAll(obj.PartTasks);
        // A run that is stopping leaves the object as the checkpoint has it (parts missing, nothing failed).
        if (Stopping.IsCancellationRequested || (obj.Failure is null && obj.Parts.Count < obj.PartCount)) return;
        var entry = obj.Entry;
        try
        {
            if (obj.Failure is { } failed) throw new ObjectCopyException(failed);
            // Reads are pinned to the listed version, but a store that cannot pin every read (a file rewritten in place)
            // is caught here: the object must still be the version listed once all its bytes are read.
            var now = await _retry.RunAsync(c => Source.StatAsync(entry.SourceKey, c), Stopping);
            if (now.Version != entry.Version) throw new ObjectChangedException(Source.UriOf(entry.SourceKey), entry.Version);
            var checks = new List<string> { ObjectChecks.Chunks(_chunkAlgorithm) };
            var parts = obj.Parts.Values.Select(p => p.Part).ToList();
            ObjectInfo info;
            try
            {
                info = await _retry.RunAsync(c => Destination.CompleteUploadAsync(obj.Upload, parts, c), Stopping);
            }
            catch (UploadNotFoundException e)
            {
                // Completed by a run that stopped before recording it (or retried after a lost answer): if the object
                // is there and its bytes are these chunks', it is done.
                info = await CompletedEarlierAsync(obj) ?? throw new ObjectCopyException($"{e.Message}, and the destination does not hold the completed object");
                checks.Add(ObjectChecks.ReadBack);
            }
            await VerifyWholeAsync(obj, info, checks);
            await FinishAsync(obj.Index, checks, 0);
        }
        catch (Exception e) when (IsObjectFailure(e))
        {
            await AbortQuietlyAsync(obj.Upload);
            await FailAsync(obj.Index, Reason(e), obj.PartBytes);
        }
    }

    /// <summary>
    /// Checks the completed object: its size, the CRC-32C joined from the chunks against the source's and the
    /// destination's, and the in-order digest (MD5 or SHA-256) against theirs. A mismatch deletes the copy.
    /// </summary>
    private async Task VerifyWholeAsync(MultipartObject obj, ObjectInfo info, List<string> checks)
    {
        var entry = obj.Entry;
        if (info.Size != entry.Size) throw await MismatchAsync(entry, $"the completed object is {info.Size} bytes, {entry.Size} were listed");
        checks.Add(ObjectChecks.Size);
        var computed = new List<Checksum> { Checksum.FromCrc32C(obj.Crc32C()) };
        if (obj.Digest is { } digest) computed.Add(digest.Result());
        foreach (var ours in computed)
        {
            if (entry.Checksums.FirstOrDefault(c => c.Algorithm == ours.Algorithm) is { Hex: not null } source)
            {
                if (source != ours) throw await MismatchAsync(entry, $"the bytes copied have {ours}, the source reports {source}");
                checks.Add(ObjectChecks.Source(ours.Algorithm));
            }
            if (info.ChecksumOf(ours.Algorithm) is { } copied)
            {
                if (copied != ours) throw await MismatchAsync(entry, $"the destination reports {copied} for the object, the bytes copied have {ours}");
                checks.Add(ObjectChecks.Destination(ours.Algorithm));
            }
        }
    }

    /// <summary>The destination's object when it has the size and, read back, the CRC-32C of the recorded chunks; else null.</summary>
    private async Task<ObjectInfo?> CompletedEarlierAsync(MultipartObject obj)
    {
        var entry = obj.Entry;
        ObjectInfo info;
        try { info = await _retry.RunAsync(c => Destination.StatAsync(entry.DestinationKey, c), Stopping); }
        catch (ObjectNotFoundException) { return null; }
        if (info.Size != entry.Size || obj.Parts.Count != obj.PartCount) return null;
        var buffer = await _buffers.RentAsync(obj.Upload.PartSize, Stopping);
        try
        {
            var crc = 0u;
            for (var n = 1; n <= obj.PartCount; n++)
            {
                var (offset, length) = obj.Range(n);
                var data = buffer.AsMemory(0, length);
                var read = await _retry.RunAsync(c => Destination.ReadAsync(entry.DestinationKey, offset, data, info.Version, c), Stopping);
                if (read != length) return null;
                crc = Crc32C.Combine(crc, Crc32C.Compute(data.Span), length);
            }
            return crc == obj.Crc32C() ? info : null;
        }
        finally { _buffers.Return(buffer); }
    }

    private async Task AbortQuietlyAsync(MultipartUpload upload)
    {
        try { await _retry.RunAsync(c => Destination.AbortUploadAsync(upload, c), Stopping); }
        catch (ObjectStoreException e) { Log.AbortFailed(_log, _request.TransferId, upload.Key, e.Message); }
    }

    /// <summary>
    /// The whole-object digest worth computing in order: an MD5 or SHA-256 the source reported for this object, or one
    /// the destination reports, unless a CRC-32C (joined from the chunks for free) already covers that side.
    /// </summary>
    private ChecksumAlgorithm? WholeDigestFor(ManifestEntry entry)
    {
        ChecksumAlgorithm[] digests = [ChecksumAlgorithm.Md5, ChecksumAlgorithm.Sha256];
        if (entry.Checksums.Any(c => c.Algorithm == ChecksumAlgorithm.Crc32C)) return null;
        foreach (var algorithm in digests)
            if (entry.Checksums.Any(c => c.Algorithm == algorithm)) return algorithm;
        var reported = Destination.Capabilities.ReportedChecksums;
        if (reported.Contains(ChecksumAlgorithm.Crc32C)) return null;
        foreach (var algorithm in digests)
            if (reported.Contains(algorithm)) return algorithm;
        return null;
    }
}
