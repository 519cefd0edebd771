namespace Greyd.Spf;

/// <summary>
/// One DNS answer as SPF uses it: the status and the records of the type asked for (CNAMEs already followed by
/// the resolver). Immutable, so a cache can hand the same instance to every caller.
/// </summary>
public sealed class DnsAnswer<T>(DnsStatus status, IReadOnlyList<T> records)
{
    public DnsStatus Status { get; } = status;

    /// <summary>The records; empty unless <see cref="Status"/> is <see cref="DnsStatus.Ok"/>.</summary>
    public IReadOnlyList<T> Records { get; } = records;

    /// <summary>NXDOMAIN, or NOERROR with no records: what RFC 7208 section 4.6.4 calls a void lookup.</summary>
    public bool IsVoid => Status == DnsStatus.NameError || (Status == DnsStatus.Ok && Records.Count == 0);
}
