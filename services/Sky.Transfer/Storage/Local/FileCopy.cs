using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
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
    /// modification time; returns the bytes copied and that time as the file system keeps it, read back when
    /// <paramref name="readBack"/> (a file system's precision may be coarser than the 100 ns asked for), else the time
    /// set. <paramref name="checkSource"/> sees the opened source's size and modification time before anything is
    /// written, and throws to stop the copy (a version that is not the one asked for). Synchronous: on a local disk every
    /// call is a short system call, and 10,000 small files cost less without a task each. Errors are .NET's:
    /// FileNotFound (no such source file), DirectoryNotFound (the target's folder is missing), UnauthorizedAccess, IOException.
    /// </summary>
    public static (long Size, DateTime LastWriteUtc) CopyToNew<TState>(string source, string target, DateTime lastWriteUtc,
        Action<TState, long, DateTime> checkSource, TState state, bool readBack) =>
        CopyToNew(source, target, lastWriteUtc, checkSource, state, readBack, Native);

    /// <summary>The copy with a check that needs no state of its own, by the path chosen (tests run both).</summary>
    internal static (long Size, DateTime LastWriteUtc) CopyToNew(string source, string target, DateTime lastWriteUtc,
        Action<long, DateTime> checkSource, bool readBack, bool native) =>
        CopyToNew(source, target, lastWriteUtc, static (check, size, time) => check(size, time), checkSource, readBack, native);

    private static (long Size, DateTime LastWriteUtc) CopyToNew<TState>(string source, string target, DateTime lastWriteUtc,
        Action<TState, long, DateTime> checkSource, TState state, bool readBack, bool native)
    {
        if (native) return Linux.CopyToNew(source, target, lastWriteUtc, checkSource, state, readBack);
        SafeFileHandle from;
        try { from = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (UnauthorizedAccessException e) when (System.IO.Directory.Exists(source)) { throw new FileNotFoundException($"{source} is not a file", source, e); }
        using var _ = from;
        checkSource(state, RandomAccess.GetLength(from), File.GetLastWriteTimeUtc(from));
        using var to = File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        var size = BufferedCopy(from, to);
        File.SetLastWriteTimeUtc(to, lastWriteUtc);
        return (size, readBack ? File.GetLastWriteTimeUtc(to) : lastWriteUtc);
    }

    /// <summary>Renames <paramref name="from"/> onto <paramref name="to"/>, replacing a file there (rename(2): atomic within one file system).</summary>
    public static void Replace(string from, string to) => Replace(from, to, Native);

    internal static void Replace(string from, string to, bool native)
    {
        if (native) Linux.Rename(from, to);
        else File.Move(from, to, overwrite: true);
    }

    /// <summary>
    /// Copies <paramref name="source"/> into a new file with no name yet in <paramref name="folder"/> (Linux's O_TMPFILE),
    /// stamped as <see cref="CopyToNew{TState}"/> stamps; <see cref="TryLink"/> then gives it its name, whole at once.
    /// Creating and renaming a named temporary file costs two updates of the folders and, across folders, the file
    /// system's rename lock, which two threads copying small files contend for. Null where there are no unnamed files
    /// (not 64-bit Linux, or a file system without them): the caller writes a named temporary file instead. Dispose
    /// the copy after linking it (unlinked, it vanishes).
    /// </summary>
    public static UnnamedCopy? CopyToUnnamed<TState>(string source, string folder, DateTime lastWriteUtc,
        Action<TState, long, DateTime> checkSource, TState state, bool readBack) =>
        Native ? Linux.CopyToUnnamed(source, folder, lastWriteUtc, checkSource, state, readBack) : null;

    /// <summary>
    /// Names an unnamed copy <paramref name="path"/>: true when done; false when something is already there (a file, to
    /// be replaced by a rename, or a folder). DirectoryNotFound when the path's folder is missing.
    /// </summary>
    public static bool TryLink(UnnamedCopy copy, string path) => Linux.Link(copy.Fd, path);

    internal static void CloseUnnamed(UnnamedCopy copy) => Linux.Close(copy);

    private static long BufferedCopy(SafeFileHandle from, SafeFileHandle to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var copied = 0L;
            while (true)
            {
                var n = RandomAccess.Read(from, buffer, copied);
                if (n == 0) return copied;
                RandomAccess.Write(to, buffer.AsSpan(0, n), copied);
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
        private const int EINTR = 4, ENOENT = 2, ENOTDIR = 20, EACCES = 13, EPERM = 1, EXDEV = 18, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95,
            EEXIST = 17, EISDIR = 21;
        private const int AT_FDCWD = -100, AT_SYMLINK_FOLLOW = 0x400;

        // O_TMPFILE is __O_TMPFILE | O_DIRECTORY, and O_DIRECTORY is not the same on arm64 as on x86-64.
        private static readonly int O_TMPFILE = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x410000,
            Architecture.Arm64 => 0x404000,
            _ => 0,
        };

        // Whether linkat(fd, "", AT_EMPTY_PATH) was refused (before Linux 6.10 it takes CAP_DAC_READ_SEARCH): then links go
        // through /proc/self/fd, which needs no capability.
        private static int s_linkThroughProc;

        [DllImport("libc", SetLastError = true, EntryPoint = "linkat")]
        private static extern int LinkAt(int oldDirFd, in byte oldPath, int newDirFd, in byte newPath, int flags);

        // Paths go as NUL-terminated UTF-8 the caller wrote (Utf8): the runtime's string marshalling mallocs a buffer
        // for any path over 85 characters, and a copy passes three or four such paths.
        [DllImport("libc", SetLastError = true, EntryPoint = "open")]
        private static extern int Open(in byte path, int flags, int mode);

        [DllImport("libc", SetLastError = true, EntryPoint = "close")]
        private static extern int Close(int fd);

        [DllImport("libc", SetLastError = true, EntryPoint = "rename")]
        private static extern int RenameFile(in byte from, in byte to);

        [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
        private static extern int Statx(int dirfd, in byte path, int flags, uint mask, out StatxBuffer buffer);

        [DllImport("libc", SetLastError = true, EntryPoint = "futimens")]
        private static extern int Futimens(int fd, in Times times);

        // copy_file_range(2) with both offsets null: it reads and writes at, and advances, each file's own position.
        [DllImport("libc", SetLastError = true, EntryPoint = "copy_file_range")]
        private static extern nint CopyFileRange(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        // futimens' two-element array (access, modification), passed by reference: no array to allocate per file.
        [StructLayout(LayoutKind.Sequential)]
        private struct Times
        {
            public Timespec Access;
            public Timespec Modification;
        }

        /// <summary>A path as NUL-terminated UTF-8 in <paramref name="buffer"/> (an array instead when it does not fit).</summary>
        private static ref byte Utf8(string path, Span<byte> buffer)
        {
            if (Encoding.UTF8.GetMaxByteCount(path.Length) >= buffer.Length) buffer = new byte[Encoding.UTF8.GetByteCount(path) + 1];
            buffer[Encoding.UTF8.GetBytes(path, buffer)] = 0;
            return ref MemoryMarshal.GetReference(buffer);
        }

        private const int PathBuffer = 1024;

        public static (long Size, DateTime LastWriteUtc) CopyToNew<TState>(string source, string target, DateTime lastWriteUtc,
            Action<TState, long, DateTime> checkSource, TState state, bool readBack)
        {
            var (from, stat) = OpenSource(source, checkSource, state);
            try
            {
                // 0666 less the umask, as .NET and cp create files.
                var to = Open(Utf8(target, stackalloc byte[PathBuffer]), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x1B6);
                if (to < 0) throw Error(target);
                try { return FillAndStamp(from, stat, source, to, target, lastWriteUtc, readBack); }
                finally { Close(to); } // on failure the caller deletes the target
            }
            finally { Close(from); }
        }

        public static UnnamedCopy? CopyToUnnamed<TState>(string source, string folder, DateTime lastWriteUtc,
            Action<TState, long, DateTime> checkSource, TState state, bool readBack)
        {
            if (O_TMPFILE == 0) return null;
            var (from, stat) = OpenSource(source, checkSource, state);
            try
            {
                var to = Open(Utf8(folder, stackalloc byte[PathBuffer]), O_WRONLY | O_TMPFILE | O_CLOEXEC, 0x1B6);
                if (to < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EOPNOTSUPP or EISDIR or EINVAL) return null; // no unnamed files here (EISDIR: a kernel before 3.11)
                    throw Error(folder, errno, missing: message => new DirectoryNotFoundException(message));
                }
                try
                {
                    var (size, written) = FillAndStamp(from, stat, source, to, folder, lastWriteUtc, readBack);
                    return new UnnamedCopy(to, size, written);
                }
                catch
                {
                    Close(to);
                    throw;
                }
            }
            finally { Close(from); }
        }

        /// <summary>Opens the source, checks it is a regular file and lets <paramref name="checkSource"/> see its size and time (the caller closes it).</summary>
        private static (int Fd, StatxBuffer Stat) OpenSource<TState>(string source, Action<TState, long, DateTime> checkSource, TState state)
        {
            var from = Open(Utf8(source, stackalloc byte[PathBuffer]), O_RDONLY | O_CLOEXEC, 0);
            if (from < 0) throw Error(source, Marshal.GetLastPInvokeError(), missing: message => new FileNotFoundException(message, source));
            try
            {
                var stat = Stat(from, source);
                if ((stat.Mode & S_IFMT) != S_IFREG) throw new FileNotFoundException($"{source} is not a file", source);
                checkSource(state, (long)stat.Size, stat.LastWriteUtc);
                return (from, stat);
            }
            catch
            {
                Close(from);
                throw;
            }
        }

        /// <summary>Copies the opened source into <paramref name="to"/> and sets its modification time; returns the bytes and the time it has.</summary>
        private static (long Size, DateTime LastWriteUtc) FillAndStamp(int from, StatxBuffer stat, string source, int to, string target, DateTime lastWriteUtc, bool readBack)
        {
            var size = Copy(from, to, (long)stat.Size, source);
            var since = lastWriteUtc - DateTime.UnixEpoch;
            var times = new Times
            {
                Access = new() { Nanoseconds = UTIME_OMIT },
                Modification = new() { Seconds = since.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = since.Ticks % TimeSpan.TicksPerSecond * 100 },
            };
            if (Futimens(to, times) != 0) throw Error(target);
            return (size, readBack ? Stat(to, target).LastWriteUtc : lastWriteUtc);
        }

        public static bool Link(int fd, string path)
        {
            ref var target = ref Utf8(path, stackalloc byte[PathBuffer]);
            if (Volatile.Read(ref s_linkThroughProc) == 0)
            {
                if (LinkAt(fd, MemoryMarshal.GetReference("\0"u8), AT_FDCWD, target, AT_EMPTY_PATH) == 0) return true;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EEXIST) return false;
                if (errno != ENOENT) throw Error(path, errno);
                // ENOENT: the folder is missing, or AT_EMPTY_PATH was refused; /proc tells which.
            }
            var proc = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}");
            if (LinkAt(AT_FDCWD, Utf8(proc, stackalloc byte[64]), AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0)
            {
                Volatile.Write(ref s_linkThroughProc, 1);
                return true;
            }
            var error = Marshal.GetLastPInvokeError();
            if (error == EEXIST) return false;
            throw Error(path, error, missing: message => new DirectoryNotFoundException(message));
        }

        public static void Close(UnnamedCopy copy) => Close(copy.Fd);

        public static void Rename(string from, string to)
        {
            if (RenameFile(Utf8(from, stackalloc byte[PathBuffer]), Utf8(to, stackalloc byte[PathBuffer])) != 0) throw Error(to);
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
            return BufferedCopy(input, output);
        }

        private static StatxBuffer Stat(int fd, string path)
        {
            if (Statx(fd, MemoryMarshal.GetReference("\0"u8), AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_MTIME, out var buffer) != 0) throw Error(path);
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

/// <summary>A copy with no name yet (<see cref="FileCopy.CopyToUnnamed"/>): its open file, the bytes copied and its time.</summary>
internal readonly record struct UnnamedCopy(int Fd, long Size, DateTime LastWriteUtc) : IDisposable
{
    public void Dispose() => FileCopy.CloseUnnamed(this);
}

/// <summary>Linux's struct statx (256 bytes), the fields the local store reads at their fixed offsets; shared by copies and listings.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatxBuffer
{
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(112)] public long MtimeSeconds;
    [FieldOffset(120)] public uint MtimeNanoseconds;

    // In ticks, as .NET reads a file's time (FileInfo.LastWriteTimeUtc), so versions agree with the managed path's.
    public readonly DateTime LastWriteUtc => DateTime.UnixEpoch.AddTicks(MtimeSeconds * TimeSpan.TicksPerSecond + MtimeNanoseconds / 100);
}
