namespace Greyd.Load;

/// <summary>
/// Round-trip times in buckets: 0.1 µs wide below 1 ms, 10 µs wide below 1 s, one bucket above. One per
/// connection, merged at the end, so recording costs an array increment and no lock.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int FineBuckets = 10_000;   // 0 to 1 ms in 100 ns steps
    private const int CoarseBuckets = 99_900; // 1 ms to 1 s in 10 µs steps
    private readonly long[] _counts = new long[FineBuckets + CoarseBuckets + 1];

    public long Count { get; private set; }

    public long MaxNanoseconds { get; private set; }

    public void Record(long nanoseconds)
    {
        _counts[Bucket(nanoseconds)]++;
        Count++;
        if (nanoseconds > MaxNanoseconds)
        {
            MaxNanoseconds = nanoseconds;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxNanoseconds = Math.Max(MaxNanoseconds, other.MaxNanoseconds);
    }

    /// <summary>The upper edge of the bucket holding the <paramref name="quantile"/> (0 to 1), in microseconds.</summary>
    public double Percentile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperEdgeNanoseconds(i), MaxNanoseconds) / 1000.0;
            }
        }

        return MaxNanoseconds / 1000.0;
    }

    private static int Bucket(long ns)
    {
        if (ns < 1_000_000)
        {
            return (int)(ns / 100);
        }

        if (ns < 1_000_000_000)
        {
            return FineBuckets + (int)((ns - 1_000_000) / 10_000);
        }

        return FineBuckets + CoarseBuckets;
    }

    private static long UpperEdgeNanoseconds(int bucket) =>
        bucket < FineBuckets ? (bucket + 1) * 100L
        : bucket < FineBuckets + CoarseBuckets ? 1_000_000 + ((bucket - FineBuckets + 1) * 10_000L)
        : long.MaxValue;
}
