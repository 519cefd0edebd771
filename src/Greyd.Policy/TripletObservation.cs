namespace Greyd.Policy;

/// <summary>The outcome of one sighting of a triplet: the record to store and what the decision needs.</summary>
public readonly record struct TripletObservation(
    TripletRecord Stored,
    bool LastWasSuccessful,
    bool CorrectedFutureFirstSeen)
{
    public long FirstSeen => Stored.FirstSeen;
}
