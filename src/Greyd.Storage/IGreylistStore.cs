namespace Greyd.Storage;

/// <summary>
/// Where greyd keeps triplets and auto-whitelist counts. Each call applies one of the pure rules of
/// <see cref="Greyd.Policy.TripletMath"/> or <see cref="Greyd.Policy.AutoWhitelist"/> atomically, and returns only
/// once the change would survive a crash of the process: whatever greyd answers for is never lost.
/// Keys are postgrey's key bytes (<see cref="Greyd.Policy.TripletKeyBuilder"/>); the store may hash them.
/// A call that cannot be answered throws, and the caller answers DUNNO: mail is never deferred on a guess.
/// </summary>
public interface IGreylistStore : IAsyncDisposable
{
    /// <summary>Records one sighting of a triplet at <paramref name="now"/> and returns what the decision needs.</summary>
    ValueTask<Greyd.Policy.TripletObservation> ObserveTripletAsync(ReadOnlySpan<byte> tripletKey, long now);

    /// <summary>The AWL check before the triplet stage: true when the client is auto-whitelisted.</summary>
    ValueTask<bool> CheckClientAsync(ReadOnlySpan<byte> clientKey, long now);

    /// <summary>Counts a first pass for the client; returns the new count, or 0 when it was counted within the hour.</summary>
    ValueTask<long> CountClientAsync(ReadOnlySpan<byte> clientKey, long now);
}
