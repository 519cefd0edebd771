using System.Diagnostics;
using System.Globalization;
using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>
/// greyd's persistent store: FASTER KV for the records, greyd's own journal for every change between checkpoints,
/// a manifest naming the checkpoints greyd trusts, and a catalogue of the keys behind the digests, for listings.
/// Every answered change is in the journal (page cache) before the call returns, fsynced at least every
/// <see cref="FasterStoreOptions.JournalSyncInterval"/>.
/// The caller holds the directory's <see cref="StoreLock"/>.
/// This file holds the request path; opening, checkpoints, the sweep, the admin operations and the background loops
/// have their own files.
/// </summary>
public sealed partial class FasterGreylistStore : IRecordStore, IStoreHealth, IStoreAdmin
{
    private readonly FasterStoreOptions _settings;
    private readonly GreylistOptions _options;
    private readonly IStoreLog _log;
    private readonly string _dir;
    private readonly string _journalDir;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _maintenance = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly RateLimitedLog _journalFaults;
    private readonly RateLimitedLog _checkpointFaults;
    private readonly RateLimitedLog _storeFaults;
    private readonly RateLimitedLog _damagedRecords;
    private readonly RateLimitedLog _catalogueFaults;
    private readonly KeyCatalogue _catalogue;
    private readonly StoreFunctions _functions;
    private readonly StoreDirectory _files;

    private byte[] _secret = [];
    private RetainingDevice? _device;
    private FasterKV<StoreKey, StoreValue>? _kv;
    private ClientSession<StoreKey, StoreValue, StoreInput, StoreOutput, Empty, StoreFunctions>? _session;
    private Journal? _journal;
    private long _nextJournalSeq = 1;
    private Manifest? _manifest;
    private long _indexSize;
    private long _pageSize;
    private long _tripletBase;
    private long _clientBase;
    private long _damagedCount;
    private long _diskReads;
    private bool _dirty;
    private bool _indexStale;
    private long _indexDue;
    private bool _closed;
    private int _disposed;
    private long _lastCheckpoint;
    private long _checkpointFailures;
    private long _journalFailures;
    private Task _syncLoop = Task.CompletedTask;
    private Task _maintenanceLoop = Task.CompletedTask;

    private FasterGreylistStore(FasterStoreOptions settings, GreylistOptions options, IStoreLog log)
    {
        _settings = settings;
        _options = options;
        _log = log;
        _dir = Path.GetFullPath(settings.Directory);
        _journalDir = Path.Combine(_dir, StoreDirectory.JournalDir);
        _functions = new StoreFunctions(options);
        _journalFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _checkpointFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _storeFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _damagedRecords = new RateLimitedLog(log, StoreLogLevel.Warning, TimeSpan.FromMinutes(1));
        _files = new StoreDirectory(_dir, _storeFaults);
        _catalogueFaults = new RateLimitedLog(log, StoreLogLevel.Warning, TimeSpan.FromMinutes(1));
        _catalogue = new KeyCatalogue(_dir, _catalogueFaults);
    }

    /// <summary>Approximate number of triplets held (expired ones count until the next sweep).</summary>
    public long TripletCount => Volatile.Read(ref _tripletBase) + Volatile.Read(ref _functions.NewTriplets);

    /// <summary>Approximate number of auto-whitelist clients held.</summary>
    public long ClientCount => Volatile.Read(ref _clientBase) + Volatile.Read(ref _functions.NewClients);

    /// <summary>For tests: how many requests had to wait for a read from disk.</summary>
    internal long DiskReads => Interlocked.Read(ref _diskReads);

    /// <summary>For tests: the end of the log, which only writes move.</summary>
    internal long TailAddress
    {
        get
        {
            lock (_gate)
            {
                return _kv?.Log.TailAddress ?? 0;
            }
        }
    }

    /// <summary>
    /// Opens (and recovers) the store in <see cref="FasterStoreOptions.Directory"/>. A damaged store is moved aside
    /// and greyd starts empty; this throws only when the directory cannot be used at all.
    /// </summary>
    public static FasterGreylistStore Open(FasterStoreOptions store, GreylistOptions options, IStoreLog log)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var result = new FasterGreylistStore(store, options, log);
        try
        {
            result.Recover();
        }
        catch
        {
            result.CloseFaster();
            throw;
        }

        result._syncLoop = Task.Run(() => result.SyncLoopAsync(result._stop.Token));
        result._maintenanceLoop = Task.Run(() => result.MaintenanceLoopAsync(result._stop.Token));
        return result;
    }

    /// <inheritdoc/>
    public ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now)
    {
        // The same steps as RecordStoreRequests, without an async state machine: every step here is synchronous.
        bool awl = !clientKey.IsEmpty && _options.AutoWhitelistClients > 0;
        if (awl && CheckClient(clientKey.Span, now))
        {
            return ValueTask.FromResult(RequestObservation.Whitelisted);
        }

        var triplet = ObserveTriplet(tripletKey.Span, now);
        long count = awl && GreylistPolicy.Decide(triplet, now, _options).CountsForAutoWhitelist
            ? CountClient(clientKey.Span, now)
            : 0;
        return ValueTask.FromResult(new RequestObservation(false, triplet, count));
    }

    public ValueTask<TripletObservation> ObserveTripletAsync(ReadOnlySpan<byte> tripletKey, long now) => ValueTask.FromResult(ObserveTriplet(tripletKey, now));

    private TripletObservation ObserveTriplet(ReadOnlySpan<byte> tripletKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.TripletDomain, tripletKey);
        var input = new StoreInput { Op = StoreOp.ObserveTriplet, Now = now, Wall = WallClock() };
        Execute(ref key, ref input, out var output, tripletKey);
        return output.Observation;
    }

    public ValueTask<bool> CheckClientAsync(ReadOnlySpan<byte> clientKey, long now) => ValueTask.FromResult(CheckClient(clientKey, now));

    private bool CheckClient(ReadOnlySpan<byte> clientKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.ClientDomain, clientKey);
        var input = new StoreInput { Op = StoreOp.CheckClient, Now = now, Wall = WallClock() };
        Execute(ref key, ref input, out var output);
        return output.Whitelisted;
    }

    public ValueTask<long> CountClientAsync(ReadOnlySpan<byte> clientKey, long now) => ValueTask.FromResult(CountClient(clientKey, now));

    private long CountClient(ReadOnlySpan<byte> clientKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.ClientDomain, clientKey);
        var input = new StoreInput { Op = StoreOp.CountClient, Now = now, Wall = WallClock() };
        Execute(ref key, ref input, out var output, clientKey);
        return output.Count;
    }

    /// <summary>Takes a checkpoint now, whether or not anything changed (also the final one on shutdown).</summary>
    public async Task CheckpointAsync()
    {
        await _maintenance.WaitAsync().ConfigureAwait(false);
        try
        {
            await CheckpointCoreAsync(force: true).ConfigureAwait(false);
        }
        finally
        {
            _maintenance.Release();
        }
    }

    /// <summary>
    /// Drops expired and damaged records (by the wall clock) with a compaction of the whole log; the disk space
    /// comes back when the next checkpoint truncates the log. Does nothing while a listing runs.
    /// </summary>
    public async Task SweepAsync()
    {
        await _maintenance.WaitAsync().ConfigureAwait(false);
        try
        {
            Sweep();
        }
        finally
        {
            _maintenance.Release();
        }
    }

    /// <summary>For tests: holds off checkpoints and sweeps (requests go on) until the result is disposed.</summary>
    internal async Task<IDisposable> PauseMaintenanceAsync()
    {
        await _maintenance.WaitAsync().ConfigureAwait(false);
        return new MaintenancePause(_maintenance);
    }

    /// <summary>Stops the background work, takes a final checkpoint and closes the journal durably.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_syncLoop, _maintenanceLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _maintenance.WaitAsync().ConfigureAwait(false);
        try
        {
            bool dirty;
            lock (_gate)
            {
                dirty = _dirty;
            }

            // The last checkpoint includes the index, so the next start replays no log beyond it.
            if (dirty || _manifest is { Current.HasOwnIndex: false })
            {
                await CheckpointCoreAsync(force: true, withIndex: true).ConfigureAwait(false);
            }

            lock (_gate)
            {
                _closed = true;
                CloseJournal(_journal, deleteIfEmpty: true);
                _journal = null;
                // A listing's scan may be reading ahead from the log file: it ends before the file closes.
                _functions.Listing?.EndScan();
            }

            CloseFaster();
            _catalogue.Dispose();
        }
        finally
        {
            _maintenance.Release();
        }

        _stop.Dispose();
    }

    private static long WallClock() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>
    /// Runs one RMW and journals its change, all under the lock so the journal order is the store order. The key's
    /// <paramref name="name"/> (postgrey's key bytes) goes to the catalogue when the record is created or imported.
    /// </summary>
    // A failed update throws: the caller answers DUNNO (fail open) rather than greylisting mail it cannot judge.
    private void Execute(ref StoreKey key, ref StoreInput input, out StoreOutput output, ReadOnlySpan<byte> name = default)
    {
        output = default;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed || _session is null, this);
            try
            {
                var status = _session!.RMW(ref key, ref input, ref output);
                if (status.IsPending)
                {
                    Interlocked.Increment(ref _diskReads);
                    _session.CompletePending(wait: true);
                    output = _functions.PendingOutput;
                }
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                throw new IOException($"store update failed: {e.Message}", e);
            }

            if (output.Invalid)
            {
                _damagedCount++;
                _damagedRecords.Write($"store: ignored a damaged record ({_damagedCount} so far)");
            }

            if (output.Changed)
            {
                _dirty = true;
                AppendJournal(key, output.Stored);
            }

            // An import names the record even when it was there: a store older than the catalogue learns its keys.
            if (output.Created || (input.Op == StoreOp.Import && output.Outcome != ImportOutcome.Expired))
            {
                _catalogue.Add(key.IsClient ? StoreKey.ClientDomain : StoreKey.TripletDomain, name);
            }
        }
    }

    private void AppendJournal(in StoreKey key, in StoreValue value, bool deleted = false)
    {
        if (_journal is null)
        {
            _journalFaults.Write("store: journal is not open; recent changes survive only a clean shutdown");
            return;
        }

        try
        {
            if (deleted)
            {
                _journal.AppendDelete(key);
            }
            else
            {
                _journal.Append(key, value);
            }

            if (_settings.JournalSyncInterval <= TimeSpan.Zero)
            {
                _journal.Sync();
            }

            if (_journalFailures != 0)
            {
                JournalRecovered();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _journalFailures++;
            _journalFaults.Write($"store: journal write to {_journal.Path} failed, answers go on but changes since the last checkpoint may not survive a crash: {e.Message}");
        }
    }
}
