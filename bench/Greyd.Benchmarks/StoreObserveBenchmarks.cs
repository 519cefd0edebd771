using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Greyd.Policy;
using Greyd.Storage.Faster;

namespace Greyd.Benchmarks;

/// <summary>
/// One <see cref="FasterGreylistStore.ObserveTripletAsync"/> on the embedded FASTER store, for a known triplet (hit)
/// and a new one (miss), with the records in memory (warm) or pushed out of a small in-memory log to disk (spilled).
/// </summary>
[MemoryDiagnoser]
public class StoreObserveBenchmarks
{
    // greyd's default in-memory log for the warm store.
    private const long WarmMemory = 32L << 20;

    // Bytes FASTER keeps in memory for the spilled store: greyd's smallest layout, four 4 KiB pages (about 340 records).
    private const long SpilledMemory = 16L << 10;

    private const int CounterDigits = 12;

    private readonly TempStoreDirectory _dir = new();
    private FasterGreylistStore? _store;
    private byte[][] _hits = [];
    private byte[] _missKey = [];
    private int _counterAt;
    private long _missCount;
    private int _next;
    private long _now;
    private long _wall;

    /// <summary>Where the looked-up records live: "warm" in memory, "spilled" on disk behind a tiny in-memory log.</summary>
    [Params("warm", "spilled")]
    public string Records { get; set; } = "warm";

    [GlobalSetup]
    public void Setup()
    {
        bool spilled = Records == "spilled";
        var settings = new FasterStoreOptions
        {
            Directory = _dir.Path,
            MemorySize = spilled ? SpilledMemory : WarmMemory,
            // Checkpoints and sweeps are background work: keep them out of the measured requests.
            CheckpointInterval = TimeSpan.FromHours(1),
            SweepInterval = TimeSpan.FromHours(1),
        };
        _store = FasterGreylistStore.Open(settings, new GreylistOptions(), new NullStoreLog());

        // Spilled: fifty times what memory holds, so each key has left memory again before it comes round.
        int count = spilled ? 16384 : 1024;
        _hits = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            _hits[i] = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"192.0.{i % 256}/sender{i}@example.net/bob@example.org"));
        }

        _wall = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!spilled)
        {
            // Filler first, so the hit keys are the newest records and stay in memory.
            StoreFill.PastMemory(_store, WarmMemory, _wall);
        }

        // First seen a day ago; every round over the keys is one second later, so each hit changes the record.
        _now = _wall - 86400;
        foreach (byte[] key in _hits)
        {
            _store.ObserveTripletAsync(key, _now).AsTask().GetAwaiter().GetResult();
        }

        byte[] prefix = "198.51.100/new"u8.ToArray();
        byte[] suffix = "@example.net/bob@example.org"u8.ToArray();
        _counterAt = prefix.Length;
        _missKey = [.. prefix, .. new byte[CounterDigits], .. suffix];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _dir.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<TripletObservation> Hit()
    {
        int i = _next;
        _next = i + 1 == _hits.Length ? 0 : i + 1;
        if (i == 0)
        {
            _now++;
        }

        return _store!.ObserveTripletAsync(_hits[i], _now);
    }

    [Benchmark]
    public ValueTask<TripletObservation> Miss()
    {
        // A counter never seen before, written into the preallocated key, keeps every call a miss.
        _missCount++.TryFormat(_missKey.AsSpan(_counterAt, CounterDigits), out _, "D12", CultureInfo.InvariantCulture);
        return _store!.ObserveTripletAsync(_missKey, _wall);
    }
}
