namespace Greyd.Hosting.Observers;

/// <summary>
/// Sees every request's outcome (metrics, the delay report). Called on the request path, so an implementation
/// only counts: no I/O, no locks held for long, no exceptions.
/// </summary>
public interface IDecisionObserver
{
    /// <summary>A request that reached a decision (every outcome, including whitelists and unusable requests).</summary>
    void OnDecision(in DecisionEvent decision);

    /// <summary>Every answered request: its time in greyd (Stopwatch ticks) and whether an internal fault answered DUNNO.</summary>
    void OnRequestDone(long elapsedTicks, bool fault);

    /// <summary>An SPF check made for <c>--spf-pools</c> (none is made for whitelisted clients or the null sender).</summary>
    void OnPoolCheck(in SenderPools.PoolCheck check)
    {
    }
}
