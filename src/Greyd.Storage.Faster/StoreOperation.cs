using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>Which rule an RMW applies (or, for <see cref="Peek"/>, that a Read only looks).</summary>
internal enum StoreOp : byte
{
    ObserveTriplet,
    CheckClient,
    CountClient,
    Replay,
    Import,
    Peek,
}

/// <summary>The RMW input: the rule, the request time, the wall clock for sanity checks, a record to replay or import.</summary>
internal struct StoreInput
{
    public StoreOp Op;
    public long Now;
    public long Wall;
    public StoreValue Record;
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

    /// <summary>The RMW created the key's record (its name goes to the catalogue).</summary>
    public bool Created;

    /// <summary>What an import did.</summary>
    public ImportOutcome Outcome;

    /// <summary>A Read found the key; <see cref="Stored"/> is its record and <see cref="Address"/> where it lies in the log.</summary>
    public bool Found;
    public long Address;
}
