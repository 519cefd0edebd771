namespace Greyd.Hosting.Reporting;

/// <summary>
/// One sender domain's counts for one day (or summed over a period). Updated lock-free from any request thread;
/// the delay buckets exist only once something passed, so random spam domains cost a few longs each.
/// </summary>
internal sealed class DomainCounts
{
    private long _greylisted;
    private long _retried;
    private long _passed;
    private long _delaySum;
    private long _delayMax;
    private long[]? _buckets;

    public long Greylisted => Volatile.Read(ref _greylisted);

    public long Retried => Volatile.Read(ref _retried);

    public long Passed => Volatile.Read(ref _passed);

    public long DelaySum => Volatile.Read(ref _delaySum);

    public long DelayMax => Volatile.Read(ref _delayMax);

    /// <summary>The delay histogram (<see cref="DelayBuckets"/>), empty when nothing passed.</summary>
    public ReadOnlySpan<long> Buckets => Volatile.Read(ref _buckets);

    public void CountGreylisted() => Interlocked.Increment(ref _greylisted);

    public void CountRetried() => Interlocked.Increment(ref _retried);

    public void CountPassed(long delay)
    {
        delay = Math.Max(0, delay);
        Interlocked.Increment(ref Bucket(DelayBuckets.IndexOf(delay)));
        Interlocked.Add(ref _delaySum, delay);
        RaiseMax(delay);
        Interlocked.Increment(ref _passed);
    }

    /// <summary>Adds another day's (or file's) counts to these.</summary>
    public void Add(DomainCounts other) =>
        Add(other.Greylisted, other.Retried, other.Passed, other.DelaySum, other.DelayMax, other.Buckets);

    public void Add(long greylisted, long retried, long passed, long delaySum, long delayMax, ReadOnlySpan<long> buckets)
    {
        Interlocked.Add(ref _greylisted, greylisted);
        Interlocked.Add(ref _retried, retried);
        Interlocked.Add(ref _passed, passed);
        Interlocked.Add(ref _delaySum, delaySum);
        RaiseMax(delayMax);
        for (int i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] != 0)
            {
                Interlocked.Add(ref Bucket(i), buckets[i]);
            }
        }
    }

    private ref long Bucket(int index)
    {
        var buckets = Volatile.Read(ref _buckets);
        if (buckets is null)
        {
            buckets = new long[DelayBuckets.Count];
            buckets = Interlocked.CompareExchange(ref _buckets, buckets, null) ?? buckets;
        }

        return ref buckets[index];
    }

    private void RaiseMax(long value)
    {
        long max = Volatile.Read(ref _delayMax);
        while (value > max)
        {
            long seen = Interlocked.CompareExchange(ref _delayMax, value, max);
            if (seen == max)
            {
                return;
            }

            max = seen;
        }
    }
}
