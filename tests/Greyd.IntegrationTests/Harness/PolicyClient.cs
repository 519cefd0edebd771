using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

public enum ReplyKind
{
    Reply,
    Eof,
    Timeout,
}

/// <summary>What one read of a reply produced: a reply line, an end of stream, or nothing in time.</summary>
public readonly record struct ReplyResult(ReplyKind Kind, string Text)
{
    public override string ToString() => Kind switch
    {
        ReplyKind.Reply => $"reply '{GreydProcess.Visible(Text)}'",
        ReplyKind.Eof => Text.Length == 0 ? "EOF" : $"EOF after the partial reply '{GreydProcess.Visible(Text)}'",
        _ => Text.Length == 0 ? "no reply (timeout)" : $"timeout after the partial reply '{GreydProcess.Visible(Text)}'",
    };
}

/// <summary>A Postfix-like policy client over a unix or TCP socket. Keeps bytes after a reply for the next one.</summary>
public sealed class PolicyClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly List<byte> _pending = [];
    private bool _eof;

    private PolicyClient(Socket socket, string endpoint)
    {
        _socket = socket;
        _socket.SendTimeout = 15000; // a server that stops reading must not hang the test for ever
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public Socket Socket => _socket;

    public static PolicyClient ConnectUnix(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new PolicyClient(socket, "unix:" + path);
    }

    public static async Task<PolicyClient> ConnectUnixAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new PolicyClient(socket, "unix:" + path);
    }

    public static PolicyClient ConnectTcp(int port, string host = "127.0.0.1")
    {
        var address = IPAddress.Parse(host);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(new IPEndPoint(address, port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new PolicyClient(socket, $"tcp:{host}:{port}");
    }

    public void Send(string text) => Send(Encoding.UTF8.GetBytes(text));

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void Send(PolicyRequest request) => Send(request.ToBytes());

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes).ConfigureAwait(false);

    /// <summary>Sends bytes and ignores a reset or broken pipe (the server may close while we still write).</summary>
    public bool TrySend(byte[] bytes)
    {
        try
        {
            _socket.Send(bytes);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends a request and reads its one reply line (without the trailing empty line).</summary>
    public string Ask(PolicyRequest request, TimeSpan? timeout = null)
    {
        Send(request);
        return ReadReply(timeout);
    }

    public async Task<string> AskAsync(PolicyRequest request, TimeSpan? timeout = null)
    {
        await SendAsync(request.ToBytes()).ConfigureAwait(false);
        return await ReadReplyAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Reads exactly one reply; fails the test on EOF or timeout.</summary>
    public string ReadReply(TimeSpan? timeout = null) => Expect(TryReadReply(timeout ?? DefaultTimeout));

    public async Task<string> ReadReplyAsync(TimeSpan? timeout = null) =>
        Expect(await TryReadReplyAsync(timeout ?? DefaultTimeout).ConfigureAwait(false));

    private string Expect(ReplyResult result)
    {
        if (result.Kind != ReplyKind.Reply)
        {
            Assert.Fail($"Expected a policy reply on {Endpoint}, got {result}.");
        }

        return result.Text;
    }

    /// <summary>Reads one reply ("...\n\n"), or reports EOF or a timeout. The socket stays usable after a timeout.</summary>
    public ReplyResult TryReadReply(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var buffer = new byte[4096];
        while (true)
        {
            if (TryTakeReply(out var reply))
            {
                return reply;
            }

            if (_eof)
            {
                return new ReplyResult(ReplyKind.Eof, PendingText());
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_socket.Poll(ToMicroseconds(left), SelectMode.SelectRead))
            {
                return new ReplyResult(ReplyKind.Timeout, PendingText());
            }

            ReceiveInto(buffer);
        }
    }

    public Task<ReplyResult> TryReadReplyAsync(TimeSpan timeout) => Task.Run(() => TryReadReply(timeout));

    /// <summary>True if the server closes the connection within <paramref name="timeout"/>; fails if it sends data.</summary>
    public bool WaitForEof(TimeSpan timeout)
    {
        var result = TryReadReply(timeout);
        if (result.Kind == ReplyKind.Reply || result.Text.Length > 0)
        {
            Assert.Fail($"Expected {Endpoint} to be closed without a reply, got {result}.");
        }

        return result.Kind == ReplyKind.Eof;
    }

    /// <summary>Closes with a TCP/unix reset-style abort (no graceful shutdown).</summary>
    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        _socket.Close();
    }

    private void ReceiveInto(byte[] buffer)
    {
        try
        {
            int n = _socket.Receive(buffer);
            if (n == 0)
            {
                _eof = true;
            }
            else
            {
                _pending.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            _eof = true;
        }
    }

    private bool TryTakeReply(out ReplyResult reply)
    {
        for (int i = 0; i + 1 < _pending.Count; i++)
        {
            if (_pending[i] == (byte)'\n' && _pending[i + 1] == (byte)'\n')
            {
                string text = Encoding.UTF8.GetString(_pending.GetRange(0, i).ToArray());
                _pending.RemoveRange(0, i + 2);
                if (!text.StartsWith("action=", StringComparison.Ordinal) || text.Contains('\n', StringComparison.Ordinal) ||
                    text.Contains('\r', StringComparison.Ordinal) || text.Length <= "action=".Length)
                {
                    Assert.Fail($"Malformed policy reply on {Endpoint}: '{GreydProcess.Visible(text)}' (must be exactly 'action=<non-empty>\\n\\n').");
                }

                reply = new ReplyResult(ReplyKind.Reply, text);
                return true;
            }
        }

        reply = default;
        return false;
    }

    private string PendingText() => Encoding.UTF8.GetString(_pending.ToArray());

    private static int ToMicroseconds(TimeSpan span) => (int)Math.Min(int.MaxValue, Math.Max(1, span.TotalMilliseconds * 1000));

    public void Dispose() => _socket.Dispose();
}
