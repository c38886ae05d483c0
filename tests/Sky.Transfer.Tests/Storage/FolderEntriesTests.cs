using Sky.Transfer.Storage.Local;
using Xunit;

namespace Sky.Transfer.Tests.Storage;

/// <summary>The local store's folder reader, by both its paths (readdir and statx on Linux, .NET's enumerator), which must agree.</summary>
public sealed class FolderEntriesTests : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("sky-folder-entries-").FullName;

    public static TheoryData<bool> Paths() => OperatingSystem.IsLinux() && Environment.Is64BitProcess ? new() { true, false } : new() { false };

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Files_come_with_their_size_and_time_folders_and_hidden_entries_too(bool native)
    {
        var stamp = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1234567);
        await File.WriteAllBytesAsync(Path.Combine(_dir, "a.bin"), new byte[1234]);
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "a.bin"), stamp);
        await File.WriteAllBytesAsync(Path.Combine(_dir, ".hidden"), new byte[7]);
        await File.WriteAllBytesAsync(Path.Combine(_dir, "żółw.txt"), []);
        System.IO.Directory.CreateDirectory(Path.Combine(_dir, "sub"));

        var entries = FolderEntries.Read(_dir, native).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();

        Assert.Equal([".hidden", "a.bin", "sub", "żółw.txt"], entries.Select(e => e.Name));
        Assert.Equal(new FolderEntry("a.bin", false, false, 1234, stamp), entries[1]);
        Assert.Equal((7L, false), (entries[0].Size, entries[0].IsFolder));
        Assert.Equal((true, false), (entries[2].IsFolder, entries[2].IsLinkedFolder));
        Assert.Equal(0, entries[3].Size);
    }

    [SkippableTheory]
    [MemberData(nameof(Paths))]
    public async Task Both_paths_agree_and_links_are_not_followed(bool native)
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        System.IO.Directory.CreateDirectory(Path.Combine(_dir, "real"));
        await File.WriteAllBytesAsync(Path.Combine(_dir, "real", "big.bin"), new byte[5000]);
        File.CreateSymbolicLink(Path.Combine(_dir, "file-link"), Path.Combine(_dir, "real", "big.bin"));
        System.IO.Directory.CreateSymbolicLink(Path.Combine(_dir, "folder-link"), Path.Combine(_dir, "real"));

        var entries = FolderEntries.Read(_dir, native).ToDictionary(e => e.Name);

        Assert.True(entries["folder-link"] is { IsFolder: true, IsLinkedFolder: true });
        Assert.True(entries["real"] is { IsFolder: true, IsLinkedFolder: false });
        var link = new FileInfo(Path.Combine(_dir, "file-link"));
        Assert.Equal(new FolderEntry("file-link", false, false, link.Length, link.LastWriteTimeUtc), entries["file-link"]);
        Assert.Equal(FolderEntries.Read(_dir, native: false).OrderBy(e => e.Name, StringComparer.Ordinal),
            FolderEntries.Read(_dir, native).OrderBy(e => e.Name, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_missing_folder_is_directory_not_found(bool native) =>
        Assert.Throws<DirectoryNotFoundException>(() => FolderEntries.Read(Path.Combine(_dir, "none"), native));
}
