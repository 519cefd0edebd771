namespace Greyd.Storage;

/// <summary>
/// Where greyd keeps triplets and auto-whitelist counts. A call applies postgrey's rules
/// (<see cref="Greyd.Policy.AutoWhitelist"/>, then <see cref="Greyd.Policy.TripletMath"/>) atomically per record,
/// and returns only once the change would survive a crash of the process: whatever greyd answers for is never lost.
/// Keys are postgrey's key bytes (<see cref="Greyd.Policy.TripletKeyBuilder"/>); the store may hash them.
/// A call that cannot be answered throws, and the caller answers DUNNO: mail is never deferred on a guess.
/// </summary>
public interface IGreylistStore : IAsyncDisposable
{
    /// <summary>
    /// One request's store work: the AWL check; unless the client is whitelisted, one sighting of the triplet;
    /// and on the triplet's first pass, the AWL count. An empty <paramref name="clientKey"/> turns the AWL off.
    /// The keys are only read before the first await, so the caller may reuse them once the call returns.
    /// </summary>
    ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now);
}
