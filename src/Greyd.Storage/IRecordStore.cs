namespace Greyd.Storage;

/// <summary>
/// A store that applies each record rule on its own (greyd's embedded stores); <see cref="RecordStoreRequests"/>
/// composes them into one request.
/// </summary>
public interface IRecordStore : IGreylistStore
{
    /// <summary>Records one sighting of a triplet at <paramref name="now"/> and returns what the decision needs.</summary>
    ValueTask<Greyd.Policy.TripletObservation> ObserveTripletAsync(ReadOnlySpan<byte> tripletKey, long now);

    /// <summary>The AWL check before the triplet stage: true when the client is auto-whitelisted.</summary>
    ValueTask<bool> CheckClientAsync(ReadOnlySpan<byte> clientKey, long now);

    /// <summary>Counts a first pass for the client; returns the new count, or 0 when it was counted within the hour.</summary>
    ValueTask<long> CountClientAsync(ReadOnlySpan<byte> clientKey, long now);
}
