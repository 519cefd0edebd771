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
}
