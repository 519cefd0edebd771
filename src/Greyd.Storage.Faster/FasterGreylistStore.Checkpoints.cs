using System.Diagnostics;
using System.Globalization;
using FASTER.core;

namespace Greyd.Storage.Faster;

/// <summary>Checkpoints: journal rotation, log-only or index checkpoints, the manifest, and pruning what no generation needs.</summary>
public sealed partial class FasterGreylistStore
{
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
        withIndex |= IndexDue();
        lock (_gate)
        {
            if (_closed || _kv is null || (!force && !_dirty))
            {
                return;
            }

            // FASTER does not recover from a write error inside a checkpoint (its state machine stalls), so a
            // checkpoint starts only when the space it needs is there; the journal keeps every change meanwhile.
            if (SpaceShortage(withIndex) is { } shortage)
            {
                CheckpointFailed(shortage);
                return;
            }

            Journal next;
            try
            {
                next = Journal.Create(_journalDir, _nextJournalSeq);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CheckpointFailed($"store: checkpoint postponed, cannot start a new journal file: {e.Message}");
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

            CheckpointSucceeded();
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

            CheckpointFailed($"store: checkpoint failed, will retry: {e.Message}");
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

        _files.TrashCheckpoints(StoreDirectory.IndexCheckpoints, manifest.IndexTokens());
        _files.TrashCheckpoints(StoreDirectory.LogCheckpoints, manifest.LogTokens());
        _files.EmptyTrash();
        _device?.TruncateRetained(manifest.RetainedBeginAddress);
    }
}
