using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>One live record, as <see cref="IStoreAdmin.EnumerateAsync"/> lists it.</summary>
/// <param name="IsClient">True for an auto-whitelist client, false for a triplet.</param>
/// <param name="Key">postgrey's key bytes (a SHA-1 hex with --privacy), or null when the store does not know them.</param>
/// <param name="A">First-seen for a triplet, pass count for a client.</param>
/// <param name="B">Last-seen.</param>
public readonly record struct StoreEntry(bool IsClient, byte[]? Key, long A, long B)
{
    public TripletRecord Triplet => new(A, B);

    public ClientRecord Client => new(A, B);

    /// <summary>True when the record no longer counts at <paramref name="now"/> (by its kind's rule).</summary>
    public bool IsExpired(long now, GreylistOptions options) =>
        IsClient ? AutoWhitelist.IsExpired(Client, now, options) : TripletMath.IsExpired(Triplet, now, options);
}
