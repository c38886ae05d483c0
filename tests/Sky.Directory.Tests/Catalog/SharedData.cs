using System.Runtime.CompilerServices;

namespace Sky.Directory.Tests.Catalog;

/// <summary>Finds files under ../shared (beside the repository), which tests skip without.</summary>
internal static class SharedData
{
    /// <summary>
    /// The path of <paramref name="relative"/> under ../shared, or null when there is none. The repository is found
    /// above the test binaries or, when they are built elsewhere (--artifacts-path), above this source file.
    /// </summary>
    public static string? Find(string relative, [CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source) ?? "" })
        {
            var dir = start.Length > 0 ? new DirectoryInfo(start) : null;
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) dir = dir.Parent;
            if (dir?.Parent is null) continue;
            var path = Path.Combine(dir.Parent.FullName, "shared", relative);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>The path of <paramref name="relative"/> under ../shared; skips the test with the reason when it is absent.</summary>
    public static string Require(string relative, [CallerFilePath] string source = "")
    {
        var path = Find(relative, source);
        Skip.If(path is null, $"../shared/{relative} is not present beside the repository");
        return path!;
    }
}
