using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Greyd.Policy;

/// <summary>
/// A client IP address parsed strictly from Postfix's <c>client_address</c>, with postgrey's (NetAddr::IP's) text
/// forms: IPv4 as a dotted quad without leading zeros, IPv6 as eight upper-case groups without <c>::</c>.
/// </summary>
public readonly struct ClientAddress : IEquatable<ClientAddress>
{
    /// <summary>Longest canonical text: eight groups of four hex digits and seven colons.</summary>
    public const int MaxTextLength = 39;

    private ClientAddress(UInt128 value, bool isIPv6)
    {
        Value = value;
        IsIPv6 = isIPv6;
    }

    /// <summary>The address bits; an IPv4 address sits in the low 32 bits.</summary>
    public UInt128 Value { get; }

    public bool IsIPv6 { get; }

    public int BitLength => IsIPv6 ? 128 : 32;

    public static ClientAddress FromIPv4(uint value) => new(value, false);

    public static ClientAddress FromIPv6(UInt128 value) => new(value, true);

    /// <summary>
    /// Parses a dotted quad (leading zeros allowed, as NetAddr::IP does) or an IPv6 address without zone or brackets.
    /// Anything else, including empty and <c>unknown</c>, fails: postgrey crashes there, greyd answers DUNNO.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ClientAddress address)
    {
        address = default;
        if (text.IsEmpty || text.Length > 45)
        {
            return false;
        }

        return text.Contains((byte)':') ? TryParseIPv6(text, out address) : TryParseIPv4(text, out address);
    }

    public static bool TryParse(string text, out ClientAddress address) => TryParse(Encoding.UTF8.GetBytes(text), out address);

    private static bool TryParseIPv4(ReadOnlySpan<byte> text, out ClientAddress address)
    {
        address = default;
        uint value = 0;
        int parts = 0;
        int i = 0;
        while (parts < 4)
        {
            int digits = 0;
            uint part = 0;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9' && digits < 3)
            {
                part = (part * 10) + (uint)(text[i] - '0');
                i++;
                digits++;
            }

            if (digits == 0 || part > 255)
            {
                return false;
            }

            value = (value << 8) | part;
            parts++;
            if (parts < 4)
            {
                if (i >= text.Length || text[i] != (byte)'.')
                {
                    return false;
                }

                i++;
            }
        }

        if (i != text.Length)
        {
            return false;
        }

        address = new ClientAddress(value, false);
        return true;
    }

    private static bool TryParseIPv6(ReadOnlySpan<byte> text, out ClientAddress address)
    {
        address = default;
        foreach (byte b in text)
        {
            // Hex digits, colons and an embedded dotted quad only: no zone ids, brackets or blanks.
            bool ok = b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F')
                or (byte)':' or (byte)'.';
            if (!ok)
            {
                return false;
            }
        }

        Span<char> chars = stackalloc char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        if (!IPAddress.TryParse(chars, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        address = new ClientAddress(BinaryPrimitives.ReadUInt128BigEndian(bytes), true);
        return true;
    }

    /// <summary>The address with every bit after <paramref name="prefixLength"/> cleared.</summary>
    public ClientAddress Network(int prefixLength)
    {
        int bits = BitLength;
        if (prefixLength >= bits)
        {
            return this;
        }

        if (prefixLength <= 0)
        {
            return new ClientAddress(0, IsIPv6);
        }

        UInt128 mask = IsIPv6 ? UInt128.MaxValue << (128 - prefixLength) : (UInt128)(uint.MaxValue << (32 - prefixLength));
        return new ClientAddress(Value & mask, IsIPv6);
    }

    /// <summary>True when this address lies in <paramref name="network"/>/<paramref name="prefixLength"/>.</summary>
    public bool IsWithin(ClientAddress network, int prefixLength) =>
        IsIPv6 == network.IsIPv6 && Network(prefixLength).Value == network.Network(prefixLength).Value;

    /// <summary>Writes NetAddr::IP's text form (IPv6 upper case); returns the byte count.</summary>
    public int WriteText(Span<byte> destination, bool lowerCase = false)
    {
        int n = 0;
        if (!IsIPv6)
        {
            uint v = (uint)Value;
            for (int shift = 24; shift >= 0; shift -= 8)
            {
                ((v >> shift) & 0xff).TryFormat(destination[n..], out int written);
                n += written;
                if (shift > 0)
                {
                    destination[n++] = (byte)'.';
                }
            }

            return n;
        }

        for (int group = 7; group >= 0; group--)
        {
            ushort g = (ushort)(Value >> (group * 16));
            g.TryFormat(destination[n..], out int written, lowerCase ? "x" : "X");
            n += written;
            if (group > 0)
            {
                destination[n++] = (byte)':';
            }
        }

        return n;
    }

    public override string ToString()
    {
        Span<byte> text = stackalloc byte[MaxTextLength];
        return Encoding.ASCII.GetString(text[..WriteText(text)]);
    }

    public bool Equals(ClientAddress other) => Value == other.Value && IsIPv6 == other.IsIPv6;

    public override bool Equals(object? obj) => obj is ClientAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Value, IsIPv6);

    public static bool operator ==(ClientAddress left, ClientAddress right) => left.Equals(right);

    public static bool operator !=(ClientAddress left, ClientAddress right) => !left.Equals(right);
}
