namespace Greyd.Hosting.Observers;

/// <summary>Several observers behind one, so the request path makes one call whatever is configured.</summary>
public sealed class DecisionObservers(IReadOnlyList<IDecisionObserver> observers) : IDecisionObserver
{
    private readonly IDecisionObserver[] _observers = [.. observers];

    /// <summary>Null when there is nothing to observe, one observer as itself, or several behind one.</summary>
    public static IDecisionObserver? Combine(params IDecisionObserver?[] observers)
    {
        var present = observers.OfType<IDecisionObserver>().ToArray();
        return present.Length switch
        {
            0 => null,
            1 => present[0],
            _ => new DecisionObservers(present),
        };
    }

    public void OnDecision(in DecisionEvent decision)
    {
        foreach (var observer in _observers)
        {
            observer.OnDecision(decision);
        }
    }

    public void OnPoolCheck(in SenderPools.PoolCheck check)
    {
        foreach (var observer in _observers)
        {
            observer.OnPoolCheck(check);
        }
    }

    public void OnRequestDone(long elapsedTicks, bool fault)
    {
        foreach (var observer in _observers)
        {
            observer.OnRequestDone(elapsedTicks, fault);
        }
    }
}
