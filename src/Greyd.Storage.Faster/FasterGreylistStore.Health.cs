using System.Globalization;

namespace Greyd.Storage.Faster;

/// <summary>Health: the status greyd reports on SIGUSR1, and the lines that say a store fault has gone away.</summary>
public sealed partial class FasterGreylistStore
{
    public StoreHealth GetHealth()
    {
        long last = Interlocked.Read(ref _lastCheckpoint);
        bool degraded;
        lock (_gate)
        {
            degraded = _journalFailures != 0 || _journal is null;
        }

        degraded |= Interlocked.Read(ref _checkpointFailures) != 0;
        return new StoreHealth(
            "faster",
            TripletCount,
            ClientCount,
            DiskUsage(_dir),
            last == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(last),
            _checkpointFaults.Total,
            _journalFaults.Total + _storeFaults.Total,
            degraded);
    }

    /// <summary>Called under <see cref="_gate"/> when a journal write worked after failures.</summary>
    private void JournalRecovered()
    {
        long failures = _journalFailures;
        _journalFailures = 0;
        _log.Write(StoreLogLevel.Notice, string.Create(CultureInfo.InvariantCulture,
            $"store: journal writes to {_journal?.Path} work again after {failures} failed"));
    }

    /// <summary>Records a completed checkpoint; says so once when it follows failed ones.</summary>
    private void CheckpointSucceeded()
    {
        Interlocked.Exchange(ref _lastCheckpoint, WallClock());
        long failures = Interlocked.Exchange(ref _checkpointFailures, 0);
        if (failures != 0)
        {
            _log.Write(StoreLogLevel.Notice, string.Create(CultureInfo.InvariantCulture,
                $"store: checkpoint completed again after {failures} failed attempts; the store is durable again"));
        }
    }

    private void CheckpointFailed(string message)
    {
        Interlocked.Increment(ref _checkpointFailures);
        _checkpointFaults.Write(message);
    }

    /// <summary>
    /// Null when the store's file system has room for a checkpoint (the hash index when it is due, the log not yet
    /// on disk plus a page, and 1 MiB for the journal and manifest); otherwise the reason to postpone it.
    /// Called under <see cref="_gate"/>.
    /// </summary>
    private string? SpaceShortage(bool withIndex)
    {
        long free;
        try
        {
            free = new DriveInfo(_dir).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // cannot tell: let the checkpoint try
        }

        long needed = (withIndex ? Math.Max(_indexSize, 64L << 10) : 0)
            + Math.Max(0, _kv!.Log.TailAddress - _kv.Log.ReadOnlyAddress) + _pageSize + (1L << 20);
        return free >= needed
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"store: checkpoint postponed, {free >> 10} KiB free in {_dir} but it needs about {needed >> 10} KiB; will retry (answers go on, the journal keeps the changes)");
    }

    private static long DiskUsage(string directory)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                total += file.Length;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return total;
    }
}
