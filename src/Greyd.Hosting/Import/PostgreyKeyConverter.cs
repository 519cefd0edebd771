using Greyd.Policy;

namespace Greyd.Hosting.Import;

/// <summary>
/// Turns the keys of every postgrey version into the keys greyd builds today under its options. Triplet keys are
/// <c>net/sender/recipient</c>, where net is a network (1.37: <c>192.0.2.0</c>, <c>2001:db8:0:0:0:0:0:0</c>), a
/// network with its prefix length (1.36: <c>192.0.2.0/24</c>), a host with /32 or /128 (1.37 with
/// --lookup-by-host) or a whole client address (1.35 and older, 1.36 with --lookup-by-host). The client part is
/// keyed anew with greyd's prefix where the stored network is at least as narrow; sender and recipient stay as
/// postgrey normalised and lower-cased them. AWL keys are client addresses in any text form.
/// </summary>
public sealed class PostgreyKeyConverter
{
    private const int Sha1HexLength = 40;

    private readonly GreylistOptions _options;
    private readonly int _postgreyIPv4Cidr;
    private readonly int _postgreyIPv6Cidr;

    /// <param name="options">greyd's options: the keys are built as greyd would build them.</param>
    /// <param name="postgreyIPv4Cidr">postgrey's --ipv4cidr: the prefix of a stored IPv4 network without one.</param>
    /// <param name="postgreyIPv6Cidr">postgrey's --ipv6cidr: the prefix of a stored IPv6 network without one.</param>
    public PostgreyKeyConverter(GreylistOptions options, int postgreyIPv4Cidr = 24, int postgreyIPv6Cidr = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(postgreyIPv4Cidr, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(postgreyIPv4Cidr, 32);
        ArgumentOutOfRangeException.ThrowIfLessThan(postgreyIPv6Cidr, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(postgreyIPv6Cidr, 128);
        _options = options;
        _postgreyIPv4Cidr = postgreyIPv4Cidr;
        _postgreyIPv6Cidr = postgreyIPv6Cidr;
    }

    /// <summary>Converts a key of postgrey.db.</summary>
    public KeyConversion ConvertTriplet(ReadOnlySpan<byte> key)
    {
        if (IsSha1Hex(key))
        {
            return Privacy(key);
        }

        int slash = key.IndexOf((byte)'/');
        if (slash < 0)
        {
            return KeyConversion.Skip(ImportSkipReason.MalformedKey, "no / in it");
        }

        if (!ClientAddress.TryParse(key[..slash], out var address))
        {
            return KeyConversion.Skip(ImportSkipReason.MalformedKey, "no client address before the first /");
        }

        var rest = key[(slash + 1)..];
        int bits = address.BitLength;
        int prefix;
        if (TryPrefixLength(rest, bits, out prefix, out int used))
        {
            rest = rest[used..];
            if (address.Network(prefix) != address)
            {
                return KeyConversion.Skip(ImportSkipReason.MalformedKey, $"address bits set past /{prefix}");
            }
        }
        else
        {
            // Without a prefix length the key holds postgrey's network, unless bits past it are set: then a host.
            int cidr = Math.Min(address.IsIPv6 ? _postgreyIPv6Cidr : _postgreyIPv4Cidr, bits);
            prefix = address.Network(cidr) == address ? cidr : bits;
        }

        int separator = rest.IndexOf((byte)'/');
        if (separator < 0)
        {
            return KeyConversion.Skip(ImportSkipReason.MalformedKey, "no sender/recipient after the client part");
        }

        int wanted = _options.LookupByHost ? bits : Math.Min(address.IsIPv6 ? _options.IPv6Cidr : _options.IPv4Cidr, bits);
        if (wanted > prefix)
        {
            return KeyConversion.Skip(
                ImportSkipReason.NetworkTooWide,
                _options.LookupByHost ? $"a /{prefix} network; greyd keys whole addresses" : $"a /{prefix} network; greyd keys /{wanted}");
        }

        if (ClientAddress.MaxTextLength + 5 + rest.Length > TripletKeyBuilder.MaxKeyLength)
        {
            return KeyConversion.Skip(ImportSkipReason.KeyTooLong, $"{key.Length} bytes");
        }

        // Where the sender ends does not matter: the parts are joined again by the same '/'.
        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        int n = TripletKeyBuilder.WriteTripletKey(address, rest[..separator], rest[(separator + 1)..], _options, buffer);
        return new KeyConversion(buffer[..n], default, null);
    }

    /// <summary>Converts a key of postgrey_clients.db.</summary>
    public KeyConversion ConvertClient(ReadOnlySpan<byte> key)
    {
        if (_options.AutoWhitelistClients <= 0)
        {
            return KeyConversion.Skip(ImportSkipReason.AutoWhitelistOff);
        }

        if (IsSha1Hex(key))
        {
            return Privacy(key);
        }

        if (!ClientAddress.TryParse(key, out var address))
        {
            return KeyConversion.Skip(ImportSkipReason.MalformedKey, "not a client address");
        }

        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        int n = TripletKeyBuilder.WriteClientKey(address, _options, buffer);
        return new KeyConversion(buffer[..n], default, null);
    }

    /// <summary>True for a --privacy key: 40 lower-case hex digits, which no address or triplet key can be.</summary>
    public static bool IsSha1Hex(ReadOnlySpan<byte> key)
    {
        if (key.Length != Sha1HexLength)
        {
            return false;
        }

        foreach (byte b in key)
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')))
            {
                return false;
            }
        }

        return true;
    }

    // A digest cannot be keyed anew; greyd hashes the same text only under --privacy.
    private KeyConversion Privacy(ReadOnlySpan<byte> key) =>
        _options.Privacy ? new KeyConversion(key.ToArray(), default, null, IsPrivacyKey: true) : KeyConversion.Skip(ImportSkipReason.PrivacyKey);

    /// <summary>
    /// Reads a prefix length written after the address (1.36, and 1.37 with --lookup-by-host): decimal digits up to
    /// the address's bit count, then '/', with a sender/recipient still to follow. A sender of bare digits and no
    /// '@' would read the same, but Postfix hands over no such sender.
    /// </summary>
    private static bool TryPrefixLength(ReadOnlySpan<byte> rest, int bits, out int prefix, out int used)
    {
        prefix = 0;
        used = 0;
        int slash = rest.IndexOf((byte)'/');
        if (slash is < 1 or > 3 || rest[(slash + 1)..].IndexOf((byte)'/') < 0 || (rest[0] == (byte)'0' && slash > 1))
        {
            return false;
        }

        foreach (byte b in rest[..slash])
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            prefix = (prefix * 10) + (b - '0');
        }

        used = slash + 1;
        return prefix <= bits;
    }
}
