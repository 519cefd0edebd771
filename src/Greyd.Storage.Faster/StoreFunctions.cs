using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>
/// Runs greyd's pure rules inside FASTER's read-modify-write, so the record is read and written atomically.
/// Only used under the store's lock by one session, hence plain fields.
/// </summary>
internal sealed class StoreFunctions(GreylistOptions options) : FunctionsBase<StoreKey, StoreValue, StoreInput, StoreOutput, Empty>
{
    /// <summary>Keys created since the counts were last set (approximate live counts for the logs).</summary>
    public long NewTriplets;
    public long NewClients;

    /// <summary>The output of the last RMW that went pending (record on disk), delivered by the completion callback.</summary>
    public StoreOutput PendingOutput;

    /// <summary>The log of the FASTER instance in use, to tell a record read back from disk; set whenever one is created.</summary>
    public LogAccessor<StoreKey, StoreValue>? Log;

    /// <summary>The listing in progress, told of every record an update moves to the tail.</summary>
    public StoreListing? Listing;

    public override bool NeedInitialUpdate(ref StoreKey key, ref StoreInput input, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (input.Op == StoreOp.CheckClient)
        {
            // An absent client is not whitelisted and stays absent.
            output = default;
            return false;
        }

        if (input.Op == StoreOp.Import)
        {
            // An expired import of an absent key stores nothing.
            Apply(ref key, ref input, null, ref output);
            return output.Changed;
        }

        return true;
    }

    public override bool InitialUpdater(ref StoreKey key, ref StoreInput input, ref StoreValue value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        Apply(ref key, ref input, null, ref output);
        value = output.Stored;
        return true;
    }

    public override void PostInitialUpdater(ref StoreKey key, ref StoreInput input, ref StoreValue value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        output.Created = true;
        if (key.IsClient)
        {
            NewClients++;
        }
        else
        {
            NewTriplets++;
        }
    }

    public override bool InPlaceUpdater(ref StoreKey key, ref StoreInput input, ref StoreValue value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        Apply(ref key, ref input, value, ref output);
        if (output.Changed)
        {
            value = output.Stored;
        }

        return true;
    }

    public override bool NeedCopyUpdate(ref StoreKey key, ref StoreInput input, ref StoreValue oldValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        // Unchanged records (an AWL check within the hour) stay where they are, except ones read back from disk: one read, not one per request.
        Apply(ref key, ref input, oldValue, ref output);
        bool copy = output.Changed || (Log is { } log && rmwInfo.Address < log.HeadAddress);
        if (copy)
        {
            Listing?.Replaced(key, rmwInfo.Address, oldValue);
        }

        return copy;
    }

    public override bool CopyUpdater(ref StoreKey key, ref StoreInput input, ref StoreValue oldValue, ref StoreValue newValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        Apply(ref key, ref input, oldValue, ref output);
        newValue = output.Changed ? output.Stored : oldValue;
        return true;
    }

    public override void RMWCompletionCallback(ref StoreKey key, ref StoreInput input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata) =>
        PendingOutput = output;

    public override bool SingleReader(ref StoreKey key, ref StoreInput input, ref StoreValue value, ref StoreOutput dst, ref ReadInfo readInfo) =>
        Found(ref value, ref dst, ref readInfo);

    public override bool ConcurrentReader(ref StoreKey key, ref StoreInput input, ref StoreValue value, ref StoreOutput dst, ref ReadInfo readInfo) =>
        Found(ref value, ref dst, ref readInfo);

    public override void ReadCompletionCallback(ref StoreKey key, ref StoreInput input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata) =>
        PendingOutput = output;

    private static bool Found(ref StoreValue value, ref StoreOutput output, ref ReadInfo readInfo)
    {
        output.Found = true;
        output.Stored = value;
        output.Address = readInfo.Address;
        return true;
    }

    /// <summary>Applies the rule of <paramref name="input"/> to the stored value (null when absent).</summary>
    private void Apply(ref StoreKey key, ref StoreInput input, StoreValue? stored, ref StoreOutput output)
    {
        output = default;
        bool present = false;
        if (stored is { } value)
        {
            if (input.Op == StoreOp.Replay || value.IsValid(key, Math.Max(input.Wall, input.Now)))
            {
                present = true;
            }
            else
            {
                output.Invalid = true;
            }
        }

        StoreValue old = stored.GetValueOrDefault();
        switch (input.Op)
        {
            case StoreOp.ObserveTriplet:
            {
                TripletRecord? record = present ? new TripletRecord(old.A, old.B) : null;
                var observation = TripletMath.Observe(record, input.Now, options);
                output.Observation = observation;
                output.Changed = record != observation.Stored;
                output.Stored = new StoreValue(key, observation.Stored.FirstSeen, observation.Stored.LastSeen);
                break;
            }

            case StoreOp.CheckClient:
            {
                ClientRecord? record = present ? new ClientRecord(old.A, old.B) : null;
                output.Whitelisted = AutoWhitelist.Check(record, input.Now, options, out var updated);
                if (updated is { } changed)
                {
                    output.Changed = true;
                    output.Stored = new StoreValue(key, changed.Count, changed.LastSeen);
                }

                break;
            }

            case StoreOp.CountClient:
            {
                ClientRecord? record = present ? new ClientRecord(old.A, old.B) : null;
                if (AutoWhitelist.Count(record, input.Now, options) is { } counted)
                {
                    output.Changed = true;
                    output.Count = counted.Count;
                    output.Stored = new StoreValue(key, counted.Count, counted.LastSeen);
                }

                break;
            }

            case StoreOp.Import:
                Import(ref key, ref input, present ? old : null, ref output);
                break;

            case StoreOp.Replay:
                output.Changed = true;
                output.Stored = input.Record;
                break;
        }
    }

    // The store checked the imported record before the RMW: RecordMerge does not throw in here.
    private void Import(ref StoreKey key, ref StoreInput input, StoreValue? stored, ref StoreOutput output)
    {
        long a, b;
        if (key.IsClient)
        {
            ClientRecord? record = stored is { } old ? new ClientRecord(old.A, old.B) : null;
            output.Outcome = RecordMerge.ImportClient(record, new ClientRecord(input.Record.A, input.Record.B), input.Now, options, out var merged);
            (a, b) = merged is { } m ? (m.Count, m.LastSeen) : (0, 0);
        }
        else
        {
            TripletRecord? record = stored is { } old ? new TripletRecord(old.A, old.B) : null;
            output.Outcome = RecordMerge.ImportTriplet(record, new TripletRecord(input.Record.A, input.Record.B), input.Now, options, out var merged);
            (a, b) = merged is { } m ? (m.FirstSeen, m.LastSeen) : (0, 0);
        }

        if (output.Outcome is ImportOutcome.Added or ImportOutcome.Merged)
        {
            output.Changed = true;
            output.Stored = new StoreValue(key, a, b);
        }
    }
}
