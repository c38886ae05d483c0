namespace Sky.Placement.Providers;

/// <summary>
/// The clusters a provider has up: lets termination stop a run in progress and remove the nodes' scratch
/// directories, and makes a second termination a no-op.
/// </summary>
internal sealed class ClusterTable(string provider)
{
    private sealed record Entry(CancellationTokenSource Terminated, string? Directory);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _clusters = new(StringComparer.Ordinal);

    /// <summary>
    /// Nodes for <paramref name="clusterId"/> on this machine, each with a fresh scratch directory under
    /// <paramref name="root"/> when one is given (the random suffix keeps providers sharing a root apart).
    /// </summary>
    public IReadOnlyList<NodeInfo> Add(string clusterId, int count, string? root)
    {
        string? dir = null;
        if (root is not null)
        {
            dir = Path.Combine(root, $"{clusterId}-{Random.Shared.Next():x8}");
            for (var rank = 0; rank < count; rank++) System.IO.Directory.CreateDirectory(Path.Combine(dir, $"node-{rank}"));
        }
        lock (_gate) _clusters.Add(clusterId, new(new CancellationTokenSource(), dir));
        return [.. Enumerable.Range(0, count).Select(rank => new NodeInfo(rank, "127.0.0.1", dir is null ? null : Path.Combine(dir, $"node-{rank}")))];
    }

    /// <summary>Cancelled when the cluster is terminated; throws when it is not (or no longer) up.</summary>
    public CancellationToken Token(ProvisionedNodes nodes)
    {
        if (nodes.Provider != provider) throw new ArgumentException($"cluster {nodes.ClusterId} belongs to provider '{nodes.Provider}', not '{provider}'");
        lock (_gate)
        {
            return _clusters.TryGetValue(nodes.ClusterId, out var entry)
                ? entry.Terminated.Token
                : throw new InvalidOperationException($"cluster {nodes.ClusterId} is not up: it was terminated or never provisioned here");
        }
    }

    /// <summary>Stops what runs on the cluster and deletes its directories; false when it was already gone.</summary>
    public bool Remove(ProvisionedNodes nodes)
    {
        if (nodes.Provider != provider) throw new ArgumentException($"cluster {nodes.ClusterId} belongs to provider '{nodes.Provider}', not '{provider}'");
        Entry? entry;
        lock (_gate)
        {
            if (!_clusters.Remove(nodes.ClusterId, out entry)) return false;
        }
        entry.Terminated.Cancel();
        if (entry.Directory is not null)
        {
            try { System.IO.Directory.Delete(entry.Directory, recursive: true); }
            catch (IOException) { } // a process killed just now may still be writing; the temp folder is cleaned later
            catch (UnauthorizedAccessException) { }
        }
        return true;
    }
}
