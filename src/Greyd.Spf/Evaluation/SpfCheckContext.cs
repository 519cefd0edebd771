using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Greyd.Spf.Evaluation;

/// <summary>
/// The state of one check_host() evaluation across its includes and redirects: the &lt;ip&gt; and &lt;sender&gt;,
/// and the lookup and void-lookup counts of RFC 7208 section 4.6.4. Macro values are computed only when used.
/// </summary>
internal sealed class SpfCheckContext
{
    private readonly string _sender;
    private readonly string _domain;
    private string? _localPart;
    private string? _senderDomain;
    private string? _senderAddress;
    private string? _clientDotted;

    public SpfCheckContext(IPAddress client, string sender, string helo, string domain)
    {
        // An IPv4-mapped IPv6 client is an IPv4 client throughout (RFC 7208 section 5).
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }
        Client = client;
        IsIPv6 = client.AddressFamily == AddressFamily.InterNetworkV6;
        if (IsIPv6)
        {
            ClientV6 = ToUInt128(client);
        }
        else
        {
            ClientV4 = ToUInt32(client);
        }
        _sender = sender;
        _domain = domain;
        Helo = helo;
    }

    public IPAddress Client { get; }

    public bool IsIPv6 { get; }

    public uint ClientV4 { get; }

    public UInt128 ClientV6 { get; }

    public string Helo { get; }

    /// <summary>DNS-querying terms evaluated so far.</summary>
    public int Lookups { get; set; }

    /// <summary>Lookups that answered NXDOMAIN or no records.</summary>
    public int VoidLookups { get; set; }

    /// <summary>The pass so far came from a term that matches any address (+all, ip4:0.0.0.0/1 ...).</summary>
    public bool PassedAnyAddress { get; set; }

    /// <summary>Seconds since the epoch, for %{t}.</summary>
    public long Timestamp => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>%{l}: the sender's local-part, "postmaster" when it has none (section 4.3).</summary>
    public string LocalPart
    {
        get
        {
            if (_localPart is null)
            {
                int at = _sender.LastIndexOf('@');
                _localPart = at > 0 ? _sender[..at] : "postmaster";
            }
            return _localPart;
        }
    }

    /// <summary>%{o}: the sender's domain; the checked domain when the sender is empty.</summary>
    public string SenderDomain
    {
        get
        {
            if (_senderDomain is null)
            {
                int at = _sender.LastIndexOf('@');
                string domain = at >= 0 ? _sender[(at + 1)..] : _sender;
                _senderDomain = domain.Length == 0 ? _domain : domain;
            }
            return _senderDomain;
        }
    }

    /// <summary>%{s}: the sender, with "postmaster" as local-part when it has none.</summary>
    public string SenderAddress => _senderAddress ??= LocalPart + "@" + SenderDomain;

    /// <summary>%{i}: dotted decimal for IPv4, dot-separated nibbles for IPv6 (section 7.3).</summary>
    public string ClientDotted => _clientDotted ??= IsIPv6 ? Nibbles(ClientV6) : Client.ToString();

    public static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>True when a DNS address equals the client (a/mx with full-length CIDR; ptr validation).</summary>
    public bool Matches(IPAddress address, int ip4Cidr, int ip6Cidr)
    {
        if (IsIPv6)
        {
            if (address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
            UInt128 mask = SpfDirective.Ip6Mask(ip6Cidr);
            return (ToUInt128(address) & mask) == (ClientV6 & mask);
        }
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }
        uint mask4 = SpfDirective.Ip4Mask(ip4Cidr);
        return (ToUInt32(address) & mask4) == (ClientV4 & mask4);
    }

    private static string Nibbles(UInt128 value)
    {
        return string.Create(63, value, static (span, v) =>
        {
            for (int n = 0; n < 32; n++)
            {
                int nibble = (int)(v >> (124 - 4 * n)) & 0xf;
                span[2 * n] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
                if (n < 31)
                {
                    span[2 * n + 1] = '.';
                }
            }
        });
    }
}
