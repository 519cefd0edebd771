namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A size-limited tmpfs mounted on a test's own directory (never a system mount), unmounted on Dispose. Needs root
/// (mount(8)); the store fault tests run as root in CI. Read-only is a remount, which the kernel refuses while a file
/// on it is open for writing, so it is applied only while greyd is stopped.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(20);

    public TmpfsMount(string path, string size)
    {
        Path = path;
        Directory.CreateDirectory(path);
        ExternalTool.RunChecked("/bin/mount", ["-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", path], ToolTimeout, "mount a tmpfs for the store (needs root)");
    }

    public string Path { get; }

    public void ReadOnly() =>
        ExternalTool.RunChecked("/bin/mount", ["-o", "remount,ro", Path], ToolTimeout, "remount the store tmpfs read-only");

    public void ReadWrite() =>
        ExternalTool.RunChecked("/bin/mount", ["-o", "remount,rw", Path], ToolTimeout, "remount the store tmpfs read-write");

    /// <summary>Fills the file system with DIR/filler until ENOSPC; returns the filler's path.</summary>
    public string Fill()
    {
        string filler = System.IO.Path.Combine(Path, "filler");
        var block = new byte[64 << 10];
        using var file = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true)
            {
                file.Write(block);
            }
        }
        catch (IOException)
        {
        }

        // Fill the last partial block too, so even a 48-byte journal record finds no room.
        var small = new byte[512];
        for (int i = 0; i < 256; i++)
        {
            try
            {
                file.Write(small);
            }
            catch (IOException)
            {
                break;
            }
        }

        return filler;
    }

    public void Dispose()
    {
        var result = ExternalTool.Run("/bin/umount", [Path], ToolTimeout);
        if (result.ExitCode != 0)
        {
            // Still busy (a greyd that did not exit): detach it so the test machine keeps no stray mount.
            ExternalTool.Run("/bin/umount", ["-l", Path], ToolTimeout);
        }
    }
}
