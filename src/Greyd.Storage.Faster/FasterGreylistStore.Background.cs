using System.Globalization;


namespace Greyd.Storage.Faster;

/// <summary>The background loops: journal fsync and catalogue writes, and the checkpoint and sweep schedule.</summary>
public sealed partial class FasterGreylistStore
{
    /// <summary>How soon a sweep postponed by a listing is tried again.</summary>
    private static readonly TimeSpan SweepRetry = TimeSpan.FromMinutes(1);

    // With a journal fsynced on every write this loop only writes the catalogue's names, once a second.
    private async Task SyncLoopAsync(CancellationToken stop)
    {
        var interval = _settings.JournalSyncInterval > TimeSpan.Zero ? _settings.JournalSyncInterval : TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _catalogue.Flush();

            Journal? journal;
            lock (_gate)
            {
                journal = _journal;
            }

            if (journal is { NeedsSync: true })
            {
                try
                {
                    long durable = journal.Sync();
                    // With -v: lets a test cut the journal back to what a power loss would keep.
                    _log.Write(StoreLogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"store: journal synced {journal.Path} {durable}"));
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
                    bool swept = Sweep();
                    nextSweep = Environment.TickCount64 + (long)(swept ? sweepInterval : SweepRetry).TotalMilliseconds;
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
