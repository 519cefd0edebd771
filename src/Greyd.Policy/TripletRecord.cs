namespace Greyd.Policy;

/// <summary>What greyd keeps per triplet: when it was first and last seen (Unix seconds).</summary>
public readonly record struct TripletRecord(long FirstSeen, long LastSeen)
{
    /// <summary>True once a retry came at least <paramref name="delay"/> seconds after the first sighting.</summary>
    public bool HasPassed(int delay) => LastSeen - FirstSeen >= delay;
}
