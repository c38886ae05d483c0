using System.Runtime.CompilerServices;

namespace Sky.Deploy.Tests;

/// <summary>
/// The checkout these tests read (dapr/, deploy/, the Dockerfile and the host's sources). Found by walking up from the
/// test binaries to the folder holding Sky.Mesh.sln, or, when they were built elsewhere (--artifacts-path), from this
/// source file.
/// </summary>
public static class Repo
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    /// <summary>The full path of a '/'-separated path relative to the checkout.</summary>
    public static string PathOf(string relative) =>
        Path.GetFullPath(Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>A full path as the '/'-separated path relative to the checkout, for messages and theory names.</summary>
    public static string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace(Path.DirectorySeparatorChar, '/');

    public static string ReadText(string relative)
    {
        var path = PathOf(relative);
        Assert.True(File.Exists(path), $"{relative} does not exist in the checkout ({Root})");
        return File.ReadAllText(path);
    }

    private static string FindRoot() => FindRootFrom(SourceFolder());

    private static string FindRootFrom(string sourceFolder)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, sourceFolder })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Sky.Mesh.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException(
            $"no folder holding Sky.Mesh.sln above {AppContext.BaseDirectory} or {sourceFolder}: run the tests from a checkout");
    }

    private static string SourceFolder([CallerFilePath] string source = "") => Path.GetDirectoryName(source) ?? "";
}
