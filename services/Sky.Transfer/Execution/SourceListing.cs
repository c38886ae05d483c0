using Sky.Transfer.Storage;

namespace Sky.Transfer.Execution;

/// <summary>
/// Lists the source once into the manifest every run copies from, mapping each key to its destination key by the
/// prefix rule of <see cref="CopyRequest"/>. Store errors that mean the copy cannot start become
/// <see cref="CopyPreconditionException"/>s.
/// </summary>
internal static class SourceListing
{
    /// <summary>The manifest, in the source's key order; <paramref name="listed"/> is told the running count and bytes after each page.</summary>
    public static async Task<List<ManifestEntry>> ListAsync(CopyRequest request, StoreRetry retry, Action<int, long> listed, CancellationToken ct)
    {
        var prefix = request.SourcePrefix;
        var folder = prefix[..(prefix.LastIndexOf('/') + 1)];
        var entries = new List<ManifestEntry>();
        long bytes = 0;
        string? token = null;
        do
        {
            var page = await Preconditions.MapAsync(request, () => retry.RunAsync(c => request.Source.ListAsync(prefix, token, 1000, c), ct), destination: false);
            foreach (var obj in page.Objects)
            {
                entries.Add(new ManifestEntry(obj.Key, FolderKey(request.DestinationPrefix, obj.Key[folder.Length..]), obj.Size, obj.Version)
                {
                    Checksums = obj.Checksums,
                });
                bytes += obj.Size;
            }
            listed(entries.Count, bytes);
            token = page.NextPageToken;
        }
        while (token is not null);

        if (entries.Count == 0)
            throw new CopyPreconditionException(CopyPrecondition.NothingToCopy, $"{request.Source.UriOf(prefix)}: no object to copy under this prefix");
        if (entries.Count == 1 && prefix.Length > 0 && !prefix.EndsWith('/') && entries[0].SourceKey == prefix)
            entries[0] = entries[0] with { DestinationKey = SingleKey(request.DestinationPrefix, prefix[folder.Length..]) };
        foreach (var entry in entries) CheckDestinationKey(request, entry);
        return entries;
    }

    /// <summary>A key below the destination prefix taken as a folder.</summary>
    private static string FolderKey(string destinationPrefix, string relative) =>
        destinationPrefix.Length == 0 || destinationPrefix.EndsWith('/') ? destinationPrefix + relative : destinationPrefix + "/" + relative;

    /// <summary>One object: the destination prefix is its key, unless it names a folder.</summary>
    private static string SingleKey(string destinationPrefix, string fileName) =>
        destinationPrefix.Length == 0 || destinationPrefix.EndsWith('/') ? destinationPrefix + fileName : destinationPrefix;

    private static void CheckDestinationKey(CopyRequest request, ManifestEntry entry)
    {
        try
        {
            ObjectKeys.CheckObjectKey(request.Destination.Root, entry.DestinationKey);
        }
        catch (InvalidObjectUriException e)
        {
            throw new CopyPreconditionException(CopyPrecondition.InvalidRequest,
                $"{request.Source.UriOf(entry.SourceKey)} would be copied to an invalid key: {e.Message}", e);
        }
    }
}

/// <summary>The checks made before any byte moves, and the mapping of a store's refusal to a <see cref="CopyPreconditionException"/>.</summary>
internal static class Preconditions
{
    public static void CheckRequest(CopyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Source, nameof(request.Source));
        ArgumentNullException.ThrowIfNull(request.Destination, nameof(request.Destination));
        ArgumentNullException.ThrowIfNull(request.SourcePrefix, nameof(request.SourcePrefix));
        ArgumentNullException.ThrowIfNull(request.DestinationPrefix, nameof(request.DestinationPrefix));
        if (string.IsNullOrWhiteSpace(request.TransferId) || request.TransferId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new CopyPreconditionException(CopyPrecondition.InvalidRequest, $"transfer id '{request.TransferId}' is empty or holds spaces or control characters");
        try
        {
            ObjectKeys.CheckPrefix(request.Source.Root, request.SourcePrefix);
            ObjectKeys.CheckPrefix(request.Destination.Root, request.DestinationPrefix);
        }
        catch (InvalidObjectUriException e) { throw new CopyPreconditionException(CopyPrecondition.InvalidRequest, e.Message, e); }
        if (ObjectKeys.IsReserved(request.DestinationPrefix) || ObjectKeys.IsReserved(request.SourcePrefix))
            throw new CopyPreconditionException(CopyPrecondition.InvalidRequest, $"keys under {ObjectKeys.ReservedPrefix} are reserved for uploads in progress");
    }

    /// <summary>Read access to the source and write access to the destination (the write check puts and deletes a probe object).</summary>
    public static async Task VerifyAccessAsync(CopyRequest request, StoreRetry retry, CancellationToken ct)
    {
        await MapAsync(request, () => retry.RunAsync(c => request.Source.VerifyAccessAsync(StoreAccess.Read, c), ct), destination: false);
        await MapAsync(request, () => retry.RunAsync(c => request.Destination.VerifyAccessAsync(StoreAccess.Write, c), ct), destination: true);
    }

    public static async Task<T> MapAsync<T>(CopyRequest request, Func<Task<T>> call, bool destination)
    {
        var side = destination ? "destination" : "source";
        try
        {
            return await call();
        }
        catch (BucketNotFoundException e)
        {
            throw new CopyPreconditionException(destination ? CopyPrecondition.DestinationNotFound : CopyPrecondition.SourceNotFound, $"{side}: {e.Message}", e);
        }
        catch (PermissionDeniedException e)
        {
            throw new CopyPreconditionException(CopyPrecondition.PermissionDenied, $"{side}: {e.Message}", e);
        }
        catch (InvalidObjectUriException e)
        {
            throw new CopyPreconditionException(CopyPrecondition.InvalidRequest, $"{side}: {e.Message}", e);
        }
    }

    public static Task MapAsync(CopyRequest request, Func<Task> call, bool destination) =>
        MapAsync(request, async () => { await call(); return true; }, destination);
}
