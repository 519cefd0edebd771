using Greyd.Policy;

namespace Greyd.Storage.Faster.Tests;

public class FasterGreylistStoreTests
{
    private static readonly GreylistOptions Options = Stores.Options;

    [Fact]
    public async Task Observe_check_and_count_answer_like_the_in_memory_store_on_a_random_sequence_even_when_records_spill_to_disk()
    {
        using var dir = new TempDir();
        var random = new Random(12345);
        var reference = new InMemoryGreylistStore(Options);
        var log = new CollectingLog();
        // 256 KiB of log memory against ~3000 keys forces reads from disk (pending RMWs).
        await using var store = Stores.Open(dir.Path, log, memory: 256L << 10);
        long now = Stores.Wall - (60L * 86400);
        for (int i = 0; i < 30000; i++)
        {
            now += random.Next(0, 8) == 0 ? random.Next(0, 3 * 86400) / 50 : random.Next(0, 400);
            if (random.Next(0, 200) == 0)
            {
                now -= random.Next(0, 600); // the clock sometimes steps back
            }

            if (i % 7000 == 6999)
            {
                await store.CheckpointAsync();
            }

            int which = random.Next(0, 10);
            if (which < 6)
            {
                byte[] key = Stores.Key("triplet-" + random.Next(0, 3000));
                Assert.Equal(await reference.ObserveTripletAsync(key, now), await store.ObserveTripletAsync(key, now));
            }
            else if (which < 8)
            {
                byte[] key = Stores.Key("client-" + random.Next(0, 200));
                Assert.Equal(await reference.CheckClientAsync(key, now), await store.CheckClientAsync(key, now));
            }
            else
            {
                byte[] key = Stores.Key("client-" + random.Next(0, 200));
                Assert.Equal(await reference.CountClientAsync(key, now), await store.CountClientAsync(key, now));
            }
        }

        Assert.Equal(0, log.Count(StoreLogLevel.Error) + log.Count(StoreLogLevel.Warning) + log.Count(StoreLogLevel.Critical));
    }

    [Fact]
    public async Task An_unchanged_record_read_back_from_disk_is_kept_in_memory_for_the_next_request()
    {
        using var dir = new TempDir();
        await using var store = Stores.Open(dir.Path, memory: 16L << 10);
        long t0 = Stores.Wall - 1000;
        byte[] client = Stores.Key("192.0.2.1");
        byte[] triplet = Stores.Key("192.0.2/alice@example.net/bob@example.org");
        Assert.Equal(1, await store.CountClientAsync(client, t0));
        await store.ObserveTripletAsync(triplet, t0);
        // 96 KiB of newer records push both out of the 16 KiB of log memory.
        for (int i = 0; i < 2000; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("filler-" + i), t0);
        }

        // Neither answer changes its record: a client counted within the hour, a triplet seen in the same second.
        long reads = store.DiskReads;
        Assert.False(await store.CheckClientAsync(client, t0 + 10));
        Assert.Equal(t0, (await store.ObserveTripletAsync(triplet, t0)).FirstSeen);
        Assert.Equal(reads + 2, store.DiskReads);
        Assert.False(await store.CheckClientAsync(client, t0 + 20));
        Assert.Equal(0, await store.CountClientAsync(client, t0 + 30));
        Assert.Equal(t0, (await store.ObserveTripletAsync(triplet, t0)).FirstSeen);
        Assert.Equal(reads + 2, store.DiskReads);
    }

    [Fact]
    public async Task Reopening_after_dispose_keeps_every_triplet_and_client()
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 10000;
        await using (var store = Stores.Open(dir.Path))
        {
            for (int i = 0; i < 1000; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + i);
            }

            await store.CountClientAsync(Stores.Key("c"), t0);
            Assert.Equal(1000, store.TripletCount);
            Assert.Equal(1, store.ClientCount);
        }

        var log = new CollectingLog();
        await using (var store = Stores.Open(dir.Path, log))
        {
            Assert.Equal(1000, store.TripletCount);
            Assert.Equal(1, store.ClientCount);
            Assert.Contains(log.Lines, l => l.Level == StoreLogLevel.Notice && l.Message.StartsWith("store: recovered 1000 triplets and 1 clients from checkpoint ", StringComparison.Ordinal));
            for (int i = 0; i < 1000; i++)
            {
                var seen = await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + 5000);
                Assert.Equal(t0 + i, seen.FirstSeen);
            }

            Assert.Equal(2, await store.CountClientAsync(Stores.Key("c"), t0 + 3600));
        }
    }

    [Fact]
    public async Task A_store_made_with_a_32_byte_HMAC_secret_keeps_its_records_and_its_secret()
    {
        using var dir = new TempDir();
        string secret = Path.Combine(dir.Path, "secret");
        byte[] legacy = new byte[32];
        new Random(7).NextBytes(legacy);
        File.WriteAllBytes(secret, legacy);
        long t0 = Stores.Wall - 10000;
        await using (var store = Stores.Open(dir.Path))
        {
            for (int i = 0; i < 100; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + i);
            }
        }

        await using (var store = Stores.Open(dir.Path))
        {
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(t0 + i, (await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + 5000)).FirstSeen);
            }
        }

        Assert.Equal(legacy, File.ReadAllBytes(secret));
    }

    [Fact]
    public async Task A_copy_taken_while_the_store_is_open_keeps_every_update_that_returned()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long t0 = Stores.Wall - 10000;
        var store = Stores.Open(live);
        try
        {
            for (int i = 0; i < 500; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("before-" + i), t0);
            }

            await store.CheckpointAsync();
            for (int i = 0; i < 500; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("before-" + i), t0 + 600); // updates after the checkpoint
                await store.ObserveTripletAsync(Stores.Key("after-" + i), t0 + 700);
            }

            await store.CountClientAsync(Stores.Key("client"), t0 + 700);

            // What kill -9 leaves: files as they are now, no final checkpoint, journal only in the page cache.
            TempDir.Copy(live, crashed);
        }
        finally
        {
            await store.DisposeAsync();
        }

        var log = new CollectingLog();
        await using var recovered = Stores.Open(crashed, log);
        Assert.Contains(log.Lines, l => l.Message.Contains("and 1001 journal records", StringComparison.Ordinal));
        Assert.Equal(0, log.Count(StoreLogLevel.Critical));
        for (int i = 0; i < 500; i++)
        {
            var before = await recovered.ObserveTripletAsync(Stores.Key("before-" + i), t0 + 900);
            Assert.Equal(t0, before.FirstSeen);
            Assert.True(before.LastWasSuccessful); // the retry at +600 passed, and that was journaled
            var after = await recovered.ObserveTripletAsync(Stores.Key("after-" + i), t0 + 1100);
            Assert.Equal(t0 + 700, after.FirstSeen);
        }

        Assert.Equal(0, await recovered.CountClientAsync(Stores.Key("client"), t0 + 800)); // counted within the hour
    }

    // Ten triplets observed at t0 + i, and a copy of the store taken while it was still open (as a crash leaves it).
    private static async Task<(string Live, string Crashed, string Journal)> CopyWhileOpenAsync(TempDir dir, long t0)
    {
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        await using (var store = Stores.Open(live))
        {
            for (int i = 0; i < 10; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + i);
            }

            TempDir.Copy(live, crashed);
        }

        return (live, crashed, Directory.GetFiles(Path.Combine(crashed, "journal")).OrderBy(f => f, StringComparer.Ordinal).Last());
    }

    [Fact]
    public async Task The_reserved_zeros_after_the_last_journal_record_are_a_clean_end_and_a_closed_journal_has_none()
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 10000;
        var (live, crashed, journal) = await CopyWhileOpenAsync(dir, t0);
        Assert.True(new FileInfo(journal).Length > 10 * 48, "the open journal should have reserved space after its records");
        var log = new CollectingLog();
        await using (var recovered = Stores.Open(crashed, log))
        {
            Assert.DoesNotContain(log.Lines, l => l.Level >= StoreLogLevel.Warning);
            Assert.Contains(log.Lines, l => l.Message.StartsWith("store: recovered 10 triplets", StringComparison.Ordinal));
            await recovered.ObserveTripletAsync(Stores.Key("t10"), t0 + 10);
        }

        // The live store was closed cleanly: every journal it left behind holds whole records and nothing else.
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(live, "journal")));
        foreach (string file in Directory.GetFiles(Path.Combine(live, "journal")))
        {
            Assert.Equal(0, new FileInfo(file).Length % 48);
        }
    }

    [Fact]
    public async Task A_journal_with_a_torn_last_record_replays_the_records_before_it()
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 10000;
        var (live, crashed, journal) = await CopyWhileOpenAsync(dir, t0);
        using (var file = new FileStream(journal, FileMode.Open))
        {
            Assert.True(file.Length >= 10 * 48);
            file.SetLength((10 * 48) - 20); // the last write was torn by a power loss
        }

        var log = new CollectingLog();
        await using var recovered = Stores.Open(crashed, log);
        Assert.Contains(log.Lines, l => l.Level == StoreLogLevel.Warning && l.Message.Contains("torn or damaged record at byte 432", StringComparison.Ordinal));
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(t0 + i, (await recovered.ObserveTripletAsync(Stores.Key("t" + i), t0 + 100)).FirstSeen);
        }

        Assert.Equal(t0 + 100, (await recovered.ObserveTripletAsync(Stores.Key("t9"), t0 + 100)).FirstSeen);
    }

    [Theory]
    [InlineData("garbage manifest")]
    [InlineData("truncated manifest")]
    [InlineData("garbage checkpoints")]
    public async Task A_damaged_store_is_moved_aside_with_one_critical_line_and_the_journal_is_kept(string damage)
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long t0 = Stores.Wall - 10000;
        await using (var store = Stores.Open(live))
        {
            await store.ObserveTripletAsync(Stores.Key("checkpointed"), t0);
            await store.CheckpointAsync();
            await store.ObserveTripletAsync(Stores.Key("journaled"), t0 + 10);
            TempDir.Copy(live, crashed);
        }

        string manifest = Path.Combine(crashed, "manifest");
        switch (damage)
        {
            case "garbage manifest":
                await File.WriteAllBytesAsync(manifest, Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray());
                break;
            case "truncated manifest":
                await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest))[..40]);
                break;
            default:
                foreach (string file in Directory.GetFiles(Path.Combine(crashed, "checkpoints"), "*", SearchOption.AllDirectories))
                {
                    await File.WriteAllBytesAsync(file, new byte[37]);
                }

                break;
        }

        var log = new CollectingLog();
        await using (var recovered = Stores.Open(crashed, log))
        {
            Assert.Equal(1, log.Count(StoreLogLevel.Critical));
            string critical = log.Lines.Single(l => l.Level == StoreLogLevel.Critical).Message;
            Assert.StartsWith($"store: damaged store moved to {crashed}/corrupt-", critical, StringComparison.Ordinal);
            string aside = Directory.GetDirectories(crashed, "corrupt-*").Single();
            Assert.True(Directory.Exists(Path.Combine(aside, "checkpoints")));
            // Both records are still in the journal (it is kept until a second generation exists): nothing lost.
            Assert.Equal(t0 + 10, (await recovered.ObserveTripletAsync(Stores.Key("journaled"), t0 + 500)).FirstSeen);
            Assert.Equal(t0, (await recovered.ObserveTripletAsync(Stores.Key("checkpointed"), t0 + 500)).FirstSeen);
        }

        // The fresh store got its own manifest at once: the next start is a normal one.
        var again = new CollectingLog();
        await using var reopened = Stores.Open(crashed, again);
        Assert.Equal(0, again.Count(StoreLogLevel.Critical));
        Assert.Equal(t0, (await reopened.ObserveTripletAsync(Stores.Key("checkpointed"), t0 + 600)).FirstSeen);
    }

    [Fact]
    public async Task A_damaged_latest_checkpoint_falls_back_to_the_previous_one_and_replays_its_journal()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        string crashed = dir.Sub("crashed");
        long t0 = Stores.Wall - 10000;
        await using (var store = Stores.Open(live))
        {
            await store.ObserveTripletAsync(Stores.Key("one"), t0);
            await store.CheckpointAsync();
            await store.ObserveTripletAsync(Stores.Key("two"), t0 + 1);
            await store.CheckpointAsync();
            await store.ObserveTripletAsync(Stores.Key("three"), t0 + 2);
            await store.CheckpointAsync();
            await store.ObserveTripletAsync(Stores.Key("four"), t0 + 3);
            TempDir.Copy(live, crashed);
        }

        string latest = (await File.ReadAllLinesAsync(Path.Combine(crashed, "manifest"))).Single(l => l.StartsWith("current ", StringComparison.Ordinal)).Split(' ')[1];
        await File.WriteAllBytesAsync(Path.Combine(crashed, "checkpoints", "cpr-checkpoints", latest, "info.dat.0"), new byte[64]);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(crashed, "checkpoints", "cpr-checkpoints")).Length);

        var log = new CollectingLog();
        await using var recovered = Stores.Open(crashed, log);
        Assert.Equal(0, log.Count(StoreLogLevel.Critical));
        Assert.Contains(log.Lines, l => l.Level == StoreLogLevel.Error && l.Message.Contains("recovered the previous checkpoint", StringComparison.Ordinal));
        string[] names = ["one", "two", "three", "four"];
        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal(t0 + i, (await recovered.ObserveTripletAsync(Stores.Key(names[i]), t0 + 100)).FirstSeen);
        }
    }

    [Fact]
    public async Task The_sweep_drops_expired_records_and_they_read_as_new()
    {
        using var dir = new TempDir();
        long wall = Stores.Wall;
        long old = wall - (40L * 86400); // beyond max-age (35 days)
        await using var store = Stores.Open(dir.Path);
        for (int i = 0; i < 300; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("old-" + i), old);
        }

        for (int i = 0; i < 100; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("fresh-" + i), wall - 100);
        }

        await store.CountClientAsync(Stores.Key("old-client"), old);
        await store.CountClientAsync(Stores.Key("fresh-client"), wall - 100);
        await store.CheckpointAsync();
        Assert.Equal(400, store.TripletCount);
        Assert.Equal(2, store.ClientCount);

        await store.SweepAsync();
        Assert.Equal(100, store.TripletCount);
        Assert.Equal(1, store.ClientCount);
        await store.CheckpointAsync();

        var expired = await store.ObserveTripletAsync(Stores.Key("old-7"), wall);
        Assert.Equal(wall, expired.FirstSeen);
        Assert.False(expired.LastWasSuccessful);
        Assert.Equal(wall - 100, (await store.ObserveTripletAsync(Stores.Key("fresh-7"), wall)).FirstSeen);
        Assert.Equal(1, await store.CountClientAsync(Stores.Key("old-client"), wall));
        Assert.Equal(2, await store.CountClientAsync(Stores.Key("fresh-client"), wall + 3600));
    }

    [Fact]
    public async Task Auto_whitelist_counts_and_the_once_an_hour_rule_survive_a_reopen()
    {
        using var dir = new TempDir();
        byte[] client = Stores.Key("192.0.2");
        long t0 = Stores.Wall - (10L * 3600);
        await using (var store = Stores.Open(dir.Path))
        {
            Assert.False(await store.CheckClientAsync(client, t0));
            for (int i = 0; i < Options.AutoWhitelistClients; i++)
            {
                Assert.Equal(i + 1, await store.CountClientAsync(client, t0 + (i * 3600)));
                Assert.Equal(0, await store.CountClientAsync(client, t0 + (i * 3600) + 60)); // once an hour
            }

            Assert.True(await store.CheckClientAsync(client, t0 + (4 * 3600) + 120));
        }

        await using (var store = Stores.Open(dir.Path))
        {
            long last = t0 + (4 * 3600);
            Assert.Equal(0, await store.CountClientAsync(client, last + 1800)); // still within the hour after reopen
            Assert.True(await store.CheckClientAsync(client, last + 1800));
            Assert.True(await store.CheckClientAsync(client, last + 3600)); // counts "for statistics" after an hour
            Assert.Equal(0, await store.CountClientAsync(client, last + 3700));
            Assert.Equal(7, await store.CountClientAsync(client, last + 7200));
        }
    }

    [Fact]
    public async Task A_new_directory_is_logged_as_a_new_store_with_a_private_secret()
    {
        using var dir = new TempDir();
        var log = new CollectingLog();
        await using (var store = Stores.Open(dir.Path, log))
        {
            Assert.Equal(0, store.TripletCount);
        }

        Assert.Equal($"store: new store in {dir.Path}", log.Lines.Single(l => l.Level == StoreLogLevel.Notice).Message);
        string secret = Path.Combine(dir.Path, "secret");
        Assert.Equal(16, new FileInfo(secret).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secret));
        }
    }

    [Fact]
    public async Task Background_checkpoints_write_a_manifest_and_delete_journal_files_two_generations_old()
    {
        using var dir = new TempDir();
        var settings = new FasterStoreOptions
        {
            Directory = dir.Path,
            IndexSize = 1L << 20,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            JournalSyncInterval = TimeSpan.FromMilliseconds(10),
        };
        long t0 = Stores.Wall - 1000;
        var log = new CollectingLog();
        await using var store = FasterGreylistStore.Open(settings, Options, log);
        for (int round = 0; round < 5; round++)
        {
            await store.ObserveTripletAsync(Stores.Key("r" + round), t0 + round);
            await Task.Delay(300);
        }

        Assert.True(log.Lines.Count(l => l.Message.StartsWith("store: checkpoint ", StringComparison.Ordinal)) >= 4, log.Dump());
        Assert.True(File.Exists(Path.Combine(dir.Path, "manifest")));
        Assert.True(Directory.GetFiles(Path.Combine(dir.Path, "journal")).Length <= 3);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(dir.Path, "checkpoints", "cpr-checkpoints")).Length);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "trash")));
    }
}
