using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Greyd.Storage.Faster;

/// <summary>
/// A 16-byte keyed digest of postgrey's key bytes: fixed size and blittable (no serializers under AOT), and with a
/// secret key so clients cannot flood one hash bucket. The lowest bit tells triplets from clients.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct StoreKey : IEquatable<StoreKey>
{
    public const int Size = 16;
    public const byte TripletDomain = (byte)'t';
    public const byte ClientDomain = (byte)'c';

    public ulong Lo;
    public ulong Hi;

    public StoreKey(ulong lo, ulong hi)
    {
        Lo = lo;
        Hi = hi;
    }

    /// <summary>True for an auto-whitelist client, false for a triplet.</summary>
    public readonly bool IsClient => (Hi & 1) != 0;

    /// <summary>
    /// SipHash-2-4-128(secret, domain || key) for a 16-byte secret; HMAC-SHA256(secret, domain || key) truncated to
    /// 16 bytes for the 32-byte secret of a store made by greyd 0.1. The domain is kept in the lowest bit.
    /// </summary>
    public static StoreKey Compute(ReadOnlySpan<byte> secret, byte domain, ReadOnlySpan<byte> key)
    {
        int length = key.Length + 1;
        byte[]? rented = null;
        Span<byte> buffer = length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer[0] = domain;
        key.CopyTo(buffer[1..]);
        ulong lo, hi;
        if (secret.Length == SipHash128.KeySize)
        {
            (lo, hi) = SipHash128.Hash(secret, buffer[..length]);
        }
        else
        {
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(secret, buffer[..length], mac);
            lo = BinaryPrimitives.ReadUInt64LittleEndian(mac);
            hi = BinaryPrimitives.ReadUInt64LittleEndian(mac[8..]);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        hi = (hi & ~1UL) | (domain == ClientDomain ? 1UL : 0UL);
        return new StoreKey(lo, hi);
    }

    public readonly bool Equals(StoreKey other) => Lo == other.Lo && Hi == other.Hi;

    public override readonly bool Equals(object? obj) => obj is StoreKey other && Equals(other);

    public override readonly int GetHashCode() => (int)Lo;

    public static bool operator ==(StoreKey left, StoreKey right) => left.Equals(right);

    public static bool operator !=(StoreKey left, StoreKey right) => !left.Equals(right);
}
