using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sky.Transfer.Storage.Local;

/// <summary>
/// Copies a file into a new one and stamps its modification time: the local store's server-side copy. On 64-bit
/// Linux it goes straight to the system calls cp itself makes (open, statx, copy_file_range, futimens, close), so a
/// small file costs about what it costs cp: File.Copy and SafeFileHandle add an flock and its release per file, fstats,
/// and File.Copy copies the source's mode and times only for the store to overwrite them; for 10,000 small files those
/// were a third of the time. copy_file_range never moves the bytes through user space and lets the file system share
/// extents where it can. Elsewhere (another OS, or where copy_file_range refuses, e.g. across file systems) the bytes go
/// through a pooled buffer with .NET's own file APIs.
/// </summary>
internal static class FileCopy
{
    /// <summary>Whether the system-call path is used (64-bit Linux); otherwise .NET's file APIs.</summary>
    public static bool Native { get; } = OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="target"/>, which must not exist, and sets the copy's
    /// modification time; returns the bytes copied and that time as the file system keeps it (its precision may be
    /// coarser). <paramref name="checkSource"/> sees the opened source's size and modification time before anything is
    /// written, and throws to stop the copy (a version that is not the one asked for). Errors are .NET's: FileNotFound
    /// (no such source file), DirectoryNotFound (the target's folder is missing), UnauthorizedAccess, IOException.
    /// </summary>
    public static Task<(long Size, DateTime LastWriteUtc)> CopyToNewAsync(string source, string target, DateTime lastWriteUtc,
        Action<long, DateTime> checkSource, CancellationToken ct) => CopyToNewAsync(source, target, lastWriteUtc, checkSource, Native, ct);

    /// <summary><see cref="CopyToNewAsync(string, string, DateTime, Action{long, DateTime}, CancellationToken)"/> by the path chosen (tests run both).</summary>
    internal static async Task<(long Size, DateTime LastWriteUtc)> CopyToNewAsync(string source, string target, DateTime lastWriteUtc,
        Action<long, DateTime> checkSource, bool native, CancellationToken ct)
    {
        if (native) return Linux.CopyToNew(source, target, lastWriteUtc, checkSource);
        SafeFileHandle from;
        try { from = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (UnauthorizedAccessException e) when (System.IO.Directory.Exists(source)) { throw new FileNotFoundException($"{source} is not a file", source, e); }
        using var _ = from;
        checkSource(RandomAccess.GetLength(from), File.GetLastWriteTimeUtc(from));
        using var to = File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        var size = await BufferedCopyAsync(from, to, 0, ct);
        File.SetLastWriteTimeUtc(to, lastWriteUtc);
        return (size, File.GetLastWriteTimeUtc(to));
    }

    /// <summary>Renames <paramref name="from"/> onto <paramref name="to"/>, replacing a file there (rename(2): atomic within one file system).</summary>
    public static void Replace(string from, string to) => Replace(from, to, Native);

    internal static void Replace(string from, string to, bool native)
    {
        if (native) Linux.Rename(from, to);
        else File.Move(from, to, overwrite: true);
    }

    private static async Task<long> BufferedCopyAsync(SafeFileHandle from, SafeFileHandle to, long offset, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var copied = 0L;
            while (true)
            {
                var n = await RandomAccess.ReadAsync(from, buffer, offset + copied, ct);
                if (n == 0) return copied;
                await RandomAccess.WriteAsync(to, buffer.AsMemory(0, n), offset + copied, ct);
                copied += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>The system calls, as glibc exports them. Flags and structures are the same on x86-64 and arm64 (asm-generic).</summary>
    private static class Linux
    {
        private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;
        private const int AT_EMPTY_PATH = 0x1000;
        private const uint STATX_TYPE = 0x1, STATX_MTIME = 0x40, STATX_SIZE = 0x200;
        private const ushort S_IFMT = 0xF000, S_IFREG = 0x8000;
        private const long UTIME_OMIT = (1L << 30) - 2;
        private const int EINTR = 4, ENOENT = 2, ENOTDIR = 20, EACCES = 13, EPERM = 1, EXDEV = 18, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;

        [DllImport("libc", SetLastError = true, EntryPoint = "open")]
        private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

        [DllImport("libc", SetLastError = true, EntryPoint = "close")]
        private static extern int Close(int fd);

        [DllImport("libc", SetLastError = true, EntryPoint = "rename")]
        private static extern int RenameFile([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);

        [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
        private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, out StatxBuffer buffer);

        [DllImport("libc", SetLastError = true, EntryPoint = "futimens")]
        private static extern int Futimens(int fd, [In] Timespec[] times);

        // copy_file_range(2) with both offsets null: it reads and writes at, and advances, each file's own position.
        [DllImport("libc", SetLastError = true, EntryPoint = "copy_file_range")]
        private static extern nint CopyFileRange(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        // struct statx: 256 bytes, the fields read here at their fixed offsets.
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        private struct StatxBuffer
        {
            [FieldOffset(28)] public ushort Mode;
            [FieldOffset(40)] public ulong Size;
            [FieldOffset(112)] public long MtimeSeconds;
            [FieldOffset(120)] public uint MtimeNanoseconds;

            // In ticks, as .NET reads a file's time (FileInfo.LastWriteTimeUtc), so versions agree with the managed path's.
            public readonly DateTime LastWriteUtc => DateTime.UnixEpoch.AddTicks(MtimeSeconds * TimeSpan.TicksPerSecond + MtimeNanoseconds / 100);
        }

        public static (long Size, DateTime LastWriteUtc) CopyToNew(string source, string target, DateTime lastWriteUtc, Action<long, DateTime> checkSource)
        {
            var from = Open(source, O_RDONLY | O_CLOEXEC, 0);
            if (from < 0) throw Error(source, Marshal.GetLastPInvokeError(), missing: message => new FileNotFoundException(message, source));
            try
            {
                var stat = Stat(from, source);
                if ((stat.Mode & S_IFMT) != S_IFREG) throw new FileNotFoundException($"{source} is not a file", source);
                checkSource((long)stat.Size, stat.LastWriteUtc);
                // 0666 less the umask, as .NET and cp create files.
                var to = Open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x1B6);
                if (to < 0) throw Error(target);
                try
                {
                    var size = Copy(from, to, (long)stat.Size, source);
                    var since = lastWriteUtc - DateTime.UnixEpoch;
                    var times = new Timespec[]
                    {
                        new() { Nanoseconds = UTIME_OMIT },
                        new() { Seconds = since.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = since.Ticks % TimeSpan.TicksPerSecond * 100 },
                    };
                    if (Futimens(to, times) != 0) throw Error(target);
                    return (size, Stat(to, target).LastWriteUtc);
                }
                finally { Close(to); } // on failure the caller deletes the target

            }
            finally { Close(from); }
        }

        public static void Rename(string from, string to)
        {
            if (RenameFile(from, to) != 0) throw Error(to);
        }

        // The bytes of a just-opened source up to the size it had: copy_file_range until done, or a buffered copy where
        // the kernel refuses these two files before writing anything (EXDEV across file systems on recent kernels).
        private static long Copy(int from, int to, long size, string source)
        {
            var total = 0L;
            while (total < size)
            {
                var n = CopyFileRange(from, 0, to, 0, (nuint)(size - total), 0);
                if (n > 0) total += n;
                else if (n == 0) break; // the file shrank since its stat
                else
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    if (total == 0 && errno is EXDEV or EINVAL or ENOSYS or EOPNOTSUPP) return Buffered(from, to);
                    throw Error(source, errno);
                }
            }
            return total;
        }

        private static long Buffered(int from, int to)
        {
            using var input = new SafeFileHandle(from, ownsHandle: false);
            using var output = new SafeFileHandle(to, ownsHandle: false);
            return BufferedCopyAsync(input, output, 0, CancellationToken.None).GetAwaiter().GetResult();
        }

        private static StatxBuffer Stat(int fd, string path)
        {
            if (Statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_MTIME, out var buffer) != 0) throw Error(path);
            return buffer;
        }

        // A target's path with no such file or folder: its folder is missing (the file is being created).
        private static Exception Error(string path) =>
            Error(path, Marshal.GetLastPInvokeError(), missing: message => new DirectoryNotFoundException(message));

        // errno as .NET's own file APIs report it, so the store maps both paths' failures the same way.
        private static Exception Error(string path, int errno, Func<string, Exception>? missing = null)
        {
            var message = $"{path}: {Marshal.GetPInvokeErrorMessage(errno)}";
            return errno switch
            {
                ENOENT or ENOTDIR when missing is not null => missing(message),
                EACCES or EPERM => new UnauthorizedAccessException(message),
                _ => new IOException(message, errno),
            };
        }
    }
}
