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

    public override bool NeedInitialUpdate(ref StoreKey key, ref StoreInput input, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (input.Op == StoreOp.CheckClient)
        {
            // An absent client is not whitelisted and stays absent.
            output = default;
            return false;
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
        return output.Changed || (Log is { } log && rmwInfo.Address < log.HeadAddress);
    }

    public override bool CopyUpdater(ref StoreKey key, ref StoreInput input, ref StoreValue oldValue, ref StoreValue newValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        Apply(ref key, ref input, oldValue, ref output);
        newValue = output.Changed ? output.Stored : oldValue;
        return true;
    }

    public override void RMWCompletionCallback(ref StoreKey key, ref StoreInput input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata) =>
        PendingOutput = output;

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

            default:
                output.Changed = true;
                output.Stored = input.Replay;
                break;
        }
    }
}
