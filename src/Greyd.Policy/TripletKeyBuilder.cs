using System.Security.Cryptography;
using Greyd.Protocol;

namespace Greyd.Policy;

/// <summary>
/// Builds postgrey 1.37's keys: the triplet <c>lc(net/sender/recipient)</c> and the AWL client address, or their
/// SHA-1 hex digests under <c>--privacy</c>. Keys match postgrey byte for byte so its databases can be imported.
/// </summary>
public static class TripletKeyBuilder
{
    /// <summary>Enough for a pool prefix and 253-byte domain (or a network) and two 512-byte values.</summary>
    public const int MaxKeyLength = 1300;

    private const int Sha1HexLength = 40;

    /// <summary>Writes the triplet key for the request and returns its length.</summary>
    public static int WriteTripletKey(PolicyRequest request, ClientAddress client, GreylistOptions options, Span<byte> destination)
    {
        Span<byte> key = options.Privacy ? stackalloc byte[MaxKeyLength] : destination;
        int n = WriteNetwork(client, options, key);
        key[n++] = (byte)'/';
        n += SenderNormalizer.Normalize(request.Get(PolicyAttribute.Sender), key[n..]);
        return Finish(key, n, request.Get(PolicyAttribute.Recipient), options, destination);
    }

    /// <summary>The start of a sender-pool key, where a client network stands in postgrey's keys.</summary>
    public static ReadOnlySpan<byte> PoolPrefix => "spf:"u8;

    /// <summary>Longest sender domain a pool key holds (a DNS name is at most 253 bytes).</summary>
    public const int MaxPoolDomainLength = 253;

    /// <summary>
    /// Writes the sender-pool key <c>spf:domain/sender/recipient</c> for a sender whose domain's SPF record
    /// authorises the client: every address the domain authorises shares it, so a pool's retry finds the triplet.
    /// </summary>
    public static int WritePoolTripletKey(ReadOnlySpan<byte> domain, PolicyRequest request, GreylistOptions options, Span<byte> destination)
    {
        if (domain.IsEmpty || domain.Length > MaxPoolDomainLength)
        {
            throw new ArgumentOutOfRangeException(nameof(domain), "a pool key needs a domain of 1 to 253 bytes");
        }

        Span<byte> key = options.Privacy ? stackalloc byte[MaxKeyLength] : destination;
        int n = Copy(PoolPrefix, key);
        n += Copy(domain, key[n..]);
        key[n++] = (byte)'/';
        n += SenderNormalizer.Normalize(request.Get(PolicyAttribute.Sender), key[n..]);
        return Finish(key, n, request.Get(PolicyAttribute.Recipient), options, destination);
    }

    /// <summary>
    /// Writes the triplet key for a sender that is already normalised (an imported key's part) and returns its
    /// length; the same bytes as <see cref="WriteTripletKey(PolicyRequest, ClientAddress, GreylistOptions, Span{byte})"/>.
    /// </summary>
    public static int WriteTripletKey(
        ClientAddress client, ReadOnlySpan<byte> normalisedSender, ReadOnlySpan<byte> recipient, GreylistOptions options, Span<byte> destination)
    {
        Span<byte> key = options.Privacy ? stackalloc byte[MaxKeyLength] : destination;
        int n = WriteNetwork(client, options, key);
        key[n++] = (byte)'/';
        normalisedSender.CopyTo(key[n..]);
        n += normalisedSender.Length;
        return Finish(key, n, recipient, options, destination);
    }

    /// <summary>Writes the AWL key: the exact client address in NetAddr's canonical (upper-case) form.</summary>
    public static int WriteClientKey(ClientAddress client, GreylistOptions options, Span<byte> destination)
    {
        Span<byte> text = stackalloc byte[ClientAddress.MaxTextLength];
        int n = client.WriteText(text);
        if (options.Privacy)
        {
            return WriteSha1Hex(text[..n], destination);
        }

        text[..n].CopyTo(destination);
        return n;
    }

    private static int Finish(Span<byte> key, int n, ReadOnlySpan<byte> recipient, GreylistOptions options, Span<byte> destination)
    {
        key[n++] = (byte)'/';
        recipient.CopyTo(key[n..]);
        n += recipient.Length;
        AsciiLower(key[..n]);
        return options.Privacy ? WriteSha1Hex(key[..n], destination) : n;
    }

    private static int WriteNetwork(ClientAddress client, GreylistOptions options, Span<byte> destination)
    {
        if (options.LookupByHost)
        {
            int n = client.WriteText(destination, lowerCase: true);
            destination[n++] = (byte)'/';
            client.BitLength.TryFormat(destination[n..], out int written);
            return n + written;
        }

        int prefix = client.IsIPv6 ? options.IPv6Cidr : options.IPv4Cidr;
        return client.Network(prefix).WriteText(destination, lowerCase: true);
    }

    private static int WriteSha1Hex(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // postgrey's --privacy keys are SHA-1; the same digest keeps its databases importable.
        SHA1.HashData(text, digest);
#pragma warning restore CA5350
        for (int i = 0; i < digest.Length; i++)
        {
            destination[2 * i] = HexDigit(digest[i] >> 4);
            destination[(2 * i) + 1] = HexDigit(digest[i] & 0xf);
        }

        return Sha1HexLength;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);

    // Perl's lc on byte strings: ASCII letters only, bytes >= 0x80 stay as they are.
    private static void AsciiLower(Span<byte> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is >= (byte)'A' and <= (byte)'Z')
            {
                text[i] += 32;
            }
        }
    }
}
