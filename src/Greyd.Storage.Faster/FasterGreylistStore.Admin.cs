using System.Diagnostics;
using System.Runtime.CompilerServices;
using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>
/// The admin operations: peek (a FASTER Read, which changes nothing), delete (journaled like any change), import
/// (an RMW with <see cref="RecordMerge"/>'s rules), and listing the log a little at a time so requests go on.
/// </summary>
public sealed partial class FasterGreylistStore
{
    /// <summary>Records a listing looks at under the lock at most, before it lets requests in.</summary>
    private const int ListingBatch = 1024;

    /// <summary>The longest a listing holds the lock at once (reads from disk included).</summary>
    private static readonly long ListingSlice = Stopwatch.Frequency / 500;

    /// <summary>One listing at a time: each keeps the sweep off and holds a copy of the catalogue's digests.</summary>
    private readonly SemaphoreSlim _listingTurn = new(1, 1);

    private long _longestListingHold;

    /// <summary>For tests: the longest a listing has held the store's lock at once.</summary>
    internal TimeSpan LongestListingHold
    {
        get
        {
            lock (_gate)
            {
                return Stopwatch.GetElapsedTime(0, _longestListingHold);
            }
        }
    }

    public ValueTask<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now) =>
        ValueTask.FromResult(Peek(StoreKey.TripletDomain, tripletKey.Span, now) is { } entry ? entry.Triplet : (TripletRecord?)null);

    public ValueTask<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now) =>
        ValueTask.FromResult(Peek(StoreKey.ClientDomain, clientKey.Span, now) is { } entry ? entry.Client : (ClientRecord?)null);

    public ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey) => ValueTask.FromResult(Delete(StoreKey.TripletDomain, tripletKey.Span));

    public ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey) => ValueTask.FromResult(Delete(StoreKey.ClientDomain, clientKey.Span));

    public ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now)
    {
        RecordMerge.Check(record, now); // before the RMW: nothing may throw inside FASTER's callbacks
        return ValueTask.FromResult(Import(StoreKey.TripletDomain, tripletKey.Span, record.FirstSeen, record.LastSeen, now));
    }

    public ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now)
    {
        RecordMerge.Check(record, now);
        return ValueTask.FromResult(Import(StoreKey.ClientDomain, clientKey.Span, record.Count, record.LastSeen, now));
    }

    /// <summary>
    /// Lists the log from its begin address until it catches up with the tail, some records at a time under the
    /// lock, yielding only each key's latest record (its address is the one the hash index leads to). Keys come from
    /// the catalogue (null for a record it does not name). The sweep waits until the listing ends, since it moves
    /// every live record; a record an update moves meanwhile is listed once, where the scan first meets it. Dispose
    /// the enumerator (<c>await foreach</c> does): until then the next listing waits, and the sweep for up to an hour.
    /// </summary>
    public async IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _listingTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var listing = new StoreListing(now, WallClock(), _options);
        CatalogueNames? names = null;
        try
        {
            // A sweep holds the maintenance lock throughout: this waits out one that runs, and the next sees the listing.
            await _maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                lock (_gate)
                {
                    ObjectDisposedException.ThrowIf(_closed || _kv is null, this);
                    listing.Cursor = _kv.Log.BeginAddress;
                    _functions.Listing = listing;
                }
            }
            finally
            {
                _maintenance.Release();
            }

            names = _catalogue.OpenNames(_secret);
            var batch = new List<(StoreKey Key, StoreValue Value)>(ListingBatch);
            bool more = true;
            while (more)
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Clear();
                more = NextListed(listing, batch);
                bool refreshed = false;
                foreach (var (key, value) in batch)
                {
                    byte[]? name = names?.Find(key);
                    if (name is null && names is not null && !refreshed)
                    {
                        // Most likely a record created since the listing began: its name may be written by now.
                        names.Refresh();
                        refreshed = true;
                        name = names.Find(key);
                    }

                    yield return new StoreEntry(key.IsClient, name, value.A, value.B);
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (_functions.Listing == listing)
                {
                    _functions.Listing = null;
                }
            }

            names?.Dispose();
            _listingTurn.Release();
        }
    }

    private StoreEntry? Peek(byte domain, ReadOnlySpan<byte> rawKey, long now)
    {
        var key = StoreKey.Compute(_secret, domain, rawKey);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed || _session is null, this);
            var found = Read(ref key, now, out _);
            if (!found.Found || !found.Stored.IsValid(key, Math.Max(WallClock(), now)))
            {
                return null;
            }

            var entry = new StoreEntry(key.IsClient, null, found.Stored.A, found.Stored.B);
            return entry.IsExpired(now, _options) ? null : entry;
        }
    }

    private bool Delete(byte domain, ReadOnlySpan<byte> rawKey)
    {
        var key = StoreKey.Compute(_secret, domain, rawKey);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed || _session is null, this);
            long wall = WallClock();
            var found = Read(ref key, wall, out _);
            if (!found.Found)
            {
                return false;
            }

            try
            {
                var status = _session!.Delete(ref key);
                if (status.IsPending)
                {
                    _session.CompletePending(wait: true);
                }
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                throw new IOException($"store delete failed: {e.Message}", e);
            }

            _functions.Listing?.Replaced(key, found.Address, found.Stored);
            bool valid = found.Stored.IsValid(key, wall);
            if (valid)
            {
                Forgotten(key);
            }

            // The catalogue keeps the name until the sweep finds the record gone.
            _dirty = true;
            AppendJournal(key, default, deleted: true);
            return valid;
        }
    }

    /// <summary>Takes a deleted record off the approximate counts (under the lock, as the counts' writers are).</summary>
    private void Forgotten(in StoreKey key)
    {
        if (key.IsClient)
        {
            _functions.NewClients--;
        }
        else
        {
            _functions.NewTriplets--;
        }
    }

    private ImportOutcome Import(byte domain, ReadOnlySpan<byte> rawKey, long a, long b, long now)
    {
        var key = StoreKey.Compute(_secret, domain, rawKey);
        var input = new StoreInput { Op = StoreOp.Import, Now = now, Wall = WallClock(), Record = new StoreValue(key, a, b) };
        Execute(ref key, ref input, out var output, rawKey);
        return output.Outcome;
    }

    /// <summary>
    /// A FASTER Read of the key's latest record, under <see cref="_gate"/>; changes nothing. <paramref name="fromDisk"/>
    /// says whether it had to wait for the disk.
    /// </summary>
    private StoreOutput Read(ref StoreKey key, long now, out bool fromDisk)
    {
        var input = new StoreInput { Op = StoreOp.Peek, Now = now, Wall = WallClock() };
        StoreOutput output = default;
        try
        {
            var status = _session!.Read(ref key, ref input, ref output);
            fromDisk = status.IsPending;
            if (fromDisk)
            {
                _session.CompletePending(wait: true);
                output = _functions.PendingOutput;
            }
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            throw new IOException($"store read failed: {e.Message}", e);
        }

        return output;
    }

    /// <summary>
    /// Adds the next records to list to <paramref name="batch"/>, looking at the log under the lock for at most
    /// <see cref="ListingSlice"/> or one read from disk. False once the scan has caught up with the tail.
    /// </summary>
    private bool NextListed(StoreListing listing, List<(StoreKey Key, StoreValue Value)> batch)
    {
        lock (_gate)
        {
            long entered = Stopwatch.GetTimestamp();
            try
            {
                return NextListedLocked(listing, batch, entered + ListingSlice);
            }
            finally
            {
                _longestListingHold = Math.Max(_longestListingHold, Stopwatch.GetTimestamp() - entered);
            }
        }
    }

    // NextListed under the lock, until the batch is full or the clock reaches `until`.
    private bool NextListedLocked(StoreListing listing, List<(StoreKey Key, StoreValue Value)> batch, long until)
    {
        ObjectDisposedException.ThrowIf(_closed || _kv is null || _session is null, this);
        var log = _kv.Log;
        while (batch.Count < ListingBatch && Stopwatch.GetTimestamp() < until)
        {
            if (listing.Scan is null)
            {
                long tail = log.TailAddress;
                if (listing.Cursor >= tail)
                {
                    return false;
                }

                // Records written since the last scan began: new keys, and updates moved to the tail.
                listing.Scan = log.Scan(Math.Max(listing.Cursor, log.BeginAddress), tail);
            }

            var scan = listing.Scan;
            if (!scan.GetNext(out RecordInfo info))
            {
                listing.Cursor = Math.Max(listing.Cursor, scan.EndAddress);
                listing.EndScan();
                continue;
            }

            listing.Cursor = scan.NextAddress;
            var key = scan.GetKey();
            var value = scan.GetValue();
            if (info.Tombstone || !listing.Lists(key, value) || listing.Moved.Contains(key))
            {
                continue;
            }

            var latest = Read(ref key, listing.Now, out bool fromDisk);
            if (latest.Found && latest.Address == scan.CurrentAddress)
            {
                batch.Add((key, value));
            }

            if (fromDisk)
            {
                // One wait on the disk per turn at most, as for a request: the disk may be slow.
                break;
            }
        }

        return true;
    }
}
