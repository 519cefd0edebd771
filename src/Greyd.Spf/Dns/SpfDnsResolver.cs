using System.Net;

namespace Greyd.Spf.Dns;

/// <summary>
/// <see cref="ISpfDns"/> over DnsClient: answers cached by TTL (negative answers by the SOA minimum, failures
/// briefly), one query in flight per name and type however many requests ask, a bounded cache.
/// </summary>
public sealed class SpfDnsResolver : ISpfDns, IDisposable
{
    public SpfDnsResolver(SpfDnsOptions options, TimeProvider clock) => _ = (options, clock);

    public ValueTask<DnsAnswer<string>> GetTxtAsync(string name, CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask<DnsAnswer<IPAddress>> GetAddressesAsync(string name, bool ipv6, CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask<DnsAnswer<string>> GetMxAsync(string name, CancellationToken cancellationToken) => throw new NotImplementedException();

    public ValueTask<DnsAnswer<string>> GetPtrAsync(IPAddress address, CancellationToken cancellationToken) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
