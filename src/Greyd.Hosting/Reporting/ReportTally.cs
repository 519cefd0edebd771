namespace Greyd.Hosting.Reporting;

/// <summary>One domain's counts summed over a report's days, with the unretried split by whether the day is closed.</summary>
internal sealed class ReportTally
{
    private readonly DomainCounts _counts = new();
    private long _neverRetried;
    private long _waiting;

    public long Greylisted => _counts.Greylisted;

    public void Add(DomainCounts day, bool closed)
    {
        _counts.Add(day);
        long unretried = Math.Max(0, day.Greylisted - day.Retried);
        if (closed)
        {
            _neverRetried += unretried;
        }
        else
        {
            _waiting += unretried;
        }
    }

    public ReportRow ToRow(string domain)
    {
        long passed = _counts.Passed;
        ReportDelay? delay = null;
        if (passed > 0)
        {
            var (p50, p50Bound) = DelayBuckets.Percentile(_counts.Buckets, passed, _counts.DelayMax, 0.5);
            var (p90, p90Bound) = DelayBuckets.Percentile(_counts.Buckets, passed, _counts.DelayMax, 0.9);
            delay = new ReportDelay(p50, p50Bound, p90, p90Bound, _counts.DelayMax, (_counts.DelaySum + (passed / 2)) / passed);
        }

        return new ReportRow(domain, _counts.Greylisted, _counts.Retried, passed, _neverRetried, _waiting, delay);
    }
}
