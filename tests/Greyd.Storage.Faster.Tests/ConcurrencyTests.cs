using System.Collections.Concurrent;

namespace Greyd.Storage.Faster.Tests;

public class ConcurrencyTests
{
    [Fact]
    public async Task A_copy_taken_while_four_threads_observe_during_background_checkpoints_and_sweeps_keeps_every_returned_observation()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long wall = Stores.Wall;
        var settings = new FasterStoreOptions
        {
            Directory = live,
            MemorySize = 1L << 20,
            IndexSize = 1L << 20,
            SegmentSize = 256L << 10,
            JournalSyncInterval = TimeSpan.FromMilliseconds(10),
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            IndexCheckpointInterval = TimeSpan.FromMilliseconds(300),
            SweepInterval = TimeSpan.FromMilliseconds(250),
        };
        var log = new CollectingLog();
        var store = FasterGreylistStore.Open(settings, Stores.Options, log);
        var returned = new ConcurrentDictionary<string, long>();
        IReadOnlyDictionary<string, long> beforeCopy;
        try
        {
            for (int i = 0; i < 5000; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("expired-" + i), wall - (40L * 86400)); // work for the sweeps
            }

            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                var random = new Random(w);
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    // Mostly new triplets, some retries of earlier ones (updates that copy records to the tail).
                    string key = i > 10 && random.Next(0, 4) == 0 ? $"w{w}-{random.Next(0, i)}" : $"w{w}-{i}";
                    long now = wall - 1000 + Math.Min(i / 20, 900); // never back: FirstSeen stays what it first was
                    var seen = await store.ObserveTripletAsync(Stores.Key(key), now);
                    returned.TryAdd(key, seen.FirstSeen);
                }
            })).ToArray();

            // Let several checkpoints of both kinds and at least two sweeps run under the load first.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline
                && (log.Lines.Count(l => l.Message.Contains("(index and log)", StringComparison.Ordinal)) < 3
                    || log.Lines.Count(l => l.Message.Contains("(log only)", StringComparison.Ordinal)) < 5
                    || log.Lines.Count(l => l.Message.StartsWith("store: sweep kept", StringComparison.Ordinal)) < 2))
            {
                await Task.Delay(20);
            }

            // Every observation that has returned by now must survive; the writers keep going during the copy.
            beforeCopy = new Dictionary<string, long>(returned);
            using (await store.PauseMaintenanceAsync())
            {
                TempDir.Copy(live, crashed);
            }

            await Task.Delay(200);
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        finally
        {
            await store.DisposeAsync();
        }

        Assert.True(beforeCopy.Count > 1000, log.Dump());
        Assert.Equal(0, log.Count(StoreLogLevel.Error) + log.Count(StoreLogLevel.Critical));
        var reopened = new CollectingLog();
        await using var recovered = FasterGreylistStore.Open(
            new FasterStoreOptions { Directory = crashed, MemorySize = 1L << 20, IndexSize = 1L << 20, SegmentSize = 256L << 10 },
            Stores.Options, reopened);
        Assert.Equal(0, reopened.Count(StoreLogLevel.Critical) + reopened.Count(StoreLogLevel.Error));
        foreach (var (key, firstSeen) in beforeCopy)
        {
            Assert.Equal(firstSeen, (await recovered.ObserveTripletAsync(Stores.Key(key), wall)).FirstSeen);
        }
    }
}
