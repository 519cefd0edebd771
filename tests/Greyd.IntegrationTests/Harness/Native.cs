using System.Runtime.InteropServices;

namespace Greyd.IntegrationTests.Harness;

/// <summary>The few libc calls the harness needs: signals to one pid, and chown.</summary>
public static partial class Native
{
    public const int SIGHUP = 1;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChownNative(string path, int uid, int gid);

    /// <summary>Sends <paramref name="signal"/> to exactly this pid; false if the process no longer exists.</summary>
    public static bool Signal(int pid, int signal) => KillNative(pid, signal) == 0;

    public static void Chown(string path, int uid, int gid)
    {
        if (ChownNative(path, uid, gid) != 0)
        {
            throw new IOException($"chown {path} {uid}:{gid} failed, errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
