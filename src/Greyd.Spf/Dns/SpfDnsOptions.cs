using System.Net;

namespace Greyd.Spf.Dns;

/// <summary>How <see cref="SpfDnsResolver"/> reaches DNS and how long it keeps answers.</summary>
public sealed class SpfDnsOptions
{
    /// <summary>Resolvers to ask, in order; empty means the system's (/etc/resolv.conf, read once at start).</summary>
    public IReadOnlyList<IPEndPoint> Servers { get; init; } = [];

    /// <summary>How long one query may take before it is a <see cref="DnsStatus.Failure"/>.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Tries of one lookup in all, over all <see cref="Servers"/> (a timeout or SERVFAIL is tried again, on the next
    /// server when there is one). A lookup never takes much longer than <see cref="QueryTimeout"/> × this.
    /// </summary>
    public int Attempts { get; init; } = 2;

    /// <summary>Most answers kept; beyond it the oldest are dropped, so junk senders cannot grow memory without bound.</summary>
    public int MaxEntries { get; init; } = 50_000;

    /// <summary>Longest an answer is kept, whatever its TTL says.</summary>
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long a negative answer (NXDOMAIN, no records) is kept when it came without an SOA record (RFC 2308).</summary>
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a failure (SERVFAIL, timeout) is remembered, so a burst of requests does not repeat it; zero keeps none.</summary>
    public TimeSpan FailureTtl { get; init; } = TimeSpan.FromSeconds(10);
}
