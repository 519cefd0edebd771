using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// What greyd's admin commands need from a store beyond requests: read without changing, list, delete, import.
/// Keys are postgrey's key bytes, as for <see cref="IGreylistStore"/>. None of these may hold up requests for
/// more than a moment; every change is as durable as a request's.
/// </summary>
public interface IStoreAdmin
{
    /// <summary>The triplet's record, or null when absent or expired at <paramref name="now"/>. Changes nothing.</summary>
    ValueTask<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now);

    /// <summary>The client's AWL record, or null when absent or expired at <paramref name="now"/>. Changes nothing.</summary>
    ValueTask<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now);

    /// <summary>Deletes a triplet; true when it was there.</summary>
    ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey);

    /// <summary>Deletes an AWL client; true when it was there.</summary>
    ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey);

    /// <summary>
    /// Merges a triplet from elsewhere (postgrey's database): stored when absent; when present, a pass wins over
    /// no pass, then the earlier first-seen; never turns a triplet that has not passed into one that has.
    /// </summary>
    ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now);

    /// <summary>Merges an AWL client: the higher count and the later last-seen win.</summary>
    ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now);

    /// <summary>Every live (unexpired at <paramref name="now"/>) record, in no particular order.</summary>
    IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, CancellationToken cancellationToken = default);
}
