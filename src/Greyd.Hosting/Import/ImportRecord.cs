using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Import;

/// <summary>One record to import, keyed as greyd keys it today.</summary>
/// <param name="IsClient">True for an AWL client, false for a triplet.</param>
/// <param name="Key">greyd's key bytes (a SHA-1 hex with --privacy).</param>
/// <param name="A">First-seen for a triplet, pass count for a client.</param>
/// <param name="B">Last-seen.</param>
public readonly record struct ImportRecord(bool IsClient, byte[] Key, long A, long B)
{
    public TripletRecord Triplet => new(A, B);

    public ClientRecord Client => new(A, B);

    /// <summary>Merges the record into the store.</summary>
    public ValueTask<ImportOutcome> WriteAsync(IStoreAdmin store, long now) =>
        IsClient ? store.ImportClientAsync(Key, Client, now) : store.ImportTripletAsync(Key, Triplet, now);
}
