using System.Diagnostics;
using System.Globalization;
using FASTER.core;

namespace Greyd.Storage.Faster;

/// <summary>
/// The expiry sweep: compacts the log in chunks, dropping expired and damaged records, then the catalogue to the
/// names of the records left.
/// </summary>
public sealed partial class FasterGreylistStore
{
    /// <summary>How long a listing keeps the sweep off at most; one still running after that may miss records.</summary>
    private static readonly TimeSpan ListingHoldsSweep = TimeSpan.FromHours(1);

    /// <summary>Sweeps unless a listing is running (the sweep moves every live record); false when postponed.</summary>
    private bool Sweep()
    {
        var clock = Stopwatch.StartNew();
        long now = WallClock();
        long triplets = 0;
        long clients = 0;
        long before;
        long tail;
        // Names written from here on belong to records the live set below may not have yet: the compaction keeps them.
        long namesFrom = _catalogue.FlushedLength();
        var live = new List<UInt128>();
        try
        {
            lock (_gate)
            {
                // A listing whose reader never lets go (a bug) holds off the sweep for an hour, not for good.
                if (_functions.Listing is { } listing && Environment.TickCount64 - listing.Began < (long)ListingHoldsSweep.TotalMilliseconds)
                {
                    _log.Write(StoreLogLevel.Debug, "store: sweep postponed while a listing runs");
                    return false;
                }

                if (_closed || _kv is null || _session is null)
                {
                    return true;
                }

                before = TripletCount + ClientCount;
                live.Capacity = (int)Math.Clamp(before, 0, 1L << 26);
                tail = _kv.Log.TailAddress;

                // Compaction works on the read-only part only: make the whole log up to here read-only first.
                _kv.Log.ShiftReadOnlyAddress(tail, wait: true);
            }

            // Page-aligned chunks of about 4 MiB, releasing the lock in between so requests are never held up long.
            long chunk = Math.Max(_pageSize, 4L << 20);
            while (true)
            {
                lock (_gate)
                {
                    if (_closed || _kv is null || _session is null)
                    {
                        return true;
                    }

                    long begin = _kv.Log.BeginAddress;
                    if (begin >= tail)
                    {
                        break;
                    }

                    long until = Math.Min(tail, ((begin / _pageSize) * _pageSize) + chunk);
                    _session.Compact(until, CompactionType.Lookup, new ExpiryCompaction(_options, now));
                }
            }

            lock (_gate)
            {
                if (_closed || _kv is null)
                {
                    return true;
                }

                // The live records are now the copies past the old tail (plus a few written meanwhile).
                var log = _kv.Log;
                using (var iterator = log.Scan(tail, log.TailAddress))
                {
                    while (iterator.GetNext(out RecordInfo info))
                    {
                        if (info.Tombstone)
                        {
                            continue;
                        }

                        live.Add(KeyCatalogue.Number(iterator.GetKey()));
                        if (iterator.GetKey().IsClient)
                        {
                            clients++;
                        }
                        else
                        {
                            triplets++;
                        }
                    }
                }

                Volatile.Write(ref _tripletBase, triplets);
                Volatile.Write(ref _clientBase, clients);
                Volatile.Write(ref _functions.NewTriplets, 0);
                Volatile.Write(ref _functions.NewClients, 0);
                _dirty = true;
                _indexStale = true; // the log was rewritten: an old index would only make recovery replay all of it

            }

            UInt128[] names = [.. live];
            Array.Sort(names);
            _catalogue.Compact(_secret, names, namesFrom);
            _log.Write(StoreLogLevel.Debug, string.Create(CultureInfo.InvariantCulture,
                $"store: sweep kept {triplets} triplets and {clients} clients, dropped {Math.Max(0, before - triplets - clients)} in {clock.ElapsedMilliseconds} ms"));
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            _storeFaults.Write($"store: sweep failed, will retry: {e.Message}");
        }

        return true;
    }
}
