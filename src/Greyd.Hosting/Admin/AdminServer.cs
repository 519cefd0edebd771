using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;

namespace Greyd.Hosting.Admin;

/// <summary>
/// The admin socket behind <c>greyd list|explain|whitelist|delete|stats|report|import-postgrey</c>: a unix socket
/// (mode 0660, the admin group) taking one JSON object per line and answering one per line. It runs beside the
/// policy sockets and shares nothing with them but the store, so a stuck admin client never holds up mail.
/// </summary>
public sealed class AdminServer : IDisposable
{
    /// <summary>Where greyd listens unless told otherwise; systemd makes /run/greyd (RuntimeDirectory).</summary>
    public const string DefaultPath = "/run/greyd/admin.sock";

    /// <summary>Large enough for a batch of imported records, small enough that a client cannot exhaust memory.</summary>
    public const int MaxRequestBytes = 8 << 20;

    private const int MaxConnections = 8;
    private static readonly TimeSpan s_idleTimeout = TimeSpan.FromMinutes(2);

    private readonly PolicyListener _listener;
    private readonly uint _adminGid;
    private readonly GreydLog _log;
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private Dictionary<string, IAdminCommand> _commands = new(StringComparer.Ordinal);

    private AdminServer(PolicyListener listener, uint adminGid, GreydLog log)
    {
        _listener = listener;
        _adminGid = adminGid;
        _log = log;
    }

    public string Path => _listener.UnixPath!;

    /// <summary>
    /// Binds the socket (before privileges are dropped): mode 0660, owned by <paramref name="ownerUid"/> and the admin
    /// group. A missing directory is made 0750 with the same owners, as systemd's RuntimeDirectory would be.
    /// </summary>
    public static AdminServer Bind(string path, uint ownerUid, uint adminGid, GreydLog log)
    {
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            Chown(directory, ownerUid, adminGid);
        }

        var listener = PolicyListener.BindUnix(path, Convert.ToInt32("660", 8), 16);
        try
        {
            Chown(path, ownerUid, adminGid);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new AdminServer(listener, adminGid, log);
    }

    /// <summary>The commands to serve; set once the store is open (the socket is bound before that).</summary>
    public void SetCommands(IEnumerable<IAdminCommand> commands) =>
        _commands = commands.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>Accepts admin connections until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var connections = new List<Task>();
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.Socket.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                _log.Write(LogPriority.Warning, $"admin socket: accept failed: {e.Message}");
                await Task.Delay(100, stop).ConfigureAwait(false);
                continue;
            }

            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(ServeAsync(client, stop));
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    // The slots stay: connections still being answered release theirs after the listener has closed.
    public void Dispose() => _listener.Dispose();

    private async Task ServeAsync(Socket client, CancellationToken stop)
    {
        await Task.Yield();
        using var socket = client;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        if (!await _slots.WaitAsync(0, stop).ConfigureAwait(false))
        {
            await RefuseAsync(socket, stream, $"busy: {MaxConnections} admin connections are open already", stop).ConfigureAwait(false);
            return;
        }

        try
        {
            var peer = AdminPeer.Of(socket);
            if (!peer.MayAdminister(_adminGid))
            {
                _log.Write(LogPriority.Warning, $"admin socket: refused uid {peer.Uid} (pid {peer.Pid}): not root and not in the admin group");
                await RefuseAsync(socket, stream, "permission denied: run as root or as a member of greyd's admin group", stop).ConfigureAwait(false);
                return;
            }

            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, leaveOpen: true));
            while (await ReadLineAsync(reader, stop).ConfigureAwait(false) is { } line)
            {
                byte[] answer = await AnswerAsync(line, peer, stop).ConfigureAwait(false);
                await WriteAsync(stream, answer, stop).ConfigureAwait(false);
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The client went away or sent too much; nothing else is affected.
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<byte[]> AnswerAsync(byte[] line, AdminPeer peer, CancellationToken stop)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return Refusal("the request is not JSON");
        }

        using (document)
        {
            var request = document.RootElement;
            if (request.ValueKind != JsonValueKind.Object
                || !request.TryGetProperty("command", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return Refusal("the request has no \"command\"");
            }

            string command = name.GetString()!;
            if (!_commands.TryGetValue(command, out var handler))
            {
                return Refusal(_commands.Count == 0 ? "greyd is still starting" : "unknown command: " + command);
            }

            _log.Write(LogPriority.Info, $"admin: {command} by uid {peer.Uid}");
            var buffer = new ArrayBufferWriter<byte>();
            try
            {
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    writer.WriteBoolean("ok", true);
                    await handler.ExecuteAsync(request, writer, stop).ConfigureAwait(false);
                    writer.WriteEndObject();
                }

                buffer.Write("\n"u8);
                return buffer.WrittenSpan.ToArray();
            }
            catch (AdminException e)
            {
                return Refusal(e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.Write(LogPriority.Error, $"admin: {command} failed: {e.GetType().Name}: {e.Message}");
                return Refusal($"internal error: {e.Message}");
            }
        }
    }

    // Closing with the request unread would reset the connection, and the client could lose the refusal with it:
    // say why, stop sending, and read what the client sent (bounded) until it closes.
    private static async Task RefuseAsync(Socket socket, NetworkStream stream, string message, CancellationToken stop)
    {
        try
        {
            await WriteAsync(stream, Refusal(message), stop).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var buffer = new byte[4096];
            for (int total = 0; total < MaxRequestBytes;)
            {
                int n = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static byte[] Refusal(string message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", false);
            writer.WriteString("error", message);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task WriteAsync(NetworkStream stream, byte[] data, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(s_idleTimeout);
        await stream.WriteAsync(data, timeout.Token).ConfigureAwait(false);
    }

    // One request per line; a line over MaxRequestBytes, or no line for the idle timeout, ends the connection.
    private static async Task<byte[]?> ReadLineAsync(PipeReader reader, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(s_idleTimeout);
        while (true)
        {
            var result = await reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } end)
            {
                byte[] line = buffer.Slice(0, end).ToArray();
                reader.AdvanceTo(buffer.GetPosition(1, end));
                return line;
            }

            if (buffer.Length > MaxRequestBytes)
            {
                throw new InvalidDataException("admin request too long");
            }

            if (result.IsCompleted)
            {
                return null;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static void Chown(string path, uint uid, uint gid)
    {
        if (Native.Libc.LChown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot give {path} to group {gid}: {System.Runtime.InteropServices.Marshal.GetLastPInvokeErrorMessage()}");
        }
    }
}
