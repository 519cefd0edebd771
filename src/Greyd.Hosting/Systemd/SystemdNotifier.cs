using System.Net.Sockets;
using System.Text;

namespace Greyd.Hosting.Systemd;

/// <summary>
/// Tells systemd about the service's state through <c>$NOTIFY_SOCKET</c> (sd_notify(3)): <c>READY=1</c> once the
/// listeners are bound and the store is recovered, <c>STOPPING=1</c> when shutdown begins. Without systemd it does
/// nothing.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;

    public SystemdNotifier(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket) || (notifySocket[0] != '/' && notifySocket[0] != '@'))
        {
            return;
        }

        // A leading '@' names a socket in the abstract namespace.
        _endPoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public bool IsEnabled => _socket is not null;

    /// <summary>Sends one notification such as <c>READY=1</c>; returns false when it could not be delivered.</summary>
    public bool Notify(string state)
    {
        if (_socket is null || _endPoint is null)
        {
            return false;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket?.Dispose();
}
