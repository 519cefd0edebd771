using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Greyd.Load;

/// <summary>
/// One client connection, as one Postfix smtpd process uses it: sends a request, waits for the whole reply, sends
/// the next. Runs on its own thread with a blocking socket, so the generator adds no scheduling of its own.
/// </summary>
internal sealed class LoadWorker
{
    private readonly LoadOptions _options;
    private readonly int _index;
    private readonly RequestWriter _writer;
    private readonly Random _random;
    private readonly byte[] _reply = new byte[4096];
    private Socket? _socket;
    private long _fresh;
    private long _message;

    public LoadWorker(LoadOptions options, int index)
    {
        _options = options;
        _index = index;
        _writer = new RequestWriter(options.Seed, index);
        _random = new Random(unchecked((int)(options.Seed * 31) + index));
    }

    public LatencyHistogram Latency { get; } = new();

    public long Dunno { get; private set; }

    public long Prepend { get; private set; }

    public long Other { get; private set; }

    /// <summary>Why the connection stopped early, or null.</summary>
    public string? Failure { get; private set; }

    /// <summary>When the last measured reply arrived (Stopwatch ticks).</summary>
    public long LastReply { get; private set; }

    public static Socket Connect(LoadOptions options)
    {
        Socket socket;
        if (options.UnixPath is not null)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(options.UnixPath));
        }
        else
        {
            var address = IPAddress.TryParse(options.InetHost, out var ip) ? ip : Dns.GetHostAddresses(options.InetHost!)[0];
            socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Connect(new IPEndPoint(address, options.InetPort));
        }

        socket.ReceiveTimeout = 30_000;
        socket.SendTimeout = 30_000;
        return socket;
    }

    public void Open()
    {
        _socket = Connect(_options);
        _socket.Blocking = !_options.Spin;
    }

    /// <summary>Sends until <paramref name="end"/> or the request limit; replies after <paramref name="measureFrom"/> are measured.</summary>
    public void Run(long measureFrom, long end)
    {
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        _fresh = _options.Known;
        try
        {
            while (_message < _options.RequestsPerConnection)
            {
                int requestLength = NextRequest();
                long started = Stopwatch.GetTimestamp();
                if (started >= end)
                {
                    break;
                }

                SendAll(socket, _writer.Buffer.Span[..requestLength]);
                Done(started, ReadReply(socket), measureFrom, end);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            Failure = $"connection {_index}: {e.Message}";
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>
    /// As <see cref="Run"/>, but awaiting the socket, so that a few event threads drive every connection
    /// (<c>--threads</c>) and the generator spends less of the machine than one thread per connection.
    /// </summary>
    public async Task RunAsync(long measureFrom, long end)
    {
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        _fresh = _options.Known;
        try
        {
            while (_message < _options.RequestsPerConnection)
            {
                int length = NextRequest();
                long started = Stopwatch.GetTimestamp();
                if (started >= end)
                {
                    break;
                }

                var request = _writer.Buffer[..length];
                while (!request.IsEmpty)
                {
                    request = request[await socket.SendAsync(request, SocketFlags.None).ConfigureAwait(false)..];
                }

                int received = 0;
                while (received < 2 || _reply[received - 1] != '\n' || _reply[received - 2] != '\n')
                {
                    if (received == _reply.Length)
                    {
                        throw new InvalidDataException("reply longer than 4096 bytes");
                    }

                    int n = await socket.ReceiveAsync(_reply.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new InvalidDataException(received == 0 ? "server closed the connection" : "server closed the connection in the middle of a reply");
                    }

                    received += n;
                }

                Done(started, received, measureFrom, end);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            Failure = $"connection {_index}: {e.Message}";
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>Sends one request and reads its reply: true when the server answered with an action line.</summary>
    public static bool Probe(LoadOptions options)
    {
        using var socket = Connect(options);
        var worker = new LoadWorker(options, -1);
        // A triplet id no worker reaches, so the probe does not turn a measured miss into a hit.
        SendAll(socket, worker._writer.Write(long.MaxValue / 2, 0));
        int length = worker.ReadReply(socket);
        return worker._reply.AsSpan(0, length).StartsWith("action="u8);
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = socket.Send(data, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                socket.Poll(-1, SelectMode.SelectWrite);
                continue;
            }

            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            data = data[sent..];
        }
    }

    private int ReadReply(Socket socket)
    {
        int length = 0;
        while (true)
        {
            if (length == _reply.Length)
            {
                throw new InvalidDataException("reply longer than 4096 bytes");
            }

            int n = _options.Spin ? SpinReceive(socket, _reply.AsSpan(length)) : socket.Receive(_reply.AsSpan(length));
            if (n == 0)
            {
                throw new InvalidDataException(length == 0 ? "server closed the connection" : "server closed the connection in the middle of a reply");
            }

            length += n;
            if (length >= 2 && _reply[length - 1] == '\n' && _reply[length - 2] == '\n')
            {
                return length;
            }
        }
    }

    // Polls a non-blocking socket instead of sleeping in recv, for up to 10 ms, so that the reply does not have to
    // wake this thread: the round trip then measures the server and not the wake-up of the client.
    private static int SpinReceive(Socket socket, Span<byte> buffer)
    {
        long giveUp = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100);
        while (true)
        {
            int n = socket.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
            {
                return n;
            }

            if (error != SocketError.WouldBlock)
            {
                throw new SocketException((int)error);
            }

            if (Stopwatch.GetTimestamp() > giveUp)
            {
                socket.Poll(-1, SelectMode.SelectRead);
                giveUp = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100);
            }
        }
    }

    // The next request: a repeat of an earlier triplet of this connection, or a new one. Triplet ids interleave across
    // connections so that every id below the highest is used once.
    private int NextRequest()
    {
        long pick = _fresh > 0 && _random.NextDouble() < _options.Repeat ? _random.NextInt64(_fresh) : _fresh++;
        return _writer.Write((pick * _options.Connections) + _index, _message++).Length;
    }

    // Records a reply of `length` bytes to a request sent at `started`, when it falls inside the measured time.
    private void Done(long started, int length, long measureFrom, long end)
    {
        long done = Stopwatch.GetTimestamp();
        if (started >= measureFrom && done <= end)
        {
            Latency.Record((long)((done - started) * (1e9 / Stopwatch.Frequency)));
            LastReply = done;
            Classify(_reply.AsSpan(0, length));
        }
    }

    private void Classify(ReadOnlySpan<byte> reply)
    {
        if (!reply.StartsWith("action="u8))
        {
            throw new InvalidDataException("reply is not an action line");
        }

        if (reply.StartsWith("action=DUNNO\n"u8))
        {
            Dunno++;
        }
        else if (reply.StartsWith("action=PREPEND "u8))
        {
            Prepend++;
        }
        else
        {
            Other++;
        }
    }
}
