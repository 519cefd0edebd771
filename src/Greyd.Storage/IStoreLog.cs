namespace Greyd.Storage;

/// <summary>Where a store reports recovery, checkpoints and faults; the host writes these to its log.</summary>
public interface IStoreLog
{
    void Write(StoreLogLevel level, string message);
}
