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

        var (size, written) = await FileCopy.CopyToNewAsync(PathOf("src"), PathOf("dst"), Stamp.AddTicks(1234567), (s, _) => seenSize = s, native, default);

        Assert.Equal(data, await File.ReadAllBytesAsync(PathOf("dst")));
        Assert.Equal((data.Length, data.Length), (size, seenSize));
        Assert.Equal(File.GetLastWriteTimeUtc(PathOf("dst")), written);
        Assert.Equal(Stamp.AddTicks(1234567), written); // ext4, xfs, tmpfs keep nanoseconds
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task An_empty_file_copies_as_an_empty_file(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("empty"), []);
        var (size, _) = await FileCopy.CopyToNewAsync(PathOf("empty"), PathOf("copy"), Stamp, NoCheck, native, default);
        Assert.Equal(0, size);
        Assert.Empty(await File.ReadAllBytesAsync(PathOf("copy")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_source_check_that_throws_stops_the_copy_before_the_target_exists(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("src"), [1, 2, 3]);
        await Assert.ThrowsAsync<TimeoutException>(() =>
            FileCopy.CopyToNewAsync(PathOf("src"), PathOf("dst"), Stamp, (_, _) => throw new TimeoutException("changed"), native, default));
        Assert.False(File.Exists(PathOf("dst")));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Errors_are_the_ones_net_file_apis_give(bool native)
    {
        await File.WriteAllBytesAsync(PathOf("src"), [1]);
        System.IO.Directory.CreateDirectory(PathOf("folder"));

        await Assert.ThrowsAsync<FileNotFoundException>(() => FileCopy.CopyToNewAsync(PathOf("none"), PathOf("a"), Stamp, NoCheck, native, default));
        await Assert.ThrowsAsync<FileNotFoundException>(() => FileCopy.CopyToNewAsync(PathOf("folder"), PathOf("b"), Stamp, NoCheck, native, default));
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => FileCopy.CopyToNewAsync(PathOf("src"), PathOf("no/such/dst"), Stamp, NoCheck, native, default));
        // The target must be new: an existing file is never overwritten by the copy itself.
        await File.WriteAllBytesAsync(PathOf("taken"), [9]);
        await Assert.ThrowsAnyAsync<IOException>(() => FileCopy.CopyToNewAsync(PathOf("src"), PathOf("taken"), Stamp, NoCheck, native, default));
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

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);
}
