using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// How two views of one record combine: an imported record (postgrey's database) with a stored one, or this host's
/// record with the shared store's. Shared by every store so the rules are tested once. A triplet keeps its
/// earliest first sighting and latest last sighting, except that two records that have not passed never combine
/// into one that has: a sender must really have retried after the delay.
/// </summary>
public static class RecordMerge
{
    /// <summary>2000-01-01T00:00:00Z: no real sighting is older, so an older time is a broken record.</summary>
    public const long MinTime = 946684800;

    /// <summary>How far past now a record's last sighting may lie (a clock ahead elsewhere) and still be stored.</summary>
    public const long MaxAhead = 86400;

    /// <summary>The earliest first and latest last sighting, unless that would turn two unpassed records into a pass.</summary>
    public static TripletRecord Triplets(TripletRecord a, TripletRecord b, int delay)
    {
        var union = new TripletRecord(Math.Min(a.FirstSeen, b.FirstSeen), Math.Max(a.LastSeen, b.LastSeen));
        if (a.HasPassed(delay) || b.HasPassed(delay) || !union.HasPassed(delay))
        {
            return union;
        }

        // Neither passed: the record first seen earlier, whole (on a tie, the one seen last, which cannot pass either).
        return a.FirstSeen < b.FirstSeen || (a.FirstSeen == b.FirstSeen && a.LastSeen >= b.LastSeen) ? a : b;
    }

    /// <summary>The higher count and the later last count: the client is never counted again sooner than either says.</summary>
    public static ClientRecord Clients(ClientRecord a, ClientRecord b) =>
        new(Math.Max(a.Count, b.Count), Math.Max(a.LastSeen, b.LastSeen));

    /// <summary>
    /// Imports a triplet into the stored record (null when absent) at <paramref name="now"/>; <paramref name="result"/>
    /// is the record to store (the stored one when nothing changes).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The imported record cannot be a real one (see <see cref="IStoreAdmin"/>).</exception>
    public static ImportOutcome ImportTriplet(TripletRecord? stored, TripletRecord imported, long now, GreylistOptions options, out TripletRecord? result)
    {
        ArgumentNullException.ThrowIfNull(options);
        Check(imported, now);
        return Import(stored, imported, record => TripletMath.IsExpired(record, now, options), (a, b) => Triplets(a, b, options.Delay), out result);
    }

    /// <summary>Imports an AWL client into the stored record (null when absent) at <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The imported record cannot be a real one (see <see cref="IStoreAdmin"/>).</exception>
    public static ImportOutcome ImportClient(ClientRecord? stored, ClientRecord imported, long now, GreylistOptions options, out ClientRecord? result)
    {
        ArgumentNullException.ThrowIfNull(options);
        Check(imported, now);
        return Import(stored, imported, record => AutoWhitelist.IsExpired(record, now, options), Clients, out result);
    }

    /// <summary>Throws when an imported triplet cannot be a real one (see <see cref="IStoreAdmin"/>).</summary>
    public static void Check(TripletRecord imported, long now)
    {
        if (imported.FirstSeen < MinTime || imported.FirstSeen > imported.LastSeen || imported.LastSeen > now + MaxAhead)
        {
            throw new ArgumentOutOfRangeException(nameof(imported), imported, "a triplet's first sighting must be after 2000, not after its last, and its last no more than a day ahead");
        }
    }

    /// <summary>Throws when an imported client cannot be a real one (see <see cref="IStoreAdmin"/>).</summary>
    public static void Check(ClientRecord imported, long now)
    {
        if (imported.Count < 1 || imported.LastSeen < MinTime || imported.LastSeen > now + MaxAhead)
        {
            throw new ArgumentOutOfRangeException(nameof(imported), imported, "a client's count must be at least 1, and its last count after 2000 and no more than a day ahead");
        }
    }

    // An expired import changes nothing; an expired stored record counts as absent.
    private static ImportOutcome Import<T>(T? stored, T imported, Func<T, bool> expired, Func<T, T, T> merge, out T? result)
        where T : struct, IEquatable<T>
    {
        result = stored;
        if (expired(imported))
        {
            return ImportOutcome.Expired;
        }

        if (stored is not { } current || expired(current))
        {
            result = imported;
            return ImportOutcome.Added;
        }

        result = merge(current, imported);
        return result.Value.Equals(current) ? ImportOutcome.Kept : ImportOutcome.Merged;
    }
}
