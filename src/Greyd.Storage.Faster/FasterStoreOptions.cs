namespace Greyd.Storage.Faster;

/// <summary>greyd's own settings for the persistent store (<c>--dbdir</c> and the durability intervals).</summary>
public sealed class FasterStoreOptions
{
    /// <summary>The store directory (<c>--dbdir</c>); greyd keeps everything of the store under it.</summary>
    public required string Directory { get; init; }

    /// <summary>The journal is fsynced at least this often; <see cref="TimeSpan.Zero"/> fsyncs every write.</summary>
    public TimeSpan JournalSyncInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a checkpoint is taken, and only when something changed.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often a checkpoint also writes the whole hash index (<see cref="IndexSize"/> bytes); the checkpoints in
    /// between write only the log, and recovery replays the log from the last index checkpoint.
    /// </summary>
    public TimeSpan IndexCheckpointInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often expired records are swept out of the log, whatever the traffic.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Bytes of the log kept in memory; older records are read back from disk.</summary>
    public long MemorySize { get; init; } = 32L << 20;

    /// <summary>Bytes of the hash index (64 bytes a bucket of 7 entries).</summary>
    public long IndexSize { get; init; } = 16L << 20;

    /// <summary>Bytes of one log segment file; tests make it small so that truncation deletes files.</summary>
    internal long SegmentSize { get; init; } = 1L << 26;
}
