using Greyd.Storage;

namespace Greyd.Benchmarks;

/// <summary>Drops the store's log lines: the store benchmarks measure the store, not a log.</summary>
internal sealed class NullStoreLog : IStoreLog
{
    public void Write(StoreLogLevel level, string message)
    {
    }
}
