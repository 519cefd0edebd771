using System.Net;
using System.Net.Sockets;

namespace Greyd.Hosting.Server;

/// <summary>A bound listening socket: a unix socket path or a TCP address, as given by <c>--unix</c> or <c>--inet</c>.</summary>
public sealed class PolicyListener : IDisposable
{
    private PolicyListener(Socket socket, string name, string? unixPath)
    {
        Socket = socket;
        Name = name;
        UnixPath = unixPath;
    }

    public Socket Socket { get; }

    /// <summary>How the log names it: <c>unix:/path</c> or <c>inet:127.0.0.1:10023</c>.</summary>
    public string Name { get; }

    /// <summary>The socket file greyd created and removes on exit; null for TCP and for sockets passed by systemd.</summary>
    public string? UnixPath { get; }

    /// <summary>True when systemd passed this socket (socket activation).</summary>
    public bool IsInherited { get; private init; }

    /// <summary>Wraps a listening socket passed by systemd; its file belongs to systemd, not to greyd.</summary>
    public static PolicyListener Inherited(Socket socket)
    {
        string name = socket.LocalEndPoint switch
        {
            UnixDomainSocketEndPoint unix => "unix:" + unix,
            IPEndPoint ip => "inet:" + ip,
            var other => "socket:" + other,
        };
        return new PolicyListener(socket, name + " (from systemd)", null) { IsInherited = true };
    }

    /// <summary>True when this is a unix socket at <paramref name="path"/>, also when one path reaches it through a link.</summary>
    public bool IsUnixSocketAt(string path) =>
        Socket.LocalEndPoint is UnixDomainSocketEndPoint unix
        && string.Equals(Canonical(unix.ToString()), Canonical(path), StringComparison.Ordinal);

    /// <summary>True when this is a TCP socket on <paramref name="port"/>.</summary>
    public bool IsTcpOnPort(int port) => Socket.LocalEndPoint is IPEndPoint ip && ip.Port == port;

    /// <summary>The port of an <c>--inet=[HOST:]PORT</c> value, or 0 when it has none.</summary>
    public static int InetPort(string spec) =>
        int.TryParse(spec.AsSpan(spec.LastIndexOf(':') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) ? port : 0;

    private static string Canonical(string path) => Native.Libc.ResolvePath(path) ?? Path.GetFullPath(path);

    /// <summary>
    /// Binds a unix socket. An existing file is replaced only when nothing answers on it, so a second greyd
    /// never steals a live socket.
    /// </summary>
    public static PolicyListener BindUnix(string path, int mode, int backlog)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            if (Directory.Exists(path))
            {
                throw new IOException($"cannot listen on {path}: it is a directory");
            }

            using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                try
                {
                    probe.Connect(new UnixDomainSocketEndPoint(path));
                    throw new IOException($"cannot listen on {path}: another process is listening there");
                }
                catch (SocketException)
                {
                    // Nobody answers: a stale socket left by a crash.
                }
            }

            File.Delete(path);
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new IOException($"cannot listen on {path}: directory {directory} does not exist");
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, (UnixFileMode)mode);
            socket.Listen(backlog);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new IOException($"cannot listen on {path}: {e.Message}", e);
        }

        return new PolicyListener(socket, "unix:" + path, path);
    }

    /// <summary>Binds <c>[HOST:]PORT</c>; a bare port or <c>localhost</c> binds 127.0.0.1 and, where it exists, ::1.</summary>
    public static List<PolicyListener> BindInet(string spec, int backlog)
    {
        string host = "localhost";
        string portText = spec;
        int colon = spec.LastIndexOf(':');
        if (colon >= 0)
        {
            host = spec[..colon].Trim('[', ']');
            portText = spec[(colon + 1)..];
        }

        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new IOException($"--inet={spec}: not a port number");
        }

        IPAddress[] addresses = host is "localhost" or ""
            ? [IPAddress.Loopback, IPAddress.IPv6Loopback]
            : IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
        var listeners = new List<PolicyListener>();
        Exception? firstError = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = false;
                }

                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(backlog);
                listeners.Add(new PolicyListener(socket, $"inet:{new IPEndPoint(address, port)}", null));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                // localhost's ::1 may be missing where IPv6 is off; only a port nobody could bind is fatal.
                firstError ??= new IOException($"cannot listen on {address}:{port}: {e.Message}", e);
            }
        }

        if (listeners.Count == 0 || (firstError is not null && host is not ("localhost" or "")))
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            throw firstError ?? new IOException($"--inet={spec}: no address to listen on");
        }

        return listeners;
    }

    public void Dispose()
    {
        Socket.Dispose();
        if (UnixPath is not null)
        {
            try
            {
                File.Delete(UnixPath);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
