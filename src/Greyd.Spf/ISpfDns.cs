using System.Net;

namespace Greyd.Spf;

/// <summary>
/// The DNS queries check_host() makes. An implementation caches by TTL and completes synchronously on a cache
/// hit, so a warm check costs no allocation and no thread hop. It never throws for DNS trouble: errors and
/// timeouts come back as <see cref="DnsStatus.Failure"/>; only cancellation throws.
/// </summary>
public interface ISpfDns
{
    /// <summary>TXT records of <paramref name="name"/>, each record's character-strings joined without separators.</summary>
    ValueTask<DnsAnswer<string>> GetTxtAsync(string name, CancellationToken cancellationToken);

    /// <summary>A records (<paramref name="ipv6"/> false) or AAAA records (true) of <paramref name="name"/>.</summary>
    ValueTask<DnsAnswer<IPAddress>> GetAddressesAsync(string name, bool ipv6, CancellationToken cancellationToken);

    /// <summary>The exchange host names of <paramref name="name"/>'s MX records, without the trailing dot.</summary>
    ValueTask<DnsAnswer<string>> GetMxAsync(string name, CancellationToken cancellationToken);

    /// <summary>The PTR names of <paramref name="address"/> (in-addr.arpa / ip6.arpa), without the trailing dot.</summary>
    ValueTask<DnsAnswer<string>> GetPtrAsync(IPAddress address, CancellationToken cancellationToken);
}
