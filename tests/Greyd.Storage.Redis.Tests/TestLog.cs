using System.Collections.Concurrent;

namespace Greyd.Storage.Redis.Tests;

/// <summary>Collects what a store logs.</summary>
public sealed class TestLog : IStoreLog
{
    public ConcurrentQueue<(StoreLogLevel Level, string Message)> Lines { get; } = new();

    public void Write(StoreLogLevel level, string message) => Lines.Enqueue((level, message));

    public int Count(string fragment) => Lines.Count(l => l.Message.Contains(fragment, StringComparison.Ordinal));
}
