namespace Greyd.Hosting.Reporting;

/// <summary>
/// The fixed delay histogram of the report: upper bounds in seconds, a minute apart around the usual 5-minute
/// delay, coarser up to a week, then one open bucket. Percentiles are read off it as "at most" a bucket's bound.
/// </summary>
internal static class DelayBuckets
{
    /// <summary>Upper bounds (inclusive); the last bucket, past the final bound, is open.</summary>
    public static readonly long[] Bounds =
    [
        60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 720, 900, 1200, 1500, 1800, 2400, 3000, 3600,
        5400, 7200, 10800, 14400, 21600, 28800, 43200, 64800, 86400, 129600, 172800, 259200, 345600, 432000, 604800,
    ];

    public static int Count => Bounds.Length + 1;

    public static int IndexOf(long seconds)
    {
        int i = Array.BinarySearch(Bounds, seconds);
        return i >= 0 ? i : ~i;
    }

    /// <summary>The bucket's upper bound, or null for the open bucket.</summary>
    public static long? BoundOf(int index) => index < Bounds.Length ? Bounds[index] : null;

    /// <summary>
    /// The <paramref name="quantile"/> of <paramref name="count"/> delays: the bound of its bucket (never above the
    /// maximum) and whether that is only a bound. It is exact when it is the largest delay.
    /// </summary>
    public static (long Seconds, bool Bound) Percentile(ReadOnlySpan<long> buckets, long count, long max, double quantile)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * count));
        if (rank >= count)
        {
            return (max, false);
        }

        long seen = 0;
        for (int i = 0; i < buckets.Length; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
            {
                return (Math.Min(BoundOf(i) ?? max, max), true);
            }
        }

        return (max, true);
    }
}
