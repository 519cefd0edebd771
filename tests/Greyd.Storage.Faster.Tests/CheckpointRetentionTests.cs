namespace Greyd.Storage.Faster.Tests;

/// <summary>Log-only checkpoints between index checkpoints, and what each retained generation keeps on disk.</summary>
public class CheckpointRetentionTests
{
    [Fact]
    public async Task Checkpoints_between_index_checkpoints_write_only_the_log_and_an_old_index_with_a_newer_log_recovers_every_record()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long t0 = Stores.Wall - 10000;
        var store = Stores.Open(live, memory: 256L << 10);
        string[] firstIndex;
        try
        {
            for (int round = 0; round < 6; round++)
            {
                for (int i = 0; i < 500; i++)
                {
                    await store.ObserveTripletAsync(Stores.Key($"r{round}-{i}"), t0 + round);
                    if (round > 0)
                    {
                        await store.ObserveTripletAsync(Stores.Key($"r{round - 1}-{i}"), t0 + 600 + round); // an update
                    }
                }

                await store.CountClientAsync(Stores.Key("client"), t0 + (round * 3600));
                await store.CheckpointAsync();
                if (round == 0)
                {
                    Assert.Single(Stores.CheckpointDirs(live, "index-checkpoints"));
                }
            }

            firstIndex = Stores.CheckpointDirs(live, "index-checkpoints");
            string[] current = Stores.Generation(live, "current");
            // Six checkpoints, one index: the five after the first wrote only the log.
            Assert.Single(firstIndex);
            Assert.Equal(firstIndex[0], current[4]);
            Assert.NotEqual(current[0], current[4]);
            Assert.Equal(2, Stores.CheckpointDirs(live, "cpr-checkpoints").Length);

            // A crash right after the last checkpoint: nothing to replay, so the index + log checkpoints hold everything.
            TempDir.Copy(live, crashed);
        }
        finally
        {
            await store.DisposeAsync();
        }

        // The final checkpoint on shutdown writes a fresh index.
        string[] closed = Stores.Generation(live, "current");
        Assert.Equal(closed[0], closed[4]);
        Assert.Equal(new[] { firstIndex[0], closed[4] }.Order(StringComparer.Ordinal), Stores.CheckpointDirs(live, "index-checkpoints"));

        var log = new CollectingLog();
        await using var recovered = Stores.Open(crashed, log, memory: 256L << 10);
        Assert.Contains(log.Lines, l => l.Message.Contains("and 0 journal records", StringComparison.Ordinal));
        Assert.Equal(3000, recovered.TripletCount);
        for (int round = 0; round < 6; round++)
        {
            for (int i = 0; i < 500; i++)
            {
                var seen = await recovered.ObserveTripletAsync(Stores.Key($"r{round}-{i}"), t0 + 5000);
                Assert.Equal(t0 + round, seen.FirstSeen);
                Assert.Equal(round < 5, seen.LastWasSuccessful); // the update after 600 s passed, and was kept
            }
        }

        Assert.Equal(7, await recovered.CountClientAsync(Stores.Key("client"), t0 + (6 * 3600)));
    }

    [Fact]
    public async Task After_a_sweep_the_previous_generation_keeps_the_log_segments_it_needs_until_it_is_pruned()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long wall = Stores.Wall;
        long old = wall - (40L * 86400); // beyond max-age (35 days)
        // 16 KiB pages and 64 KiB segments: 4000 records of 48 bytes fill three segment files.
        var settings = new FasterStoreOptions
        {
            Directory = live,
            MemorySize = 256L << 10,
            IndexSize = 1L << 20,
            SegmentSize = 64L << 10,
            CheckpointInterval = TimeSpan.FromHours(1),
            SweepInterval = TimeSpan.FromHours(1),
        };
        string logDir = Path.Combine(live, "log");
        var store = FasterGreylistStore.Open(settings, Stores.Options, new CollectingLog());
        try
        {
            for (int i = 0; i < 3000; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("old-" + i), old);
            }

            for (int i = 0; i < 1000; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("fresh-" + i), wall - 100 + (i % 7));
            }

            await store.CheckpointAsync(); // generation 1: the whole log from segment 0
            int segments = Directory.GetFiles(logDir).Length;
            Assert.True(segments >= 3, string.Join(", ", Directory.GetFiles(logDir)));

            await store.SweepAsync(); // BeginAddress moves past the old segments
            Assert.Equal(1000, store.TripletCount);
            await store.CheckpointAsync(); // generation 2 starts where the sweep left the log
            Assert.True(File.Exists(Path.Combine(logDir, "hlog.log.0")), "generation 1 still needs segment 0");

            for (int i = 0; i < 100; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("after-" + i), wall - 50);
            }

            TempDir.Copy(live, crashed);

            await store.CheckpointAsync(); // generation 3: generation 1 is pruned, so are its segments
            Assert.False(File.Exists(Path.Combine(logDir, "hlog.log.0")), "segments no generation needs are deleted");
        }
        finally
        {
            await store.DisposeAsync();
        }

        // Generation 2 is damaged: recovery falls back to generation 1, whose log must be complete.
        string latest = Stores.Generation(crashed, "current")[0];
        await File.WriteAllBytesAsync(Path.Combine(crashed, "checkpoints", "cpr-checkpoints", latest, "info.dat.0"), new byte[64]);
        var log = new CollectingLog();
        await using var recovered = FasterGreylistStore.Open(
            new FasterStoreOptions { Directory = crashed, MemorySize = 256L << 10, IndexSize = 1L << 20, SegmentSize = 64L << 10 },
            Stores.Options, log);
        Assert.Equal(0, log.Count(StoreLogLevel.Critical));
        Assert.Contains(log.Lines, l => l.Level == StoreLogLevel.Error && l.Message.Contains("recovered the previous checkpoint", StringComparison.Ordinal));
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(wall - 100 + (i % 7), (await recovered.ObserveTripletAsync(Stores.Key("fresh-" + i), wall)).FirstSeen);
        }

        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(wall - 50, (await recovered.ObserveTripletAsync(Stores.Key("after-" + i), wall)).FirstSeen);
        }
    }
}
