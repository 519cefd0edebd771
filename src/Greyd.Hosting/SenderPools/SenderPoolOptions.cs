using System.Net;

namespace Greyd.Hosting.SenderPools;

/// <summary>The <c>--spf-pools</c> settings.</summary>
public sealed class SenderPoolOptions
{
    /// <summary>Longest an SPF check may hold up a request (<c>--spf-timeout</c>).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(DefaultTimeoutMs);

    /// <summary>Resolvers to ask (<c>--spf-dns</c>); empty means the system's (/etc/resolv.conf).</summary>
    public IReadOnlyList<IPEndPoint> DnsServers { get; init; } = [];

    /// <summary>Well under Postfix's policy timeout (100 s), and long enough for a cold include chain.</summary>
    public const int DefaultTimeoutMs = 2000;
}
