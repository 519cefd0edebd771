using Greyd.Policy;

namespace Greyd.Hosting.Admin;

/// <summary>
/// A stored triplet key read back into its parts: <c>net/sender/recipient</c> (with <c>/32</c> or <c>/128</c> after
/// the address under --lookup-by-host), or a sender-pool key <c>spf:domain/sender/recipient</c>, whose
/// <see cref="Network"/> is <c>spf:domain</c> and which has no address.
/// </summary>
public readonly record struct TripletKeyParts(string Network, ClientAddress Address, int Prefix, string Sender, string Recipient)
{
    /// <summary>A sender-pool key (--spf-pools): it names the sender's domain, not a client network.</summary>
    public bool IsPool => Network.StartsWith("spf:", StringComparison.Ordinal);

    /// <summary>The parts of a key in greyd's format, or null for a digest or anything else.</summary>
    public static TripletKeyParts? Parse(string key, GreylistOptions options)
    {
        int slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return null;
        }

        string network = key[..slash];
        if (network.StartsWith("spf:", StringComparison.Ordinal))
        {
            string tail = key[(slash + 1)..];
            int at = tail.LastIndexOf('/');
            return network.Length > 4 && at >= 0 ? new TripletKeyParts(network, default, 0, tail[..at], tail[(at + 1)..]) : null;
        }

        if (!ClientAddress.TryParse(network, out var address))
        {
            return null;
        }

        string rest = key[(slash + 1)..];
        int prefix = address.IsIPv6 ? options.IPv6Cidr : options.IPv4Cidr;
        if (options.LookupByHost)
        {
            int next = rest.IndexOf('/', StringComparison.Ordinal);
            if (next < 0 || !int.TryParse(rest.AsSpan(0, next), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix))
            {
                return null;
            }

            network = key[..(slash + 1 + next)];
            rest = rest[(next + 1)..];
        }

        // Recipients seldom hold a '/', senders sometimes do (list and VERP addresses): split at the last one.
        int split = rest.LastIndexOf('/');
        return split < 0 ? null : new TripletKeyParts(network, address, prefix, rest[..split], rest[(split + 1)..]);
    }
}
