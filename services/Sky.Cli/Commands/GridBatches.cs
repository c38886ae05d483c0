namespace Sky.Cli.Commands;

/// <summary>
/// Splits grid entries into Put*Grid requests of at most <see cref="MaxEntries"/> entries. With replace, a request
/// first removes every stored entry whose src.provider appears in it, so a later batch carrying a provider
/// would wipe what an earlier batch just wrote. Batches therefore never mix source providers, and only
/// each provider's first batch asks for the replacement.
/// </summary>
public static class GridBatches
{
    /// <summary>The most entries one Put*Grid request may carry (directory.proto).</summary>
    public const int MaxEntries = 10_000;

    public sealed record Batch<T>(IReadOnlyList<T> Entries, bool Replace);

    public static List<Batch<T>> Split<T>(IReadOnlyList<T> entries, Func<T, string> srcProvider, bool replace, int maxEntries = MaxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        if (!replace)
            return entries.Chunk(maxEntries).Select(c => new Batch<T>(c, false)).ToList();
        return entries
            .GroupBy(srcProvider, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(maxEntries).Select((chunk, i) => new Batch<T>(chunk, i == 0)))
            .ToList();
    }
}
