namespace Sky.Transfer.Execution;

/// <summary>
/// Checkpoints in this process: they survive a cancelled run (a host shutdown that keeps the process, or a test), not a
/// dead process. Snapshots are copies, so a loaded checkpoint never changes under its reader.
/// </summary>
public sealed class MemoryCopyCheckpointStore : ICopyCheckpointStore
{
    private sealed class State(CheckpointHeader header, IReadOnlyList<ManifestEntry> manifest)
    {
        public CheckpointHeader Header { get; } = header;
        public IReadOnlyList<ManifestEntry> Manifest { get; } = manifest;
        public Dictionary<int, FinishedObject> Finished { get; } = [];
        public Dictionary<int, MultipartUploadState> Uploads { get; } = [];
        public Dictionary<int, long> ObjectsInFlight { get; } = [];
        public int Resumes { get; set; }
        public long Resent { get; set; }
    }

    private sealed class MultipartUploadState(Storage.MultipartUpload upload)
    {
        public Storage.MultipartUpload Upload { get; } = upload;
        public Dictionary<int, CopiedPart> Parts { get; } = [];
        public Dictionary<int, long> InFlight { get; } = [];
    }

    private readonly Dictionary<string, State> _checkpoints = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task<CopyCheckpoint?> LoadAsync(string transferId, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_checkpoints.TryGetValue(transferId, out var s)) return Task.FromResult<CopyCheckpoint?>(null);
            return Task.FromResult<CopyCheckpoint?>(new CopyCheckpoint(s.Header, s.Manifest)
            {
                Finished = new Dictionary<int, FinishedObject>(s.Finished),
                Uploads = s.Uploads.ToDictionary(u => u.Key, u => new OpenUpload(u.Value.Upload,
                    new Dictionary<int, CopiedPart>(u.Value.Parts), new Dictionary<int, long>(u.Value.InFlight))),
                ObjectsInFlight = new Dictionary<int, long>(s.ObjectsInFlight),
                Resumes = s.Resumes,
                BytesResent = s.Resent,
            });
        }
    }

    public Task CreateAsync(CheckpointHeader header, IReadOnlyList<ManifestEntry> manifest, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(header);
        lock (_gate) _checkpoints[header.TransferId] = new State(header, [.. manifest]);
        return Task.CompletedTask;
    }

    public Task WriteAsync(string transferId, IReadOnlyList<CheckpointUpdate> updates, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_checkpoints.TryGetValue(transferId, out var s)) throw new CheckpointMissingException(transferId);
            foreach (var update in updates) Apply(s, update);
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string transferId, CancellationToken ct)
    {
        lock (_gate) _checkpoints.Remove(transferId);
        return Task.CompletedTask;
    }

    private static void Apply(State s, CheckpointUpdate update)
    {
        switch (update)
        {
            case CheckpointUpdate.UploadStarted u:
                s.Uploads[u.Index] = new MultipartUploadState(u.Upload);
                break;
            case CheckpointUpdate.PartInFlight p:
                UploadOf(s, p.Index).InFlight[p.PartNumber] = p.Bytes;
                break;
            case CheckpointUpdate.PartCopied p:
                var upload = UploadOf(s, p.Index);
                upload.InFlight.Remove(p.Part.Part.PartNumber);
                upload.Parts[p.Part.Part.PartNumber] = p.Part;
                break;
            case CheckpointUpdate.ObjectInFlight o:
                s.ObjectsInFlight[o.Index] = o.Bytes;
                break;
            case CheckpointUpdate.InFlightCleared c when c.PartNumber == 0:
                s.ObjectsInFlight.Remove(c.Index);
                break;
            case CheckpointUpdate.InFlightCleared c:
                if (s.Uploads.TryGetValue(c.Index, out var open)) open.InFlight.Remove(c.PartNumber);
                break;
            case CheckpointUpdate.ObjectFinished f:
                s.Finished[f.Index] = f.Result;
                s.Uploads.Remove(f.Index);
                s.ObjectsInFlight.Remove(f.Index);
                break;
            case CheckpointUpdate.Resent r:
                s.Resent += r.Bytes;
                break;
            case CheckpointUpdate.Resumed r:
                s.Resumes++;
                s.Resent += r.BytesInFlight;
                break;
            default:
                throw new ArgumentException($"unknown checkpoint update {update.GetType().Name}", nameof(update));
        }
    }

    private static MultipartUploadState UploadOf(State s, int index) =>
        s.Uploads.TryGetValue(index, out var upload) ? upload
            : throw new InvalidOperationException($"transfer {s.Header.TransferId}: object {index} has no upload in the checkpoint");
}
