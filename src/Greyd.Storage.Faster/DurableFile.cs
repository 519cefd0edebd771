namespace Greyd.Storage.Faster;

/// <summary>Whole-file writes that a crash leaves either old or new, never torn: temp file (0600), fsync, rename, fsync of the directory.</summary>
public static class DurableFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>; its directory must exist.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        Native.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }
}
