using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>Tells compaction which records to drop: expired by greyd's rules, or damaged.</summary>
internal readonly struct ExpiryCompaction(GreylistOptions options, long now) : ICompactionFunctions<StoreKey, StoreValue>
{
    public bool IsDeleted(ref StoreKey key, ref StoreValue value)
    {
        if (!value.IsValid(key, now))
        {
            return true;
        }

        return key.IsClient
            ? AutoWhitelist.IsExpired(new ClientRecord(value.A, value.B), now, options)
            : TripletMath.IsExpired(new TripletRecord(value.A, value.B), now, options);
    }
}
