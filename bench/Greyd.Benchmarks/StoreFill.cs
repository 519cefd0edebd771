using System.Globalization;
using Greyd.Storage;

namespace Greyd.Benchmarks;

/// <summary>
/// Fills a store past its in-memory log before measuring: FASTER allocates its log pages as they are first used
/// and reuses them once the log wraps, so only a store that has wrapped shows the steady state.
/// </summary>
internal static class StoreFill
{
    // FASTER's record for greyd: an 8-byte header, the 16-byte key and the 24-byte value.
    private const int RecordBytes = 48;

    private const int CounterAt = 16;

    public static void PastMemory(IRecordStore store, long memorySize, long now)
    {
        byte[] key = "203.0.113/filler000000000000@example.net/fill@example.org"u8.ToArray();
        long records = memorySize / RecordBytes * 5 / 4;
        for (long i = 0; i < records; i++)
        {
            i.TryFormat(key.AsSpan(CounterAt, 12), out _, "D12", CultureInfo.InvariantCulture);
            store.ObserveTripletAsync(key, now).AsTask().GetAwaiter().GetResult();
        }
    }
}
