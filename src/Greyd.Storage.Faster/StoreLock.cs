namespace Greyd.Storage.Faster;

/// <summary>
/// The exclusive lock on a store directory (flock on DIR/greyd.lock). The host takes it before binding sockets, so
/// a second greyd stops before it can touch the first one's socket or files.
/// </summary>
public sealed class StoreLock : IDisposable
{
    public const string FileName = "greyd.lock";

    private readonly FileStream _file;

    private StoreLock(string directory, FileStream file)
    {
        Directory = directory;
        _file = file;
    }

    public string Directory { get; }

    /// <summary>Creates the directory if missing (mode 0700) and locks it; throws <see cref="StoreLockedException"/> if taken.</summary>
    public static StoreLock Acquire(string directory)
    {
        string full = Path.GetFullPath(directory);
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(full);
        }
        else
        {
            System.IO.Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        string lockPath = Path.Combine(full, FileName);
        FileStream file;
        try
        {
            // FileShare.None makes .NET take flock(LOCK_EX|LOCK_NB) itself; an IOException here means it is held.
            file = new FileStream(lockPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException && IsHeld(e))
        {
            throw StoreLockedException.For(full, lockPath);
        }

        // .NET skips its own flock when DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set: lock explicitly as well.
        if (!Native.TryLockExclusive(file.SafeFileHandle))
        {
            file.Dispose();
            throw StoreLockedException.For(full, lockPath);
        }

        try
        {
            // The pid helps an operator find the owner; failure to write it is harmless.
            file.SetLength(0);
            byte[] pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
            file.Write(pid);
            file.Flush();
        }
        catch (IOException)
        {
        }

        return new StoreLock(full, file);
    }

    public void Dispose() => _file.Dispose();

    // .NET reports a held flock as a sharing violation with errno EWOULDBLOCK (11) as the HResult; anything else
    // (EROFS, ENOSPC, EIO) is an unusable directory, not another greyd, and must not be reported as one.
    private static bool IsHeld(IOException e) => e.HResult is 11 or unchecked((int)0x80070020);
}
