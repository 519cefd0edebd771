using FASTER.core;

namespace Greyd.Storage.Faster;

/// <summary>An explicit comparer so FASTER never reflects over the key type; the digest is already uniform.</summary>
internal sealed class StoreKeyComparer : IFasterEqualityComparer<StoreKey>
{
    public long GetHashCode64(ref StoreKey k) => (long)k.Lo;

    public bool Equals(ref StoreKey k1, ref StoreKey k2) => k1.Lo == k2.Lo && k1.Hi == k2.Hi;
}
