namespace Greyd.Hosting.SenderPools;

/// <summary>How an SPF check for a sender pool ended.</summary>
public enum PoolCheckStatus
{
    /// <summary>check_host() gave its result within the time budget.</summary>
    Done,
    /// <summary>The time budget ran out; the request used the client-network key.</summary>
    TimedOut,
    /// <summary>No check was made (checks are paused while DNS keeps timing out).</summary>
    Skipped,
}
