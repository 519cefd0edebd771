using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// A greylist store that several greyd hosts share (Redis, Valkey, Garnet). It merges what the hosts see: the
/// earliest first sighting of a triplet wins, a pass stays a pass, and a client's AWL count grows at most hourly.
/// Calls throw <see cref="SharedStoreException"/> with a short reason when the store cannot answer.
/// </summary>
public interface ISharedStore : IAsyncDisposable
{
    /// <summary>The store's address for logs, never with its password.</summary>
    string Name { get; }

    /// <summary>
    /// Connects and checks that the store can run greyd's requests. Returns what the server is (such as
    /// "Redis 7.0.15"), or null when it does not say, and a note for the administrator, or null.
    /// </summary>
    Task<(string? Server, string? Note)> ConnectAsync();

    /// <summary>
    /// One request's store work (as <see cref="IGreylistStore.ObserveRequestAsync"/>), taking in this host's own
    /// view from its local store when there is one: a triplet it saw earlier keeps that first sighting, and a
    /// client it auto-whitelists is whitelisted here too. That way an outage or an emptied shared store costs no
    /// sender a second delay for what this host already saw. The keys are copied before the call returns.
    /// </summary>
    Task<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now, RequestObservation? local);

    /// <summary>Runs greyd's request on a key of its own (expiring in seconds): completes when the store could serve again.</summary>
    Task ProbeAsync();

    /// <summary>
    /// The shared store's record of a triplet merged with this host's, <paramref name="local"/>, by
    /// <see cref="RecordMerge.Triplets"/>; null when neither holds one unexpired at <paramref name="now"/>. Changes nothing.
    /// </summary>
    Task<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now, TripletRecord? local);

    /// <summary>The shared store's AWL record of a client merged with this host's by <see cref="RecordMerge.Clients"/>. Changes nothing.</summary>
    Task<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now, ClientRecord? local);

    /// <summary>Deletes a triplet from the shared store; true when it was there.</summary>
    Task<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey);

    /// <summary>Deletes an AWL client from the shared store; true when it was there.</summary>
    Task<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey);

    /// <summary>Merges an imported triplet atomically by <see cref="RecordMerge.ImportTriplet"/>'s rules (the caller checked it).</summary>
    Task<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now);

    /// <summary>Merges an imported AWL client atomically by <see cref="RecordMerge.ImportClient"/>'s rules (the caller checked it).</summary>
    Task<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now);
}
