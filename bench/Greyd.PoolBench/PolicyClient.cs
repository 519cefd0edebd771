using System.Net.Sockets;
using System.Text;

namespace Greyd.PoolBench;

/// <summary>One Postfix-style policy connection over a unix socket: a request out, one reply line back.</summary>
internal sealed class PolicyClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[4096];

    private PolicyClient(Socket socket) => _socket = socket;

    public static PolicyClient Connect(string path, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                return new PolicyClient(socket);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>Sends the attributes and returns the reply's action line (without "action=").</summary>
    public string Ask(IEnumerable<(string Name, string Value)> attributes)
    {
        var text = new StringBuilder("request=smtpd_access_policy\n");
        foreach (var (name, value) in attributes)
        {
            text.Append(name).Append('=').Append(value).Append('\n');
        }

        _socket.Send(Encoding.UTF8.GetBytes(text.Append('\n').ToString()));
        var reply = new StringBuilder();
        while (!reply.ToString().EndsWith("\n\n", StringComparison.Ordinal))
        {
            int n = _socket.Receive(_buffer);
            if (n == 0)
            {
                throw new IOException("greyd closed the connection");
            }

            reply.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }

        string line = reply.ToString().TrimEnd('\n');
        return line.StartsWith("action=", StringComparison.Ordinal) ? line["action=".Length..] : line;
    }

    public void Dispose() => _socket.Dispose();
}
