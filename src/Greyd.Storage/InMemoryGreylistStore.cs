using System.Text;
using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// A store that keeps everything in memory and loses it on exit: for tests, and for running on when the store
/// directory cannot be written at all.
/// </summary>
public sealed class InMemoryGreylistStore(GreylistOptions options) : IRecordStore, IStoreHealth
{
    private readonly Dictionary<string, TripletRecord> _triplets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientRecord> _clients = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public int TripletCount
    {
        get
        {
            lock (_gate)
            {
                return _triplets.Count;
            }
        }
    }

    public StoreHealth GetHealth()
    {
        lock (_gate)
        {
            return new StoreHealth("memory", _triplets.Count, _clients.Count, 0, null, 0, 0, Degraded: false);
        }
    }

    public ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now) =>
        RecordStoreRequests.ObserveAsync(this, clientKey, tripletKey, now, options);

    public ValueTask<TripletObservation> ObserveTripletAsync(ReadOnlySpan<byte> tripletKey, long now)
    {
        string key = Encoding.Latin1.GetString(tripletKey);
        lock (_gate)
        {
            TripletRecord? old = _triplets.TryGetValue(key, out var record) ? record : null;
            var observation = TripletMath.Observe(old, now, options);
            _triplets[key] = observation.Stored;
            return ValueTask.FromResult(observation);
        }
    }

    public ValueTask<bool> CheckClientAsync(ReadOnlySpan<byte> clientKey, long now)
    {
        string key = Encoding.Latin1.GetString(clientKey);
        lock (_gate)
        {
            ClientRecord? old = _clients.TryGetValue(key, out var record) ? record : null;
            bool whitelisted = AutoWhitelist.Check(old, now, options, out var updated);
            if (updated is { } changed)
            {
                _clients[key] = changed;
            }

            return ValueTask.FromResult(whitelisted);
        }
    }

    public ValueTask<long> CountClientAsync(ReadOnlySpan<byte> clientKey, long now)
    {
        string key = Encoding.Latin1.GetString(clientKey);
        lock (_gate)
        {
            ClientRecord? old = _clients.TryGetValue(key, out var record) ? record : null;
            if (AutoWhitelist.Count(old, now, options) is not { } counted)
            {
                return ValueTask.FromResult(0L);
            }

            _clients[key] = counted;
            return ValueTask.FromResult(counted.Count);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
