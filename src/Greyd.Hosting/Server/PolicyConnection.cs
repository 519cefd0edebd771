using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Greyd.Hosting.Logging;
using Greyd.Protocol;

namespace Greyd.Hosting.Server;

/// <summary>
/// One client connection: reads requests through a pipe, answers each in order with exactly one reply, keeps
/// the connection open between requests (Postfix reuses it) unless <c>--exim</c> asks to close after each answer.
/// </summary>
public sealed class PolicyConnection
{
    private readonly Socket _socket;
    private readonly PolicyService _service;
    private readonly GreydLog _log;
    private readonly bool _exim;
    private readonly TimeSpan _idleTimeout;
    private readonly PolicyRequest _request = new();
    private readonly PolicyScratch _scratch = new();

    public PolicyConnection(Socket socket, PolicyService service, GreydLog log, bool exim, TimeSpan idleTimeout)
    {
        _socket = socket;
        _service = service;
        _log = log;
        _exim = exim;
        _idleTimeout = idleTimeout;
    }

    public async Task RunAsync(CancellationToken shutdown)
    {
        // Reads stop on shutdown or idleness; writes only on idleness, so an answer already decided is still sent.
        using var idle = new CancellationTokenSource();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(shutdown, idle.Token);
        await using var stream = new NetworkStream(_socket, ownsSocket: true);
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 1024, leaveOpen: true));
        try
        {
            await ServeAsync(input, output, idle, reading.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Idle timeout or shutdown: closing is the answer.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _log.Write(LogPriority.Debug, "connection ended: " + e.Message);
        }
        catch (Exception e)
        {
            // A fault in one connection closes it and nothing else.
            _log.Write(LogPriority.Error, $"connection closed after an internal error: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(PipeReader input, PipeWriter output, CancellationTokenSource idle, CancellationToken reading)
    {
        while (true)
        {
            idle.CancelAfter(_idleTimeout);
            var result = await input.ReadAsync(reading).ConfigureAwait(false);
            var buffer = result.Buffer;
            bool keepOpen = true;
            try
            {
                while (keepOpen)
                {
                    if (!TryReadRequest(ref buffer))
                    {
                        break;
                    }

                    keepOpen = await _service.HandleAsync(_request, _scratch, output).ConfigureAwait(false) && !_exim;
                }
            }
            catch (PolicyProtocolException e)
            {
                _log.Write(LogPriority.Error, "closing connection: " + e.Message);
                keepOpen = false;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (output.UnflushedBytes > 0)
            {
                await output.FlushAsync(idle.Token).ConfigureAwait(false);
            }

            if (!keepOpen)
            {
                return;
            }

            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    _log.Write(LogPriority.Warning, "connection closed in the middle of a request");
                }

                return;
            }
        }
    }

    private bool TryReadRequest(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!PolicyRequestReader.TryRead(ref reader, _request))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
