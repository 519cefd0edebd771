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

    /// <summary>Deletes a triplet; true when a record was there (even one expired but not yet swept).</summary>
    ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey);

    /// <summary>Deletes an AWL client; true when a record was there (even one expired but not yet swept).</summary>
    ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey);

    /// <summary>
    /// Merges a triplet from elsewhere (postgrey's database) by <see cref="RecordMerge.ImportTriplet"/>: stored when
    /// absent or expired; when present, a pass wins over no pass, then the earlier first-seen; never turns a triplet
    /// that has not passed into one that has. A record expired at <paramref name="now"/> changes nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The record cannot be a real one: first-seen before 2000 or after last-seen, or last-seen more than a day after
    /// <paramref name="now"/>.
    /// </exception>
    ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now);

    /// <summary>Merges an AWL client (<see cref="RecordMerge.ImportClient"/>): the higher count and the later last-seen win.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The record cannot be a real one: a count below 1, or last-seen before 2000 or more than a day after <paramref name="now"/>.
    /// </exception>
    ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now);

    /// <summary>
    /// Every live (unexpired at <paramref name="now"/>) record, in no particular order, each once. A record that
    /// stays unchanged while the listing runs is listed; one created, changed or deleted meanwhile may or may not be.
    /// </summary>
    IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, CancellationToken cancellationToken = default);
}
