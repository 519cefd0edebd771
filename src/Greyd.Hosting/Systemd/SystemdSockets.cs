using System.Globalization;
using System.Net.Sockets;

namespace Greyd.Hosting.Systemd;

/// <summary>
/// The listening sockets systemd passes with socket activation (sd_listen_fds(3)): descriptors 3 and up, when
/// <c>$LISTEN_PID</c> is this process and <c>$LISTEN_FDS</c> says how many.
/// </summary>
public static class SystemdSockets
{
    private const int FirstDescriptor = 3;

    /// <summary>True when systemd passed at least one socket to this process.</summary>
    public static bool ArePassed => Count() > 0;

    /// <summary>Takes the passed sockets (once) and clears the variables, so child processes do not see them.</summary>
    public static List<Socket> Take()
    {
        int count = Count();
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            sockets.Add(new Socket(new SafeSocketHandle(FirstDescriptor + i, ownsHandle: true)));
        }

        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        return sockets;
    }

    private static int Count()
    {
        string? pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        string? fds = Environment.GetEnvironmentVariable("LISTEN_FDS");
        return pid is not null && fds is not null
            && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p == Environment.ProcessId
            && int.TryParse(fds, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : 0;
    }
}
