namespace Greyd.Storage;

/// <summary>
/// What a store reports about itself for greyd's status line: its mode, sizes, the last checkpoint that completed,
/// and how many store faults it has met (the same counts the rate-limited error lines summarise).
/// </summary>
/// <param name="Mode">"faster" (persistent) or "memory" (nothing survives a restart).</param>
/// <param name="Triplets">Approximate number of triplets held.</param>
/// <param name="Clients">Approximate number of auto-whitelist clients held.</param>
/// <param name="DiskBytes">Bytes the store directory uses on disk (0 in memory mode).</param>
/// <param name="LastCheckpoint">When the last checkpoint completed (this run, or the one recovered), or null if none.</param>
/// <param name="CheckpointErrors">Checkpoints that failed since the start.</param>
/// <param name="WriteErrors">Failed journal writes and fsyncs and other store faults since the start.</param>
/// <param name="Degraded">True while the last checkpoint or journal write failed (changes may not survive a crash).</param>
/// <param name="Shared">The shared store, when greyd uses one.</param>
public readonly record struct StoreHealth(
    string Mode,
    long Triplets,
    long Clients,
    long DiskBytes,
    DateTimeOffset? LastCheckpoint,
    long CheckpointErrors,
    long WriteErrors,
    bool Degraded,
    SharedStoreHealth? Shared = null);
