using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>
/// greyd's persistent store: FASTER KV for the records, greyd's own journal for every change between checkpoints,
/// and a manifest naming the checkpoints greyd trusts. Every answered change is in the journal (page cache) before
/// the call returns, fsynced at least every <see cref="FasterStoreOptions.JournalSyncInterval"/>.
/// The caller holds the directory's <see cref="StoreLock"/>.
/// </summary>
public sealed class FasterGreylistStore : IGreylistStore
{
    private const string SecretFile = "secret";
    private const string JournalDir = "journal";
    private const string CheckpointDir = "checkpoints";
    private const string LogDir = "log";
    private const string TrashDir = "trash";
    private const string IndexCheckpoints = "index-checkpoints";
    private const string LogCheckpoints = "cpr-checkpoints";

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
    private readonly StoreFunctions _functions;

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
    private bool _dirty;
    private bool _indexStale;
    private long _indexDue;
    private bool _closed;
    private int _disposed;
    private Task _syncLoop = Task.CompletedTask;
    private Task _maintenanceLoop = Task.CompletedTask;

    private FasterGreylistStore(FasterStoreOptions settings, GreylistOptions options, IStoreLog log)
    {
        _settings = settings;
        _options = options;
        _log = log;
        _dir = Path.GetFullPath(settings.Directory);
        _journalDir = Path.Combine(_dir, JournalDir);
        _functions = new StoreFunctions(options);
        _journalFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _checkpointFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _storeFaults = new RateLimitedLog(log, StoreLogLevel.Error, TimeSpan.FromMinutes(1));
        _damagedRecords = new RateLimitedLog(log, StoreLogLevel.Warning, TimeSpan.FromMinutes(1));
    }

    /// <summary>Approximate number of triplets held (expired ones count until the next sweep).</summary>
    public long TripletCount => Volatile.Read(ref _tripletBase) + Volatile.Read(ref _functions.NewTriplets);

    /// <summary>Approximate number of auto-whitelist clients held.</summary>
    public long ClientCount => Volatile.Read(ref _clientBase) + Volatile.Read(ref _functions.NewClients);

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

        result._syncLoop = store.JournalSyncInterval > TimeSpan.Zero
            ? Task.Run(() => result.SyncLoopAsync(result._stop.Token))
            : Task.CompletedTask;
        result._maintenanceLoop = Task.Run(() => result.MaintenanceLoopAsync(result._stop.Token));
        return result;
    }

    public ValueTask<TripletObservation> ObserveTripletAsync(ReadOnlySpan<byte> tripletKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.TripletDomain, tripletKey);
        var input = new StoreInput { Op = StoreOp.ObserveTriplet, Now = now, Wall = WallClock() };
        if (!TryExecute(ref key, ref input, out var output))
        {
            // Fail open to what an empty store would answer: greylist as new rather than fail the request.
            return ValueTask.FromResult(TripletMath.Observe(null, now, _options));
        }

        return ValueTask.FromResult(output.Observation);
    }

    public ValueTask<bool> CheckClientAsync(ReadOnlySpan<byte> clientKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.ClientDomain, clientKey);
        var input = new StoreInput { Op = StoreOp.CheckClient, Now = now, Wall = WallClock() };
        return ValueTask.FromResult(TryExecute(ref key, ref input, out var output) && output.Whitelisted);
    }

    public ValueTask<long> CountClientAsync(ReadOnlySpan<byte> clientKey, long now)
    {
        var key = StoreKey.Compute(_secret, StoreKey.ClientDomain, clientKey);
        var input = new StoreInput { Op = StoreOp.CountClient, Now = now, Wall = WallClock() };
        return ValueTask.FromResult(TryExecute(ref key, ref input, out var output) ? output.Count : 0L);
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
    /// comes back when the next checkpoint truncates the log.
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
            }

            CloseFaster();
        }
        finally
        {
            _maintenance.Release();
        }

        _stop.Dispose();
    }

    private static long WallClock() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Runs one RMW and journals its change, all under the lock so the journal order is the store order.</summary>
    private bool TryExecute(ref StoreKey key, ref StoreInput input, out StoreOutput output)
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
                    _session.CompletePending(wait: true);
                    output = _functions.PendingOutput;
                }
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                _storeFaults.Write($"store: update failed, answering as if the record were absent: {e.Message}");
                return false;
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
        }

        return true;
    }

    private void AppendJournal(in StoreKey key, in StoreValue value)
    {
        if (_journal is null)
        {
            _journalFaults.Write("store: journal is not open; recent changes survive only a clean shutdown");
            return;
        }

        try
        {
            _journal.Append(key, value);
            if (_settings.JournalSyncInterval <= TimeSpan.Zero)
            {
                _journal.Sync();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _journalFaults.Write($"store: journal write to {_journal.Path} failed: {e.Message}");
        }
    }

    // ---- recovery -------------------------------------------------------------------------------------------------

    private void Recover()
    {
        var clock = Stopwatch.StartNew();
        CreateDirectory(_dir);
        CreateDirectory(_journalDir);
        CreateDirectory(Path.Combine(_dir, CheckpointDir));
        CreateDirectory(Path.Combine(_dir, LogDir));
        EmptyTrash();

        var journals = Journal.List(_journalDir);
        var manifest = Manifest.TryLoad(_dir, out string? damage);
        bool journalUsable = true;
        byte[]? secret = LoadSecret(out string? secretDamage);
        if (secretDamage is not null)
        {
            damage = secretDamage;
            journalUsable = false; // the journal's keys were made with the lost secret
        }
        else if (secret is null && (manifest is not null || journals.Count > 0))
        {
            damage = $"{Path.Combine(_dir, SecretFile)} is missing";
            journalUsable = false;
        }

        Generation? recovered = null;
        _indexSize = manifest?.IndexSize ?? _settings.IndexSize;
        _pageSize = manifest?.PageSize ?? ChoosePageSize(_settings.MemorySize);
        if (damage is null && manifest is null)
        {
            if (journals.Count > 0 && journals[0].Seq != 1)
            {
                damage = $"manifest is missing but the journal starts at {journals[0].Seq}";
            }
            else
            {
                // Leftovers of a first checkpoint that never got its manifest: the journal holds all of it.
                TrashCheckpoints(IndexCheckpoints, keep: []);
                TrashCheckpoints(LogCheckpoints, keep: []);
                TrashLogFiles();
            }
        }
        else if (damage is null && manifest is not null)
        {
            var errors = new List<string>();
            foreach (var generation in manifest.Previous is { } previous ? new[] { manifest.Current, previous } : [manifest.Current])
            {
                CreateFaster();
                try
                {
                    _kv!.Recover(generation.IndexToken, generation.LogToken);
                    recovered = generation;
                    break;
                }
                catch (Exception e)
                {
                    errors.Add($"checkpoint {generation.LogToken}: {e.Message}");
                    CloseFaster();
                }
            }

            if (recovered is null)
            {
                damage = string.Join("; ", errors);
            }
            else if (recovered != manifest.Current)
            {
                _log.Write(StoreLogLevel.Error, $"store: {errors[0]}; recovered the previous checkpoint {recovered.Value.LogToken} instead");
                // The damaged generation is no base for new ones: its log region is overwritten from here on.
                manifest = manifest with { Current = recovered.Value, Previous = null };
            }
        }

        string? aside = null;
        if (damage is not null)
        {
            CloseFaster();
            aside = MoveAside(includeJournal: !journalUsable);
            manifest = null;
            _indexSize = _settings.IndexSize;
            _pageSize = ChoosePageSize(_settings.MemorySize);
            journals = Journal.List(_journalDir);
            if (!journalUsable)
            {
                secret = null;
            }
        }

        _secret = secret ?? CreateSecret();
        _manifest = manifest;
        _indexDue = Environment.TickCount64 + (long)IndexDueIn(manifest).TotalMilliseconds;
        if (_kv is null)
        {
            CreateFaster();
        }

        _session = _kv!.For(_functions).NewSession<StoreFunctions>();
        _tripletBase = recovered?.Triplets ?? 0;
        _clientBase = recovered?.Clients ?? 0;

        long firstSeq = recovered?.JournalSeq ?? 0;
        long replayed = Replay(journals, firstSeq);
        long lastSeq = journals.Count > 0 ? journals[^1].Seq : 0;
        _nextJournalSeq = Math.Max(Math.Max(lastSeq + 1, firstSeq), 1);
        _journal = Journal.Create(_journalDir, _nextJournalSeq++);
        Native.SyncDirectory(_journalDir);
        _dirty = replayed > 0;

        long ms = clock.ElapsedMilliseconds;
        if (aside is not null)
        {
            _log.Write(StoreLogLevel.Critical, string.Create(CultureInfo.InvariantCulture,
                $"store: damaged store moved to {aside} ({damage}); started empty and replayed {replayed} journal records, {TripletCount} triplets and {ClientCount} clients"));
            // A checkpoint now gives the new store a manifest, so the next start does not see damage again.
            CheckpointCoreAsync(force: true).GetAwaiter().GetResult();
        }
        else if (recovered is { } generation)
        {
            _log.Write(StoreLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"store: recovered {TripletCount} triplets and {ClientCount} clients from checkpoint {generation.LogToken} and {replayed} journal records in {ms} ms"));
        }
        else if (replayed > 0)
        {
            _log.Write(StoreLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"store: recovered {TripletCount} triplets and {ClientCount} clients from {replayed} journal records in {ms} ms"));
        }
        else
        {
            _log.Write(StoreLogLevel.Info, $"store: new store in {_dir}");
        }
    }

    /// <summary>Upserts every journal record of files from <paramref name="firstSeq"/> on, in order.</summary>
    private long Replay(List<(long Seq, string Path)> journals, long firstSeq)
    {
        long replayed = 0;
        long wall = WallClock();
        foreach (var (seq, path) in journals)
        {
            if (seq < firstSeq)
            {
                continue;
            }

            List<(StoreKey Key, StoreValue Value)> records;
            long badOffset;
            try
            {
                records = Journal.Read(path, out badOffset);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Write(StoreLogLevel.Error, $"store: journal {path} unreadable, skipped: {e.Message}");
                continue;
            }

            if (badOffset >= 0)
            {
                _log.Write(StoreLogLevel.Warning, string.Create(CultureInfo.InvariantCulture,
                    $"store: journal {path} ends in a torn or damaged record at byte {badOffset}; replayed the {records.Count} records before it"));
            }

            foreach (var (key, value) in records)
            {
                var k = key;
                var input = new StoreInput { Op = StoreOp.Replay, Now = wall, Wall = wall, Replay = value };
                StoreOutput output = default;
                var status = _session!.RMW(ref k, ref input, ref output);
                if (status.IsPending)
                {
                    _session.CompletePending(wait: true);
                }

                replayed++;
            }
        }

        return replayed;
    }

    private void CreateFaster()
    {
        long memory = Math.Max(_settings.MemorySize, _pageSize * 4);
        _device = new RetainingDevice(Devices.CreateLogDevice(Path.Combine(_dir, LogDir, "hlog.log"), preallocateFile: false,
            deleteOnClose: false, capacity: -1, recoverDevice: true, useIoCompletionPort: false, disableFileBuffering: false));
        var settings = new FasterKVSettings<StoreKey, StoreValue>
        {
            IndexSize = Math.Max(_indexSize, 64L << 10),
            LogDevice = _device,
            PageSize = _pageSize,
            SegmentSize = _settings.SegmentSize,
            MemorySize = memory,
            CheckpointDir = Path.Combine(_dir, CheckpointDir),
            RemoveOutdatedCheckpoints = false,
            TryRecoverLatest = false,
            EqualityComparer = new StoreKeyComparer(),
        };
        _kv = new FasterKV<StoreKey, StoreValue>(settings);
    }

    private void CloseFaster()
    {
        try
        {
            _session?.Dispose();
            _kv?.Dispose();
            _device?.Dispose();
        }
        catch (Exception e)
        {
            _storeFaults.Write($"store: closing FASTER failed: {e.Message}");
        }

        _session = null;
        _kv = null;
        _device = null;
    }

    /// <summary>Pages of at most 1 MiB and at least 16 of them in memory; the page size is kept in the manifest.</summary>
    private static long ChoosePageSize(long memorySize)
    {
        long page = 1L << 20;
        while (page > 4096 && page * 16 > memorySize)
        {
            page >>= 1;
        }

        return page;
    }

    private byte[]? LoadSecret(out string? damage)
    {
        damage = null;
        string path = Path.Combine(_dir, SecretFile);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] secret = File.ReadAllBytes(path);
        if (secret.Length != 32)
        {
            damage = string.Create(CultureInfo.InvariantCulture, $"{path} has {secret.Length} bytes instead of 32");
            return null;
        }

        return secret;
    }

    /// <summary>A new random key for the record digests, written atomically with mode 0600.</summary>
    private byte[] CreateSecret()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        string path = Path.Combine(_dir, SecretFile);
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(secret);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        Native.SyncDirectory(_dir);
        return secret;
    }

    /// <summary>Moves damaged state into DIR/corrupt-&lt;UTC&gt; (never deletes it) and recreates empty directories.</summary>
    private string MoveAside(bool includeJournal)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string aside = Path.Combine(_dir, "corrupt-" + stamp);
        for (int i = 1; Directory.Exists(aside); i++)
        {
            aside = Path.Combine(_dir, string.Create(CultureInfo.InvariantCulture, $"corrupt-{stamp}-{i}"));
        }

        CreateDirectory(aside);
        var names = new List<string> { CheckpointDir, LogDir, Manifest.FileName };
        if (includeJournal)
        {
            names.Add(JournalDir);
            names.Add(SecretFile);
        }

        foreach (string name in names)
        {
            string from = Path.Combine(_dir, name);
            string to = Path.Combine(aside, name);
            if (Directory.Exists(from))
            {
                Directory.Move(from, to);
            }
            else if (File.Exists(from))
            {
                File.Move(from, to);
            }
        }

        CreateDirectory(Path.Combine(_dir, CheckpointDir));
        CreateDirectory(Path.Combine(_dir, LogDir));
        CreateDirectory(_journalDir);
        Native.SyncDirectory(_dir);
        return aside;
    }

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    // ---- checkpoints ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Rotates the journal, takes a FoldOver checkpoint (with the hash index only when <see cref="IndexDue"/>), writes
    /// the manifest, then prunes checkpoints, journal files and log segments older than the previous generation.
    /// Failures are logged and retried at the next interval.
    /// </summary>
    private async Task CheckpointCoreAsync(bool force, bool withIndex = false)
    {
        Journal? old;
        long covered;
        long triplets;
        long clients;
        long begin;
        lock (_gate)
        {
            if (_closed || _kv is null || (!force && !_dirty))
            {
                return;
            }

            Journal next;
            try
            {
                next = Journal.Create(_journalDir, _nextJournalSeq);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _checkpointFaults.Write($"store: checkpoint postponed, cannot start a new journal file: {e.Message}");
                return;
            }

            old = _journal;
            _journal = next;
            covered = _nextJournalSeq++;
            _dirty = false;
            triplets = TripletCount;
            clients = ClientCount;
            // Only compaction moves BeginAddress, and it runs under the same maintenance lock as this.
            begin = _kv.Log.BeginAddress;
        }

        withIndex |= IndexDue();
        var clock = Stopwatch.StartNew();
        try
        {
            CloseJournal(old, deleteIfEmpty: false);
            Native.SyncDirectory(_journalDir);
            var (ok, token) = await TakeCheckpointAsync(withIndex).ConfigureAwait(false);
            if (!ok)
            {
                throw new InvalidOperationException("FASTER did not start the checkpoint (another one is running)");
            }

            var generation = withIndex
                ? new Generation(token, token, covered, triplets, clients, begin, WallClock())
                : new Generation(token, _manifest!.Current.IndexToken, covered, triplets, clients, begin, _manifest.Current.IndexTaken);
            var manifest = new Manifest(_indexSize, _pageSize, generation, _manifest?.Current);
            manifest.Write(_dir);
            _manifest = manifest;
            if (withIndex)
            {
                _indexStale = false;
                _indexDue = Environment.TickCount64 + (long)IndexInterval.TotalMilliseconds;
            }

            Prune(manifest);
            _log.Write(StoreLogLevel.Debug, string.Create(CultureInfo.InvariantCulture,
                $"store: checkpoint {token} ({(withIndex ? "index and log" : "log only")}) of {triplets} triplets and {clients} clients in {clock.ElapsedMilliseconds} ms"));
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _dirty = true;
            }

            _checkpointFaults.Write($"store: checkpoint failed, will retry: {e.Message}");
        }
    }

    private TimeSpan IndexInterval => _settings.IndexCheckpointInterval > TimeSpan.Zero ? _settings.IndexCheckpointInterval : TimeSpan.FromHours(1);

    /// <summary>
    /// An index checkpoint rewrites the whole hash table, so it is taken only for a new store, after a sweep (which
    /// rewrote the log), and once <see cref="FasterStoreOptions.IndexCheckpointInterval"/> has passed.
    /// </summary>
    private bool IndexDue() => _manifest is null || _indexStale || Environment.TickCount64 >= _indexDue;

    /// <summary>How long until the recovered generation's index is due for renewal, by the age it has in the manifest.</summary>
    private TimeSpan IndexDueIn(Manifest? manifest)
    {
        if (manifest is null)
        {
            return TimeSpan.Zero;
        }

        long age = WallClock() - manifest.Current.IndexTaken;
        return age < 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Clamp(IndexInterval.TotalSeconds - age, 0, IndexInterval.TotalSeconds));
    }

    /// <summary>
    /// Starts a FoldOver checkpoint (full, or of the log only) and, while it runs, refreshes the idle session now and
    /// then: FASTER's state machine waits for every session to acknowledge each phase (FASTER #153, #227).
    /// </summary>
    private async Task<(bool Success, Guid Token)> TakeCheckpointAsync(bool withIndex)
    {
        var checkpoint = withIndex
            ? _kv!.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask()
            : _kv!.TakeHybridLogCheckpointAsync(CheckpointType.FoldOver).AsTask();
        var deadline = Environment.TickCount64 + (long)TimeSpan.FromMinutes(5).TotalMilliseconds;
        while (!checkpoint.IsCompleted)
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("checkpoint did not complete within 5 minutes");
            }

            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_session is null, this);
                _session.Refresh();
            }

            await Task.WhenAny(checkpoint, Task.Delay(5)).ConfigureAwait(false);
        }

        return await checkpoint.ConfigureAwait(false);
    }

    private void CloseJournal(Journal? journal, bool deleteIfEmpty)
    {
        if (journal is null)
        {
            return;
        }

        try
        {
            journal.Sync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _journalFaults.Write($"store: fsync of journal {journal.Path} failed: {e.Message}");
        }

        journal.Dispose();
        try
        {
            if (deleteIfEmpty && new FileInfo(journal.Path).Length == 0)
            {
                File.Delete(journal.Path);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Keeps what the two generations of the manifest need: their index and log checkpoints, the journal files
    /// from the older one on, and the log segments from the lower of their BeginAddresses on.
    /// </summary>
    private void Prune(Manifest manifest)
    {
        if (manifest.Previous is { } previous)
        {
            foreach (var (seq, path) in Journal.List(_journalDir))
            {
                if (seq < previous.JournalSeq)
                {
                    File.Delete(path);
                }
            }
        }

        TrashCheckpoints(IndexCheckpoints, manifest.IndexTokens());
        TrashCheckpoints(LogCheckpoints, manifest.LogTokens());
        EmptyTrash();
        _device?.TruncateRetained(manifest.RetainedBeginAddress);
    }

    /// <summary>
    /// Renames unwanted checkpoint directories into DIR/trash first (atomic), so a crash never leaves a
    /// half-deleted checkpoint where FASTER could find it.
    /// </summary>
    private void TrashCheckpoints(string kind, HashSet<Guid> keep)
    {
        string trash = Path.Combine(_dir, TrashDir);
        string parent = Path.Combine(_dir, CheckpointDir, kind);
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (string path in Directory.EnumerateDirectories(parent))
        {
            string name = Path.GetFileName(path);
            if (Guid.TryParse(name, out var token) && keep.Contains(token))
            {
                continue;
            }

            CreateDirectory(trash);
            Directory.Move(path, Path.Combine(trash, kind + "-" + name + "-" + Guid.NewGuid().ToString("N")));
        }
    }

    private void TrashLogFiles()
    {
        string log = Path.Combine(_dir, LogDir);
        string trash = Path.Combine(_dir, TrashDir);
        foreach (string path in Directory.EnumerateFiles(log))
        {
            CreateDirectory(trash);
            File.Move(path, Path.Combine(trash, Path.GetFileName(path) + "-" + Guid.NewGuid().ToString("N")));
        }

        EmptyTrash();
    }

    private void EmptyTrash()
    {
        string trash = Path.Combine(_dir, TrashDir);
        try
        {
            if (Directory.Exists(trash))
            {
                Directory.Delete(trash, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _storeFaults.Write($"store: cannot empty {trash}: {e.Message}");
        }
    }

    // ---- sweep ----------------------------------------------------------------------------------------------------

    private void Sweep()
    {
        var clock = Stopwatch.StartNew();
        long now = WallClock();
        long triplets = 0;
        long clients = 0;
        long before;
        long tail;
        try
        {
            lock (_gate)
            {
                if (_closed || _kv is null || _session is null)
                {
                    return;
                }

                before = TripletCount + ClientCount;
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
                        return;
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
                    return;
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

            _log.Write(StoreLogLevel.Debug, string.Create(CultureInfo.InvariantCulture,
                $"store: sweep kept {triplets} triplets and {clients} clients, dropped {Math.Max(0, before - triplets - clients)} in {clock.ElapsedMilliseconds} ms"));
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            _storeFaults.Write($"store: sweep failed, will retry: {e.Message}");
        }
    }

    // ---- background loops -----------------------------------------------------------------------------------------

    private async Task SyncLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_settings.JournalSyncInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Journal? journal;
            lock (_gate)
            {
                journal = _journal;
            }

            if (journal is { NeedsSync: true })
            {
                try
                {
                    journal.Sync();
                }
                catch (ObjectDisposedException)
                {
                    // Rotated meanwhile; the checkpoint fsyncs the old file before closing it.
                }
                catch (IOException e)
                {
                    _journalFaults.Write($"store: fsync of journal {journal.Path} failed: {e.Message}");
                }
            }
        }
    }

    private async Task MaintenanceLoopAsync(CancellationToken stop)
    {
        var checkpointInterval = _settings.CheckpointInterval > TimeSpan.Zero ? _settings.CheckpointInterval : TimeSpan.FromSeconds(60);
        var sweepInterval = _settings.SweepInterval > TimeSpan.Zero ? _settings.SweepInterval : TimeSpan.FromHours(1);
        long nextCheckpoint = Environment.TickCount64 + (long)checkpointInterval.TotalMilliseconds;
        long nextSweep = Environment.TickCount64 + (long)sweepInterval.TotalMilliseconds;
        while (!stop.IsCancellationRequested)
        {
            long wait = Math.Max(0, Math.Min(nextCheckpoint, nextSweep) - Environment.TickCount64);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), stop).ConfigureAwait(false);
                await _maintenance.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (Environment.TickCount64 >= nextSweep)
                {
                    Sweep();
                    nextSweep = Environment.TickCount64 + (long)sweepInterval.TotalMilliseconds;
                }

                if (Environment.TickCount64 >= nextCheckpoint)
                {
                    await CheckpointCoreAsync(force: false).ConfigureAwait(false);
                    nextCheckpoint = Environment.TickCount64 + (long)checkpointInterval.TotalMilliseconds;
                }
            }
            catch (Exception e)
            {
                _storeFaults.Write($"store: background maintenance failed: {e.Message}");
            }
            finally
            {
                _maintenance.Release();
            }
        }
    }
}
