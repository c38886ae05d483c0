using Sky.Transfer.Storage.Local;
using Xunit;

namespace Sky.Transfer.Tests.Storage;

/// <summary>The local store's file copy, by both its paths: the Linux system calls and .NET's file APIs, which must agree.</summary>
public sealed class FileCopyTests : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("sky-filecopy-").FullName;
    private static readonly DateTime Stamp = new(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);

    public static TheoryData<bool> Paths() => OperatingSystem.IsLinux() && Environment.Is64BitProcess ? new() { true, false } : new() { false };

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static void NoCheck(long size, DateTime lastWrite) { }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Copies_every_byte_and_stamps_the_time_as_the_file_system_reads_it_back(bool native)
    {
        var data = new byte[(3 << 20) + 17];
        new Random(3).NextBytes(data);
        await File.WriteAllBytesAsync(PathOf("src"), data);
        long seenSize = -1;

        var (size, written) = FileCopy.CopyToNew(PathOf("src"), PathOf("dst"), Stamp.AddTicks(1234567), (s, _) => seenSize = s, readBack: true, native);

        Assert.Equal(data, await File.ReadAllBytesAsync(PathOf("dst")));
        Assert.Equal((data.Length, data.Length), (size, seenSize));
        Assert.Equal(File.GetLastWriteTimeUtc(PathOf("dst")), written);
        Assert.Equal(Stamp.AddTicks(1234567), written); // ext4, xfs, tmpfs keep nanoseconds
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Without_reading_back_the_time_returned_is_the_time_set_and_the_one_the_file_has(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("src"), [1, 2, 3]);

        var (size, written) = FileCopy.CopyToNew(PathOf("src"), PathOf("dst"), Stamp.AddTicks(7654321), NoCheck, readBack: false, native);

        Assert.Equal((3L, Stamp.AddTicks(7654321)), (size, written));
        Assert.Equal(written, File.GetLastWriteTimeUtc(PathOf("dst"))); // tmpfs, ext4, xfs keep nanoseconds
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Long_and_non_ascii_paths_reach_the_file_system_intact(bool native)
    {
        // Past the stack buffer the native path writes paths into, and with multi-byte UTF-8.
        var folder = System.IO.Directory.CreateDirectory(PathOf(string.Join('/', Enumerable.Repeat("dössier-ü-" + new string('x', 90), 12)))).FullName;
        var source = Path.Combine(folder, "źródło.bin");
        await File.WriteAllBytesAsync(source, [4, 5]);

        FileCopy.CopyToNew(source, Path.Combine(folder, "kopia.bin"), Stamp, NoCheck, readBack: true, native);
        FileCopy.Replace(Path.Combine(folder, "kopia.bin"), Path.Combine(folder, "cél.bin"), native);

        Assert.Equal([4, 5], await File.ReadAllBytesAsync(Path.Combine(folder, "cél.bin")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task An_empty_file_copies_as_an_empty_file(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("empty"), []);
        var (size, _) = FileCopy.CopyToNew(PathOf("empty"), PathOf("copy"), Stamp, NoCheck, readBack: true, native);
        Assert.Equal(0, size);
        Assert.Empty(await File.ReadAllBytesAsync(PathOf("copy")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_source_check_that_throws_stops_the_copy_before_the_target_exists(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("src"), [1, 2, 3]);
        Assert.Throws<TimeoutException>(() =>
            FileCopy.CopyToNew(PathOf("src"), PathOf("dst"), Stamp, (_, _) => throw new TimeoutException("changed"), readBack: true, native));
        Assert.False(File.Exists(PathOf("dst")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Errors_are_the_ones_net_file_apis_give(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("src"), [1]);
        System.IO.Directory.CreateDirectory(PathOf("folder"));

        Assert.Throws<FileNotFoundException>(() => FileCopy.CopyToNew(PathOf("none"), PathOf("a"), Stamp, NoCheck, readBack: true, native));
        Assert.Throws<FileNotFoundException>(() => FileCopy.CopyToNew(PathOf("folder"), PathOf("b"), Stamp, NoCheck, readBack: true, native));
        Assert.Throws<DirectoryNotFoundException>(() => FileCopy.CopyToNew(PathOf("src"), PathOf("no/such/dst"), Stamp, NoCheck, readBack: true, native));
        // The target must be new: an existing file is never overwritten by the copy itself.
        await File.WriteAllBytesAsync(PathOf("taken"), [9]);
        Assert.ThrowsAny<IOException>(() => FileCopy.CopyToNew(PathOf("src"), PathOf("taken"), Stamp, NoCheck, readBack: true, native));
        Assert.Equal([9], await File.ReadAllBytesAsync(PathOf("taken")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Replace_renames_over_a_file_and_refuses_a_folder_or_a_missing_folder(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("new"), [1]);
        await File.WriteAllBytesAsync(PathOf("old"), [2]);
        FileCopy.Replace(PathOf("new"), PathOf("old"), native);
        Assert.Equal([1], await File.ReadAllBytesAsync(PathOf("old")));
        Assert.False(File.Exists(PathOf("new")));

        System.IO.Directory.CreateDirectory(PathOf("dir"));
        await File.WriteAllBytesAsync(PathOf("x"), [3]);
        Assert.ThrowsAny<IOException>(() => FileCopy.Replace(PathOf("x"), PathOf("dir"), native));
        Assert.Throws<DirectoryNotFoundException>(() => FileCopy.Replace(PathOf("x"), PathOf("gone/x"), native));
    }

    [SkippableFact]
    public async Task An_unnamed_copy_appears_whole_under_the_name_it_is_linked_to_and_never_over_a_file()
    {
        Skip.IfNot(FileCopy.Native, "unnamed files are made on 64-bit Linux only");
        var data = new byte[70_001];
        new Random(4).NextBytes(data);
        await File.WriteAllBytesAsync(PathOf("src"), data);
        await File.WriteAllBytesAsync(PathOf("taken"), [9]);
        var seen = -1L;

        var made = FileCopy.CopyToUnnamed(PathOf("src"), _dir, Stamp.AddTicks(42), static (Action<long> see, long size, DateTime _) => see(size),
            (Action<long>)(size => seen = size), readBack: true);
        Skip.If(made is null, "this file system has no unnamed files");
        using var copy = made.Value;

        Assert.Equal(["src", "taken"], System.IO.Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(FileCopy.TryLink(copy, PathOf("taken")));
        Assert.Throws<DirectoryNotFoundException>(() => FileCopy.TryLink(copy, PathOf("no/such/name")));
        Assert.True(FileCopy.TryLink(copy, PathOf("named")));

        Assert.Equal((data.Length, data.Length, Stamp.AddTicks(42)), (copy.Size, seen, copy.LastWriteUtc));
        Assert.Equal(data, await File.ReadAllBytesAsync(PathOf("named")));
        Assert.Equal(Stamp.AddTicks(42), File.GetLastWriteTimeUtc(PathOf("named")));
        Assert.Equal([9], await File.ReadAllBytesAsync(PathOf("taken")));
    }

    [SkippableFact]
    public async Task An_unnamed_copy_whose_source_check_throws_leaves_nothing()
    {
        Skip.IfNot(FileCopy.Native, "unnamed files are made on 64-bit Linux only");
        await File.WriteAllBytesAsync(PathOf("src"), [1, 2, 3]);
        Assert.Throws<TimeoutException>(() =>
            FileCopy.CopyToUnnamed<object?>(PathOf("src"), _dir, Stamp, static (_, _, _) => throw new TimeoutException("changed"), null, readBack: false));
        Assert.Throws<FileNotFoundException>(() =>
            FileCopy.CopyToUnnamed<object?>(PathOf("none"), _dir, Stamp, static (_, _, _) => { }, null, readBack: false));
        Assert.Equal(["src"], System.IO.Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);
}
