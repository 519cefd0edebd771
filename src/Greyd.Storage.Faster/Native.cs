using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Greyd.Storage.Faster;

/// <summary>The few libc calls .NET does not expose: flock, fsync of a file and of a directory, and the journal's mappings.</summary>
internal static partial class Native
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int OpenReadOnlyCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncFd(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "posix_fallocate")]
    private static partial int PosixFallocate(SafeFileHandle fd, long offset, long length);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(SafeFileHandle fd, long length);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    private const int ProtReadWrite = 3;
    private const int MapShared = 1;

    /// <summary>Takes an exclusive lock without waiting; false when another open file holds it.</summary>
    public static bool TryLockExclusive(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsFreeBSD() && !OperatingSystem.IsMacOS())
        {
            return true; // elsewhere FileShare.None already excludes other openers
        }

        return Flock(handle, LockExclusive | LockNonBlocking) == 0;
    }

    /// <summary>Forces a file's data to stable storage; throws on failure so callers can log the errno.</summary>
    public static void SyncFile(SafeFileHandle handle)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (Fsync(handle) != 0)
        {
            throw new IOException($"fsync failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Makes renames and new files inside a directory durable (POSIX needs an fsync of the directory).</summary>
    public static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(path, OpenReadOnlyCloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"open {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (FsyncFd(fd) != 0)
            {
                throw new IOException($"fsync {path} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Reserves disk blocks for a byte range of a file, growing it; throws when the space is not there.</summary>
    public static void Reserve(SafeFileHandle handle, long offset, long length)
    {
        int error = PosixFallocate(handle, offset, length);
        if (error != 0)
        {
            throw new IOException($"cannot reserve {length} bytes: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }

    /// <summary>Cuts a file to <paramref name="length"/> bytes.</summary>
    public static void Truncate(SafeFileHandle handle, long length)
    {
        if (Ftruncate(handle, length) != 0)
        {
            throw new IOException($"ftruncate failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    /// <summary>Maps a byte range of a file shared and writable: stores into it are the file's page cache.</summary>
    public static nint Map(SafeFileHandle handle, long offset, long length)
    {
        nint address = Mmap(0, (nuint)length, ProtReadWrite, MapShared, handle, offset);
        if (address == -1)
        {
            throw new IOException($"mmap failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        return address;
    }

    public static void Unmap(nint address, long length) => _ = Munmap(address, (nuint)length);
}
