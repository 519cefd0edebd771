using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>Tells compaction which records to drop: expired by greyd's rules, or damaged.</summary>
internal readonly struct ExpiryCompaction(GreylistOptions options, long now) : ICompactionFunctions<StoreKey, StoreValue>
{
    public bool IsDeleted(ref StoreKey key, ref StoreValue value) =>
        !value.IsValid(key, now) || new StoreEntry(key.IsClient, null, value.A, value.B).IsExpired(now, options);
}
