using System.Runtime.CompilerServices;
using System.Text;
using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// A store that keeps everything in memory and loses it on exit: for tests, and for running on when the store
/// directory cannot be written at all.
/// </summary>
public sealed class InMemoryGreylistStore(GreylistOptions options) : IRecordStore, IStoreHealth, IStoreAdmin
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

    public ValueTask<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now)
    {
        string key = Encoding.Latin1.GetString(tripletKey.Span);
        lock (_gate)
        {
            return ValueTask.FromResult<TripletRecord?>(
                _triplets.TryGetValue(key, out var record) && !TripletMath.IsExpired(record, now, options) ? record : null);
        }
    }

    public ValueTask<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now)
    {
        string key = Encoding.Latin1.GetString(clientKey.Span);
        lock (_gate)
        {
            return ValueTask.FromResult<ClientRecord?>(
                _clients.TryGetValue(key, out var record) && !AutoWhitelist.IsExpired(record, now, options) ? record : null);
        }
    }

    public ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey)
    {
        string key = Encoding.Latin1.GetString(tripletKey.Span);
        lock (_gate)
        {
            return ValueTask.FromResult(_triplets.Remove(key));
        }
    }

    public ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey)
    {
        string key = Encoding.Latin1.GetString(clientKey.Span);
        lock (_gate)
        {
            return ValueTask.FromResult(_clients.Remove(key));
        }
    }

    public ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now) =>
        Import(_triplets, tripletKey.Span, old => (RecordMerge.ImportTriplet(old, record, now, options, out var merged), merged));

    public ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now) =>
        Import(_clients, clientKey.Span, old => (RecordMerge.ImportClient(old, record, now, options, out var merged), merged));

    private ValueTask<ImportOutcome> Import<T>(Dictionary<string, T> records, ReadOnlySpan<byte> rawKey, Func<T?, (ImportOutcome, T?)> merge)
        where T : struct
    {
        string key = Encoding.Latin1.GetString(rawKey);
        lock (_gate)
        {
            var (outcome, merged) = merge(records.TryGetValue(key, out var stored) ? stored : null);
            if (merged is { } changed)
            {
                records[key] = changed;
            }

            return ValueTask.FromResult(outcome);
        }
    }

    /// <summary>Lists a copy taken under the lock: a store kept in memory is small enough to copy at once.</summary>
    public async IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (string Key, StoreEntry Entry)[] records;
        lock (_gate)
        {
            records =
            [
                .. _triplets.Select(p => (p.Key, new StoreEntry(false, null, p.Value.FirstSeen, p.Value.LastSeen))),
                .. _clients.Select(p => (p.Key, new StoreEntry(true, null, p.Value.Count, p.Value.LastSeen))),
            ];
        }

        foreach (var (key, entry) in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!entry.IsExpired(now, options))
            {
                yield return entry with { Key = Encoding.Latin1.GetBytes(key) };
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
