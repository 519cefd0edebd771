using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Server;

/// <summary>
/// At most one line every ten seconds for one kind of event, with a count of the ones left out, so that a
/// thousand hostile connections closed at once cost a line, not a thousand.
/// </summary>
public sealed class RateLimitedLog
{
    private const long IntervalMs = 10_000;

    private readonly GreydLog _log;
    private readonly LogPriority _priority;
    private readonly string _message;
    private long _last = long.MinValue;
    private int _suppressed;

    public RateLimitedLog(GreydLog log, LogPriority priority, string message)
    {
        _log = log;
        _priority = priority;
        _message = message;
    }

    public void Write() => Write(_message);

    /// <summary>Writes <paramref name="message"/> unless a line of this kind went out less than ten seconds ago.</summary>
    public void Write(string message)
    {
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _last);
        if ((last != long.MinValue && now - last < IntervalMs) || Interlocked.CompareExchange(ref _last, now, last) != last)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }

        int suppressed = Interlocked.Exchange(ref _suppressed, 0);
        _log.Write(_priority, message + (suppressed > 0 ? $" ({suppressed} more since the last report)" : string.Empty));
    }
}
