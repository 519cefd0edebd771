using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>Which rule an RMW applies.</summary>
internal enum StoreOp : byte
{
    ObserveTriplet,
    CheckClient,
    CountClient,
    Replay,
}

/// <summary>The RMW input: the rule, the request time, the wall clock for sanity checks, a journal value to replay.</summary>
internal struct StoreInput
{
    public StoreOp Op;
    public long Now;
    public long Wall;
    public StoreValue Replay;
}

/// <summary>What an RMW produced: the answer, and the new record when it changed (for the journal).</summary>
internal struct StoreOutput
{
    public bool Changed;
    public bool Invalid;
    public StoreValue Stored;
    public TripletObservation Observation;
    public bool Whitelisted;
    public long Count;
}
