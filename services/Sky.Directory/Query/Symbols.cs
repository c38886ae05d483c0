using System.Collections.Concurrent;

namespace Sky.Directory.Query;

/// <summary>
/// One shared instance per low-cardinality value (provider, region, zone, instance type, accelerator ...), so
/// that 100,000 offers point at a few thousand strings that stay in cache and equal values compare by reference.
/// </summary>
internal static class Symbols
{
    // A bound keeps hostile or buggy input (millions of distinct regions) from growing the table without end;
    // past it values are simply not shared.
    private const int Capacity = 200_000;
    private static readonly ConcurrentDictionary<string, string> Table = new(StringComparer.Ordinal);

    public static string Intern(string value)
    {
        if (value.Length == 0) return "";
        if (Table.TryGetValue(value, out var shared)) return shared;
        return Table.Count < Capacity ? Table.GetOrAdd(value, value) : value;
    }

    /// <summary>The shared instance when there is one, else the value itself; never adds (used for selector literals).</summary>
    public static string Find(string value) => Table.TryGetValue(value, out var shared) ? shared : value;
}
