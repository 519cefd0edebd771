using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>One datagram that arrived on a <see cref="FakeNotifySocket"/>, with when it arrived (test stopwatch).</summary>
public readonly record struct Notification(string Text, TimeSpan At);

/// <summary>
/// Plays systemd's side of sd_notify(3): a unix datagram socket the test binds, either at a path or in the abstract
/// namespace, whose <see cref="EnvironmentValue"/> goes into the daemon's <c>$NOTIFY_SOCKET</c>.
/// </summary>
public sealed class FakeNotifySocket : IDisposable
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private readonly Socket _socket;
    private readonly List<Notification> _received = [];

    private FakeNotifySocket(Socket socket, string environmentValue)
    {
        _socket = socket;
        EnvironmentValue = environmentValue;
    }

    /// <summary>What <c>$NOTIFY_SOCKET</c> must say: the path, or <c>@name</c> for the abstract namespace.</summary>
    public string EnvironmentValue { get; }

    /// <summary>Every datagram received so far.</summary>
    public IReadOnlyList<Notification> Received => _received.ToList();

    public static TimeSpan Now => Clock.Elapsed;

    /// <summary>Binds a datagram socket at <paramref name="path"/>.</summary>
    public static FakeNotifySocket AtPath(string path) => Bind(new UnixDomainSocketEndPoint(path), path);

    /// <summary>Binds a datagram socket in the abstract namespace under a fresh name; the variable says <c>@name</c>.</summary>
    public static FakeNotifySocket Abstract()
    {
        string name = $"greyd-it-notify-{Environment.ProcessId}-{Guid.NewGuid():N}";
        return Bind(new UnixDomainSocketEndPoint("\0" + name), "@" + name);
    }

    private static FakeNotifySocket Bind(UnixDomainSocketEndPoint endPoint, string environmentValue)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Bind(endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new FakeNotifySocket(socket, environmentValue);
    }

    /// <summary>The next datagram, or null when none arrives within <paramref name="timeout"/>.</summary>
    public Notification? TryReceive(TimeSpan timeout)
    {
        long micro = (long)Math.Max(1, timeout.TotalMilliseconds * 1000);
        if (!_socket.Poll((int)Math.Min(int.MaxValue, micro), SelectMode.SelectRead))
        {
            return null;
        }

        var buffer = new byte[4096];
        int n = _socket.Receive(buffer);
        var notification = new Notification(Encoding.UTF8.GetString(buffer, 0, n), Clock.Elapsed);
        _received.Add(notification);
        return notification;
    }

    /// <summary>The next datagram; fails the test (with the daemon's log) when none arrives in time.</summary>
    public Notification Receive(TimeSpan timeout, string what, GreydProcess? process = null)
    {
        var notification = TryReceive(timeout);
        if (notification is null)
        {
            string received = _received.Count == 0 ? "nothing" : string.Join(", ", _received.Select(r => $"'{GreydProcess.Visible(r.Text)}'"));
            Assert.Fail($"No datagram arrived on NOTIFY_SOCKET={EnvironmentValue} within {timeout.TotalSeconds:0.#} s while waiting for {what} " +
                $"(received so far: {received}).\n{process?.Describe()}");
        }

        return notification.Value;
    }

    public void Dispose() => _socket.Dispose();
}
