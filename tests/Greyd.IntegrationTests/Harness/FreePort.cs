using System.Net;
using System.Net.Sockets;

namespace Greyd.IntegrationTests.Harness;

/// <summary>Random TCP ports in 20000-60000 that are free right now (never postgrey's 10023).</summary>
public static class FreePort
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Handed = [];

    public static int Pick()
    {
        lock (Gate)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                int port = Random.Shared.Next(20000, 60000);
                if (Handed.Contains(port))
                {
                    continue;
                }

                try
                {
                    using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                    Handed.Add(port);
                    return port;
                }
                catch (SocketException)
                {
                }
            }
        }

        throw new InvalidOperationException("no free TCP port found in 20000-60000");
    }
}
