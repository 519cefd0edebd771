using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Greyd.Hosting.Metrics;

/// <summary>
/// <c>--metrics</c>: a minimal HTTP/1.x server that answers <c>GET /metrics</c> and nothing else. It only reads
/// counters, serves a few connections at once, caps the request size and closes every connection after one answer or
/// <see cref="ConnectionTimeout"/>, so a slow or hostile scraper costs greyd's policy answers nothing.
/// </summary>
public sealed class MetricsListener : IDisposable
{
    public const int MaxRequestBytes = 8192;

    public const int MaxConnections = 4;

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(5);

    // After answering, unread request bytes are drained this long so that closing does not reset the answer away.
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];

    private MetricsListener(Socket socket, IPEndPoint endpoint)
    {
        _socket = socket;
        Name = $"http://{endpoint}/metrics";
    }

    /// <summary>The scrape address, as the log names it.</summary>
    public string Name { get; }

    /// <summary>Binds now, before privileges are dropped; a port in use is a fatal start-up error.</summary>
    public static MetricsListener Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endpoint);
            socket.Listen(MaxConnections * 4);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot listen on {endpoint} for --metrics: {e.Message}", e);
        }

        return new MetricsListener(socket, endpoint);
    }

    /// <summary>Serves until <paramref name="shutdown"/> fires or the listener is disposed, then waits briefly for open scrapes.</summary>
    public async Task RunAsync(Func<string> render, CancellationToken shutdown)
    {
        while (!shutdown.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(shutdown).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Shutdown or SocketError.NotSocket)
            {
                break;
            }
            catch (SocketException)
            {
                // Out of descriptors: the policy listener logs that; pause instead of spinning.
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            Track(client, render, shutdown);
        }

        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }

        await Task.WhenAny(Task.WhenAll(open), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
    }

    public void Dispose() => _socket.Dispose();

    private void Track(Socket client, Func<string> render, CancellationToken shutdown)
    {
        lock (_gate)
        {
            if (_connections.Count >= MaxConnections)
            {
                client.Dispose();
                return;
            }

            var connection = Task.Run(() => ServeAsync(client, render, shutdown), CancellationToken.None);
            _connections.Add(connection);
            connection.ContinueWith(
                t =>
                {
                    lock (_gate)
                    {
                        _connections.Remove(t);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private static async Task ServeAsync(Socket client, Func<string> render, CancellationToken shutdown)
    {
        using var socket = client;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        deadline.CancelAfter(ConnectionTimeout);
        try
        {
            var buffer = new byte[MaxRequestBytes];
            int end = await ReadHeadAsync(socket, buffer, deadline.Token).ConfigureAwait(false);
            if (end == 0)
            {
                return;
            }

            string status = end < 0 ? "431 Request Header Fields Too Large" : Route(buffer.AsSpan(0, end));
            if (status.Length == 0)
            {
                string body;
                try
                {
                    body = render();
                }
                catch (Exception)
                {
                    body = "";
                    status = "500 Internal Server Error";
                }

                if (status.Length == 0)
                {
                    await AnswerAsync(socket, "200 OK", ContentType, Encoding.UTF8.GetBytes(body), deadline.Token).ConfigureAwait(false);
                }
            }

            if (status.Length > 0)
            {
                await AnswerAsync(socket, status, deadline.Token).ConfigureAwait(false);
            }

            await LingerAsync(socket, buffer, shutdown).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Too slow, gone, or greyd is stopping: the connection just closes, whatever the client did.
        }
    }

    /// <summary>The request head's length up to its empty line; 0 when the client closed first, -1 when it is too long.</summary>
    private static async Task<int> ReadHeadAsync(Socket socket, byte[] buffer, CancellationToken token)
    {
        int length = 0;
        int end;
        while ((end = HeaderEnd(buffer.AsSpan(0, length))) < 0)
        {
            if (length == buffer.Length)
            {
                return -1;
            }

            int read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, token).ConfigureAwait(false);
            if (read == 0)
            {
                return 0;
            }

            length += read;
        }

        return end;
    }

    /// <summary>Empty for a scrape, else the status line's code and phrase.</summary>
    private static string Route(ReadOnlySpan<byte> head)
    {
        int eol = head.IndexOf((byte)'\n');
        var line = head[..(eol < 0 ? head.Length : eol)].TrimEnd((byte)'\r');
        int first = line.IndexOf((byte)' ');
        int last = line.LastIndexOf((byte)' ');
        if (first <= 0 || last <= first || !line[(last + 1)..].StartsWith("HTTP/1."u8))
        {
            return "400 Bad Request";
        }

        var method = line[..first];
        var target = line[(first + 1)..last];
        int query = target.IndexOf((byte)'?');
        if (!(query < 0 ? target : target[..query]).SequenceEqual("/metrics"u8))
        {
            return "404 Not Found";
        }

        return method.SequenceEqual("GET"u8) ? "" : "405 Method Not Allowed";
    }

    /// <summary>The request head's length through its empty line (CRLF or bare LF), or -1 while it is incomplete.</summary>
    private static int HeaderEnd(ReadOnlySpan<byte> received)
    {
        int crlf = received.IndexOf("\r\n\r\n"u8);
        int lf = received.IndexOf("\n\n"u8);
        return crlf < 0 && lf < 0 ? -1 : crlf < 0 ? lf + 2 : lf < 0 ? crlf + 4 : Math.Min(crlf + 4, lf + 2);
    }

    private static Task AnswerAsync(Socket socket, string status, CancellationToken token) =>
        AnswerAsync(socket, status, "text/plain; charset=utf-8", Encoding.ASCII.GetBytes(status[4..] + "\n"), token);

    private static async Task AnswerAsync(Socket socket, string status, string contentType, byte[] body, CancellationToken token)
    {
        string allow = status.StartsWith("405", StringComparison.Ordinal) ? "Allow: GET\r\n" : "";
        byte[] head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{allow}Connection: close\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None, token).ConfigureAwait(false);
        await socket.SendAsync(body, SocketFlags.None, token).ConfigureAwait(false);
    }

    private static async Task LingerAsync(Socket socket, byte[] buffer, CancellationToken shutdown)
    {
        socket.Shutdown(SocketShutdown.Send);
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        linger.CancelAfter(Linger);
        for (int drained = 0; drained < 16 * MaxRequestBytes;)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, linger.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            drained += read;
        }
    }
}
