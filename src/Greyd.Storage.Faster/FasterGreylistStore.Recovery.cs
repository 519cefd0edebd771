using System.Diagnostics;
using System.Globalization;
using FASTER.core;

namespace Greyd.Storage.Faster;

/// <summary>Opening: recover the manifest's generation (or the previous one), replay the journal, else move the damage aside.</summary>
public sealed partial class FasterGreylistStore
{
    private void Recover()
    {
        var clock = Stopwatch.StartNew();
        _files.CreateLayout();
        _files.EmptyTrash();

        var journals = Journal.List(_journalDir);
        var manifest = Manifest.TryLoad(_dir, out string? damage);
        bool journalUsable = true;
        byte[]? secret = _files.LoadSecret(out string? secretDamage);
        if (secretDamage is not null)
        {
            damage = secretDamage;
            journalUsable = false; // the journal's keys were made with the lost secret
        }
        else if (secret is null && (manifest is not null || journals.Count > 0))
        {
            damage = $"{Path.Combine(_dir, StoreDirectory.SecretFile)} is missing";
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
                _files.TrashCheckpoints(StoreDirectory.IndexCheckpoints, keep: []);
                _files.TrashCheckpoints(StoreDirectory.LogCheckpoints, keep: []);
                _files.TrashLogFiles();
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
            aside = _files.MoveAside(includeJournal: !journalUsable);
            manifest = null;
            _indexSize = _settings.IndexSize;
            _pageSize = ChoosePageSize(_settings.MemorySize);
            journals = Journal.List(_journalDir);
            if (!journalUsable)
            {
                secret = null;
            }
        }

        _secret = secret ?? _files.CreateSecret();
        _manifest = manifest;
        if (manifest is not null)
        {
            // The manifest is rewritten by every checkpoint: its mtime is when the recovered one completed.
            _lastCheckpoint = new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(_dir, Manifest.FileName))).ToUnixTimeSeconds();
        }

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
            _log.Write(StoreLogLevel.Notice, string.Create(CultureInfo.InvariantCulture,
                $"store: recovered {TripletCount} triplets and {ClientCount} clients from checkpoint {generation.LogToken} and {replayed} journal records in {ms} ms"));
        }
        else if (replayed > 0)
        {
            _log.Write(StoreLogLevel.Notice, string.Create(CultureInfo.InvariantCulture,
                $"store: recovered {TripletCount} triplets and {ClientCount} clients from {replayed} journal records in {ms} ms"));
        }
        else
        {
            _log.Write(StoreLogLevel.Notice, $"store: new store in {_dir}");
        }
    }

    /// <summary>Applies every journal record (a change or a deletion) of files from <paramref name="firstSeq"/> on, in order.</summary>
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

            List<(StoreKey Key, StoreValue Value, bool Deleted)> records;
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

            foreach (var (key, value, deleted) in records)
            {
                var k = key;
                var input = new StoreInput { Op = StoreOp.Replay, Now = wall, Wall = wall, Record = value };
                StoreOutput output = default;
                var status = deleted ? _session!.Delete(ref k) : _session!.RMW(ref k, ref input, ref output);
                if (status.IsPending)
                {
                    _session.CompletePending(wait: true);
                }
                else if (deleted && status.Found)
                {
                    Forgotten(k); // a record still in memory; one in the checkpoint counts until the next sweep
                }

                replayed++;
            }
        }

        return replayed;
    }

    private void CreateFaster()
    {
        long memory = Math.Max(_settings.MemorySize, _pageSize * 4);
        _device = new RetainingDevice(Devices.CreateLogDevice(Path.Combine(_dir, StoreDirectory.LogDir, "hlog.log"), preallocateFile: false,
            deleteOnClose: false, capacity: -1, recoverDevice: true, useIoCompletionPort: false, disableFileBuffering: false));
        var settings = new FasterKVSettings<StoreKey, StoreValue>
        {
            IndexSize = Math.Max(_indexSize, 64L << 10),
            LogDevice = _device,
            PageSize = _pageSize,
            SegmentSize = _settings.SegmentSize,
            MemorySize = memory,
            CheckpointDir = Path.Combine(_dir, StoreDirectory.CheckpointDir),
            RemoveOutdatedCheckpoints = false,
            TryRecoverLatest = false,
            EqualityComparer = new StoreKeyComparer(),
        };
        _kv = new FasterKV<StoreKey, StoreValue>(settings);
        _functions.Log = _kv.Log;
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
        _functions.Log = null;
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
}
