namespace Greyd.Storage.Faster;

/// <summary>Writes a recurring fault at most once per interval, with how many were held back, so a full disk cannot flood syslog.</summary>
internal sealed class RateLimitedLog(IStoreLog log, StoreLogLevel level, TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _next = long.MinValue;
    private long _suppressed;
    private long _total;

    /// <summary>How many faults were reported here since the start (written or held back).</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Write(string message)
    {
        Interlocked.Increment(ref _total);
        long now = Environment.TickCount64;
        long suppressed;
        lock (_gate)
        {
            if (now < _next)
            {
                _suppressed++;
                return;
            }

            _next = now + (long)interval.TotalMilliseconds;
            suppressed = _suppressed;
            _suppressed = 0;
        }

        log.Write(level, suppressed == 0 ? message : $"{message} ({suppressed} more since the last report)");
    }
}
