using System.Runtime.InteropServices;

namespace Greyd.Storage.Faster;

/// <summary>
/// A stored record: first/last seen for a triplet, count/last seen for a client, and a check over key and
/// fields, because FASTER's log has no checksum of its own and a damaged record must read as absent.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct StoreValue
{
    public const int Size = 24;

    /// <summary>2000-01-01T00:00:00Z: anything earlier is damage, not a real sighting.</summary>
    public const long MinTime = 946684800;

    public long A;
    public long B;
    public ulong Check;

    public StoreValue(in StoreKey key, long a, long b)
    {
        A = a;
        B = b;
        Check = ComputeCheck(key, a, b);
    }

    /// <summary>A cheap 64-bit mix of key and fields; enough to catch torn pages and stray bytes.</summary>
    public static ulong ComputeCheck(in StoreKey key, long a, long b)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        h = Mix(h, key.Lo);
        h = Mix(h, key.Hi);
        h = Mix(h, (ulong)a);
        h = Mix(h, (ulong)b);
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 29;
        return h | 1; // never zero, so a zeroed record never passes
    }

    /// <summary>True when the check matches and the fields make sense at wall-clock <paramref name="wall"/>.</summary>
    public readonly bool IsValid(in StoreKey key, long wall)
    {
        if (Check != ComputeCheck(key, A, B))
        {
            return false;
        }

        long max = wall + 86400;
        if (B < MinTime || B > max)
        {
            return false;
        }

        return key.IsClient ? A >= 1 : A >= MinTime && A <= B;
    }

    private static ulong Mix(ulong h, ulong v)
    {
        h ^= v * 0x87C37B91114253D5UL;
        h = (h << 31) | (h >> 33);
        return h * 0x4CF5AD432745937FUL;
    }
}
