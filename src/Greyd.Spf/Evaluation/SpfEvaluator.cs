using System.Net;

namespace Greyd.Spf.Evaluation;

/// <summary>
/// RFC 7208's check_host(): fetches and evaluates the domain's SPF record over <see cref="ISpfDns"/>, with the
/// RFC's limits (10 DNS-querying terms, 2 void lookups, 10 MX or PTR names). Thread-safe; a check whose lookups
/// are all cached completes synchronously.
/// </summary>
public sealed class SpfEvaluator(ISpfDns dns)
{
    /// <summary>RFC 7208 section 4.6.4: terms that cause DNS queries.</summary>
    public const int MaxLookups = 10;

    /// <summary>RFC 7208 section 4.6.4: lookups answering NXDOMAIN or no records.</summary>
    public const int MaxVoidLookups = 2;

    /// <summary>
    /// check_host(<paramref name="client"/>, <paramref name="domain"/>, <paramref name="sender"/>), with
    /// <paramref name="helo"/> for the %{h} macro. Never throws for DNS trouble or a bad record (those are
    /// temperror and permerror); only cancellation throws.
    /// </summary>
    public ValueTask<SpfCheck> CheckHostAsync(IPAddress client, string domain, string sender, string helo, CancellationToken cancellationToken)
    {
        _ = dns;
        throw new NotImplementedException();
    }
}
