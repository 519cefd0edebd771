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
}
