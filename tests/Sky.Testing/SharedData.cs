using System.Runtime.CompilerServices;
using Xunit;

namespace Sky.Testing;

/// <summary>
/// Finds data under ../shared (beside the checkout: the real SkyPilot catalogs, Skyplane's grids). It is never part
/// of the project, so tests that read it skip with the reason when it is absent.
/// </summary>
public static class SharedData
{
    /// <summary>
    /// The full path of <paramref name="relative"/> (a file or folder, '/'-separated) under ../shared, or null. The
    /// checkout is found above the test binaries or, when they were built elsewhere (--artifacts-path), above the
    /// calling source file.
    /// </summary>
    public static string? Find(string relative, [CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source) ?? "" })
        {
            for (var dir = start.Length == 0 ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) continue;
                var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", relative));
                if (File.Exists(path) || System.IO.Directory.Exists(path)) return path;
                break;
            }
        }
        return null;
    }

    /// <summary>As <see cref="Find"/>, but skips the calling test with the reason when the data is absent.</summary>
    public static string Require(string relative, [CallerFilePath] string source = "")
    {
        var path = Find(relative, source);
        Skip.If(path is null, $"../shared/{relative} is not present beside the checkout");
        return path!;
    }
}
