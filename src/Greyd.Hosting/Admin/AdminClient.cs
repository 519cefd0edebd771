using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;

namespace Greyd.Hosting.Admin;

/// <summary>The command-line side of the admin socket: one connection, one JSON request and answer at a time.</summary>
public sealed class AdminClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;

    private AdminClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
    }

    /// <summary>Connects, or throws <see cref="AdminException"/> saying why greyd cannot be reached.</summary>
    public static async Task<AdminClient> ConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new AdminClient(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new AdminException(e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(path) => NotRunning(path),
                SocketError.ConnectionRefused => $"greyd is not running (nothing listens on {path})",
                SocketError.AccessDenied => $"permission denied on {path}: run as root or as a member of greyd's admin group",
                _ when !File.Exists(path) => NotRunning(path),
                _ => $"cannot reach greyd on {path}: {e.Message}",
            }, e);
        }
    }

    /// <summary>Sends one request (<paramref name="write"/> adds the fields after "command") and returns the answer; a refusal throws.</summary>
    public async Task<JsonDocument> RequestAsync(string command, Action<Utf8JsonWriter> write, CancellationToken cancellationToken = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("command", command);
            write(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        try
        {
            await _stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var data = result.Buffer;
                if (data.PositionOf((byte)'\n') is { } end)
                {
                    var document = JsonDocument.Parse(data.Slice(0, end));
                    _reader.AdvanceTo(data.GetPosition(1, end));
                    var root = document.RootElement;
                    if (root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                    {
                        return document;
                    }

                    string error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "greyd refused the request";
                    document.Dispose();
                    throw new AdminException(error);
                }

                if (result.IsCompleted)
                {
                    throw new AdminException("greyd closed the admin connection without an answer");
                }

                _reader.AdvanceTo(data.Start, data.End);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or JsonException)
        {
            throw new AdminException($"lost the admin connection to greyd: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    private static string NotRunning(string path) =>
        $"greyd is not running, or its admin socket is not {path} (see --admin-socket)";
}
