using System.Buffers;
using System.Text;
using Greyd.Storage;

namespace Greyd.Hosting.Logging;

/// <summary>
/// greyd's log: one line per event on stderr, prefixed with its syslog priority (<c>&lt;5&gt;</c>) so journald and
/// syslog keep the level. Verbosity follows postgrey: <c>-q</c> shows warnings and worse, <c>-v</c> adds info.
/// Decision lines (<see cref="WriteBatch"/>) are gathered for up to <see cref="BatchDelay"/> and written together
/// by a background thread, one write for many requests; every other line is written at once, after them.
/// </summary>
public sealed class GreydLog : IStoreLog
{
    /// <summary>How long a decision line may wait for others to share its write.</summary>
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(2);

    // Past this many unwritten bytes (stderr not draining) decision lines are dropped and counted, never waited for.
    private const int MaxPending = 16 << 20;

    private readonly Stream _output;
    private readonly Lock _gate = new();
    private readonly Lock _writeGate = new();
    private readonly byte[] _line = new byte[8192];
    private readonly object _wake = new();
    private bool _woken;
    private ArrayBufferWriter<byte> _pending = new(64 << 10);
    private ArrayBufferWriter<byte> _writing = new(64 << 10);
    private bool _scheduled;
    private Thread? _writer;
    private long _dropped;

    public GreydLog(Stream output, LogPriority maxPriority)
    {
        _output = output;
        MaxPriority = maxPriority;
    }

    /// <summary>The least important priority still written.</summary>
    public LogPriority MaxPriority { get; }

    public bool IsEnabled(LogPriority priority) => priority <= MaxPriority;

    /// <summary>Writes one line of greyd's own text (never client data: use <see cref="LogEscaper"/> for that).</summary>
    public void Write(LogPriority priority, string message)
    {
        if (!IsEnabled(priority))
        {
            return;
        }

        // Our own messages are rare and may embed file names or exception text: keep them to one line too.
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        byte[] escaped = ArrayPool<byte>.Shared.Rent(bytes.Length * 3);
        int n = LogEscaper.Escape(bytes, escaped, doublePercent: false);
        Write(priority, escaped.AsSpan(0, n));
        ArrayPool<byte>.Shared.Return(escaped);
    }

    /// <summary>Writes one already escaped line now, after any decision lines still waiting; the prefix and newline are added here.</summary>
    public void Write(LogPriority priority, ReadOnlySpan<byte> line)
    {
        if (!IsEnabled(priority))
        {
            return;
        }

        lock (_gate)
        {
            int length = Math.Min(line.Length, _line.Length - 4);
            _line[0] = (byte)'<';
            _line[1] = (byte)('0' + (int)priority);
            _line[2] = (byte)'>';
            line[..length].CopyTo(_line.AsSpan(3));
            _line[3 + length] = (byte)'\n';
            _pending.Write(_line.AsSpan(0, length + 4));
        }

        Flush();
    }

    /// <summary>
    /// Adds one already escaped line, with its prefix and newline, to <paramref name="batch"/> for a later
    /// <see cref="WriteBatch"/>: a connection hands over its requests' lines in one go after it has answered them.
    /// </summary>
    public void Append(IBufferWriter<byte> batch, LogPriority priority, ReadOnlySpan<byte> line)
    {
        if (!IsEnabled(priority))
        {
            return;
        }

        int length = Math.Min(line.Length, _line.Length - 4);
        var span = batch.GetSpan(length + 4);
        span[0] = (byte)'<';
        span[1] = (byte)('0' + (int)priority);
        span[2] = (byte)'>';
        line[..length].CopyTo(span[3..]);
        span[3 + length] = (byte)'\n';
        batch.Advance(length + 4);
    }

    /// <summary>Queues whole lines gathered with <see cref="Append"/>; they are written within <see cref="BatchDelay"/>.</summary>
    public void WriteBatch(ReadOnlySpan<byte> lines)
    {
        if (lines.IsEmpty)
        {
            return;
        }

        bool wake;
        lock (_gate)
        {
            if (_pending.WrittenCount + lines.Length > MaxPending)
            {
                _dropped += lines.Count((byte)'\n');
                return;
            }

            _pending.Write(lines);
            wake = !_scheduled;
            _scheduled = true;
            if (_writer is null)
            {
                _writer = new Thread(WriterLoop) { IsBackground = true, Name = "greyd log" };
                _writer.Start();
            }
        }

        if (wake)
        {
            lock (_wake)
            {
                _woken = true;
                Monitor.Pulse(_wake);
            }
        }
    }

    /// <summary>Writes every line still waiting, now (also at shutdown).</summary>
    public void Flush()
    {
        lock (_writeGate)
        {
            long dropped;
            lock (_gate)
            {
                (_pending, _writing) = (_writing, _pending);
                _scheduled = false;
                dropped = _dropped;
                _dropped = 0;
            }

            try
            {
                if (_writing.WrittenCount > 0)
                {
                    _output.Write(_writing.WrittenSpan);
                }

                if (dropped > 0)
                {
                    _output.Write(Encoding.ASCII.GetBytes($"<4>log: {dropped} decision lines dropped, stderr was not taking them\n"));
                }

                _output.Flush();
            }
            catch (IOException)
            {
                // A closed stderr must never take the daemon down.
            }

            _writing.ResetWrittenCount();
            if (_writing.Capacity > 1 << 20)
            {
                _writing = new ArrayBufferWriter<byte>(64 << 10); // a burst's buffer is not kept for good
            }
        }
    }

    private void WriterLoop()
    {
        while (true)
        {
            lock (_wake)
            {
                while (!_woken)
                {
                    Monitor.Wait(_wake);
                }

                _woken = false;
            }

            Thread.Sleep(BatchDelay);
            Flush();
        }
    }

    void IStoreLog.Write(StoreLogLevel level, string message) => Write(
        level switch
        {
            StoreLogLevel.Critical => LogPriority.Critical,
            StoreLogLevel.Error => LogPriority.Error,
            StoreLogLevel.Warning => LogPriority.Warning,
            StoreLogLevel.Notice => LogPriority.Notice,
            StoreLogLevel.Info => LogPriority.Info,
            _ => LogPriority.Debug,
        },
        message);
}
