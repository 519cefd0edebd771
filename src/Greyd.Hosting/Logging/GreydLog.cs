using System.Buffers;
using System.Text;
using Greyd.Storage;

namespace Greyd.Hosting.Logging;

/// <summary>
/// greyd's log: one line per event on stderr, prefixed with its syslog priority (<c>&lt;5&gt;</c>) so journald and
/// syslog keep the level. Verbosity follows postgrey: <c>-q</c> shows warnings and worse, <c>-v</c> adds info.
/// </summary>
public sealed class GreydLog : IStoreLog
{
    private readonly Stream _output;
    private readonly Lock _gate = new();
    private readonly byte[] _line = new byte[8192];

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

    /// <summary>Writes one already escaped line; the prefix and newline are added here.</summary>
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
            try
            {
                _output.Write(_line, 0, length + 4);
                _output.Flush();
            }
            catch (IOException)
            {
                // A closed stderr must never take the daemon down.
            }
        }
    }

    /// <summary>
    /// Adds one already escaped line, with its prefix and newline, to <paramref name="batch"/> for a later
    /// <see cref="WriteBatch"/>: a connection writes its requests' lines in one go after it has answered them.
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

    /// <summary>Writes lines gathered with <see cref="Append"/>, whole, in one write.</summary>
    public void WriteBatch(ReadOnlySpan<byte> lines)
    {
        if (lines.IsEmpty)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _output.Write(lines);
                _output.Flush();
            }
            catch (IOException)
            {
                // A closed stderr must never take the daemon down.
            }
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
