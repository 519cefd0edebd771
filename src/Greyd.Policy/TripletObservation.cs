namespace Greyd.Policy;

/// <summary>The outcome of one sighting of a triplet: the record to store and what the decision needs.</summary>
/// <param name="Stored">The record after this sighting.</param>
/// <param name="LastWasSuccessful">True when the triplet had already passed before this sighting.</param>
/// <param name="CorrectedFutureFirstSeen">True when the stored first-seen lay in the future (the clock went back).</param>
/// <param name="FirstRetry">True when this sighting is the triplet's first retry (the report's "retried" count).</param>
public readonly record struct TripletObservation(
    TripletRecord Stored,
    bool LastWasSuccessful,
    bool CorrectedFutureFirstSeen,
    bool FirstRetry = false)
{
    public long FirstSeen => Stored.FirstSeen;
}
