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
    private readonly IPolicyHandler _handler;
    private readonly GreydLog _log;
    private readonly bool _exim;
    private readonly ConnectionLimits _limits;
    private readonly PolicyRequest _request = new();
    private readonly PolicyScratch _scratch = new(deferLog: true);
    private Phase _phase;

    public PolicyConnection(Socket socket, IPolicyHandler handler, GreydLog log, bool exim, ConnectionLimits limits)
    {
        _socket = socket;
        _handler = handler;
        _log = log;
        _exim = exim;
        _limits = limits;
    }

    /// <summary>Which deadline the connection's one timer is counting.</summary>
    private enum Phase
    {
        Idle,
        Request,
        Write,
    }

    public async Task RunAsync(CancellationToken shutdown)
    {
        // One timer for whichever deadline is in force. Reads stop on shutdown or the timer; writes only on the
        // timer, so an answer already decided is still sent during shutdown.
        using var timer = new CancellationTokenSource();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(shutdown, timer.Token);
        await using var stream = new NetworkStream(_socket, ownsSocket: true);

        // Zero-byte reads: a connection waiting for its next request holds no buffer, so a thousand idle
        // connections cost a thousand sockets and little else.
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 1024, leaveOpen: true));
        try
        {
            await ServeAsync(input, output, timer, reading.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutdown or a deadline: closing is the answer.
            if (timer.IsCancellationRequested)
            {
                if (_phase == Phase.Request)
                {
                    _limits.RequestTimedOut.Write();
                }
                else if (_phase == Phase.Write)
                {
                    _limits.WriteTimedOut.Write();
                }
            }
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
            WritePendingLog();
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(PipeReader input, PipeWriter output, CancellationTokenSource timer, CancellationToken reading)
    {
        // When the first byte of the request now being read arrived; -1 between requests.
        long requestStarted = -1;
        while (true)
        {
            if (requestStarted < 0)
            {
                _phase = Phase.Idle;
                timer.CancelAfter(_limits.IdleTimeout);
            }
            else
            {
                _phase = Phase.Request;
                var left = _limits.RequestTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - requestStarted);
                if (left <= TimeSpan.Zero)
                {
                    _limits.RequestTimedOut.Write();
                    return;
                }

                timer.CancelAfter(left);
            }

            var result = await input.ReadAsync(reading).ConfigureAwait(false);
            var buffer = result.Buffer;
            bool keepOpen = true;
            bool answered = false;
            try
            {
                while (keepOpen)
                {
                    if (!TryReadRequest(ref buffer))
                    {
                        break;
                    }

                    answered = true;
                    keepOpen = await _handler.HandleAsync(_request, _scratch, output).ConfigureAwait(false) && !_exim;
                }
            }
            catch (PolicyProtocolException e)
            {
                WritePendingLog();
                _log.Write(LogPriority.Error, "closing connection: " + e.Message);
                keepOpen = false;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (output.UnflushedBytes > 0)
            {
                _phase = Phase.Write;
                timer.CancelAfter(_limits.RequestTimeout);
                await output.FlushAsync(timer.Token).ConfigureAwait(false);
            }

            WritePendingLog();

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

            // Bytes left over are the start of the next request: its deadline runs from now, or from when it began.
            requestStarted = buffer.IsEmpty ? -1 : answered || requestStarted < 0 ? Environment.TickCount64 : requestStarted;
        }
    }

    private void WritePendingLog()
    {
        if (_scratch.PendingLog is { WrittenCount: > 0 } pending)
        {
            _log.WriteBatch(pending.WrittenSpan);
            pending.ResetWrittenCount();
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
