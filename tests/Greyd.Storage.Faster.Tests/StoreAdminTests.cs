using System.Diagnostics;
using System.Text;
using Greyd.Policy;
using Greyd.Tests.Shared;

namespace Greyd.Storage.Faster.Tests;

/// <summary>The persistent store's own side of the admin operations: durability, the key catalogue, listing under load.</summary>
public class StoreAdminTests
{
    private static string Text(byte[]? key) => key is null ? "(none)" : Encoding.Latin1.GetString(key);

    private static Task<List<StoreEntry>> ListAsync(FasterGreylistStore store, long now) => StoreAdminContract.ListAsync(store, now);

    private static string Catalogue(string dir) => Path.Combine(dir, "catalogue");

    private static int Serious(CollectingLog log) => log.Count(StoreLogLevel.Error) + log.Count(StoreLogLevel.Critical);

    /// <summary>A closed store in <paramref name="dir"/> holding the triplets <paramref name="keys"/>, each seen once at its time.</summary>
    private static async Task SeedAsync(string dir, IEnumerable<(string Key, long Seen)> keys)
    {
        await using var store = Stores.Open(dir);
        foreach (var (key, seen) in keys)
        {
            await store.ObserveTripletAsync(Stores.Key(key), seen);
        }
    }

    [Fact]
    public async Task A_peek_writes_nothing_not_even_for_a_record_read_back_from_disk()
    {
        using var dir = new TempDir();
        string live = dir.Sub("live");
        long t0 = Stores.Wall - 1000;
        await using (var store = Stores.Open(live, memory: 16L << 10))
        {
            // 96 KiB of records against 16 KiB of log memory: the first ones are on disk only.
            for (int i = 0; i < 2000; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("t" + i), t0 + (i % 100));
            }

            TempDir.Copy(live, dir.Sub("before"));
            long tail = store.TailAddress;
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(new TripletRecord(t0 + (i % 100), t0 + (i % 100)), await store.PeekTripletAsync(Stores.Key("t" + i), t0 + 500));
            }

            Assert.Equal(tail, store.TailAddress);
            TempDir.Copy(live, dir.Sub("after"));
        }

        // What a crash would keep is the same before and after the peeks: they journaled nothing.
        var before = new CollectingLog();
        var after = new CollectingLog();
        await using (Stores.Open(dir.Sub("before"), before))
        await using (Stores.Open(dir.Sub("after"), after))
        {
            Assert.Contains(before.Lines, l => l.Message.Contains("from 2000 journal records", StringComparison.Ordinal));
            Assert.Contains(after.Lines, l => l.Message.Contains("from 2000 journal records", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_delete_survives_a_crash_before_the_next_checkpoint_and_a_clean_reopen()
    {
        using var dirs = new CrashDirs();
        long t0 = Stores.Wall - 1000;
        await using (var store = Stores.Open(dirs.Live))
        {
            await store.ObserveTripletAsync(Stores.Key("gone"), t0);
            await store.ObserveTripletAsync(Stores.Key("kept"), t0);
            await store.CountClientAsync(Stores.Key("gone-client"), t0);
            await store.CheckpointAsync();
            Assert.True(await store.DeleteTripletAsync(Stores.Key("gone")));
            Assert.True(await store.DeleteClientAsync(Stores.Key("gone-client")));
            Assert.Equal(1, store.TripletCount);
            Assert.Equal(0, store.ClientCount);

            // What kill -9 leaves a second later (names are written once a second): the deletions are in the journal only.
            await Task.Delay(1500);
            dirs.Crash();
        }

        foreach (string reopened in new[] { dirs.Crashed, dirs.Live })
        {
            var log = new CollectingLog();
            await using var store = Stores.Open(reopened, log);
            Assert.Equal(0, Serious(log));
            Assert.Null(await store.PeekTripletAsync(Stores.Key("gone"), t0 + 400));
            Assert.Null(await store.PeekClientAsync(Stores.Key("gone-client"), t0 + 400));
            Assert.Equal(new TripletRecord(t0, t0), await store.PeekTripletAsync(Stores.Key("kept"), t0 + 400));
            Assert.Equal(["kept"], (await ListAsync(store, t0 + 400)).Select(e => Text(e.Key)));
            Assert.Equal(t0 + 400, (await store.ObserveTripletAsync(Stores.Key("gone"), t0 + 400)).FirstSeen);
        }
    }

    [Fact]
    public async Task An_import_survives_a_crash_and_is_listed_by_its_key()
    {
        using var dirs = new CrashDirs();
        long t0 = Stores.Wall - 1000;
        await using (var store = Stores.Open(dirs.Live))
        {
            await store.CheckpointAsync();
            Assert.Equal(ImportOutcome.Added, await store.ImportTripletAsync(Stores.Key("192.0.2.0/a@example.net/b@example.org"), new TripletRecord(t0 - 900, t0 - 100), t0));
            Assert.Equal(ImportOutcome.Added, await store.ImportClientAsync(Stores.Key("192.0.2.10"), new ClientRecord(6, t0 - 50), t0));
            await Task.Delay(1500); // the catalogue's names are written once a second
            dirs.Crash();
        }

        await using var recovered = Stores.Open(dirs.Crashed);
        Assert.Equal(new TripletRecord(t0 - 900, t0 - 100), await recovered.PeekTripletAsync(Stores.Key("192.0.2.0/a@example.net/b@example.org"), t0));
        Assert.Equal(new ClientRecord(6, t0 - 50), await recovered.PeekClientAsync(Stores.Key("192.0.2.10"), t0));
        Assert.Equal(["192.0.2.0/a@example.net/b@example.org", "192.0.2.10"], (await ListAsync(recovered, t0)).Select(e => Text(e.Key)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Keys_are_listed_after_a_reopen_and_after_a_sweep_which_drops_the_names_of_expired_records()
    {
        using var dir = new TempDir();
        long wall = Stores.Wall;
        long old = wall - (40L * 86400); // beyond max-age
        var fresh = Enumerable.Range(0, 200).Select(i => $"192.0.2.0/fresh{i}@example.net/bob@example.org").ToList();
        await using (var store = Stores.Open(dir.Path))
        {
            foreach (string key in fresh)
            {
                await store.ObserveTripletAsync(Stores.Key(key), wall - 100);
            }

            for (int i = 0; i < 300; i++)
            {
                await store.ObserveTripletAsync(Stores.Key($"192.0.2.0/old{i}@example.net/bob@example.org"), old);
            }

            await store.CountClientAsync(Stores.Key("192.0.2.10"), wall - 100);
        }

        string[] expected = [.. fresh, "192.0.2.10"];
        Array.Sort(expected, StringComparer.Ordinal);
        await using (var store = Stores.Open(dir.Path))
        {
            Assert.Equal(expected, (await ListAsync(store, wall)).Select(e => Text(e.Key)).Order(StringComparer.Ordinal));
            long size = new FileInfo(Catalogue(dir.Path)).Length;
            await store.SweepAsync();
            Assert.InRange(new FileInfo(Catalogue(dir.Path)).Length, 1, size / 2); // 201 names of 501 are left
            Assert.Equal(expected, (await ListAsync(store, wall)).Select(e => Text(e.Key)).Order(StringComparer.Ordinal));
            await store.ObserveTripletAsync(Stores.Key("192.0.2.0/after@example.net/bob@example.org"), wall);
        }

        await using (var store = Stores.Open(dir.Path))
        {
            var listed = (await ListAsync(store, wall)).Select(e => Text(e.Key)).ToList();
            Assert.Equal(202, listed.Count);
            Assert.Contains("192.0.2.0/after@example.net/bob@example.org", listed);
            Assert.DoesNotContain("(none)", listed);
        }
    }

    [Theory]
    [InlineData("garbage in the middle")]
    [InlineData("torn in the middle")]
    [InlineData("all garbage")]
    [InlineData("missing")]
    public async Task A_damaged_catalogue_only_costs_the_keys_it_no_longer_names(string damage)
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 1000;
        await SeedAsync(dir.Path, Enumerable.Range(0, 100).Select(i => ("triplet-" + i, t0 + i)));

        string catalogue = Catalogue(dir.Path);
        byte[] bytes = await File.ReadAllBytesAsync(catalogue);
        switch (damage)
        {
            case "garbage in the middle":
                new Random(3).NextBytes(bytes.AsSpan(bytes.Length / 2, 40));
                await File.WriteAllBytesAsync(catalogue, bytes);
                break;
            case "torn in the middle":
                // A write cut short by a crash, with names written after it by the next run.
                await File.WriteAllBytesAsync(catalogue, [.. bytes.AsSpan(0, (bytes.Length / 2) + 5), .. bytes.AsSpan(bytes.Length / 2)]);
                break;
            case "all garbage":
                new Random(4).NextBytes(bytes);
                await File.WriteAllBytesAsync(catalogue, bytes);
                break;
            default:
                File.Delete(catalogue);
                break;
        }

        var log = new CollectingLog();
        await using (var store = Stores.Open(dir.Path, log))
        {
            var listed = await ListAsync(store, t0 + 200);
            Assert.Equal(100, listed.Count);
            int named = listed.Count(e => e.Key is not null);
            Assert.InRange(named, damage switch { "garbage in the middle" or "torn in the middle" => 90, _ => 0 }, damage is "garbage in the middle" or "torn in the middle" ? 99 : 0);
            Assert.All(listed.Where(e => e.Key is not null), e => Assert.Equal("triplet-" + (e.A - t0), Text(e.Key)));

            // New names after the damage are read, and the sweep rewrites the file from what it can read.
            await store.ObserveTripletAsync(Stores.Key("after-damage"), t0 + 200);
            await store.SweepAsync();
            listed = await ListAsync(store, t0 + 200);
            Assert.Equal(101, listed.Count);
            Assert.Contains(listed, e => Text(e.Key) == "after-damage");
            Assert.Equal(named + 1, listed.Count(e => e.Key is not null));
            Assert.Equal(0, Serious(log) + log.Count(StoreLogLevel.Warning));
        }
    }

    [Fact]
    public async Task A_catalogue_that_cannot_be_written_costs_only_the_keys()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Catalogue(dir.Path)); // a directory where the file should be: every open fails
        long t0 = Stores.Wall - 1000;
        var log = new CollectingLog();
        await using var store = Stores.Open(dir.Path, log);
        for (int i = 0; i < 10; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("t" + i), t0);
        }

        var listed = await ListAsync(store, t0 + 400);
        Assert.Equal(10, listed.Count);
        Assert.All(listed, e => Assert.Null(e.Key));
        await store.SweepAsync();
        await store.CheckpointAsync();
        Assert.Equal(t0, (await store.ObserveTripletAsync(Stores.Key("t3"), t0 + 400)).FirstSeen);
        Assert.Contains(log.Lines, l => l.Level == StoreLogLevel.Warning && l.Message.Contains("catalogue", StringComparison.Ordinal));
        Assert.Equal(0, Serious(log));
    }

    [Fact]
    public async Task A_store_from_before_the_catalogue_lists_its_records_without_keys_until_an_import_names_them()
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 1000;
        await SeedAsync(dir.Path, [("192.0.2.0/a@example.net/b@example.org", t0), ("192.0.2.0/c@example.net/b@example.org", t0)]);

        File.Delete(Catalogue(dir.Path));
        var log = new CollectingLog();
        await using (var store = Stores.Open(dir.Path, log))
        {
            Assert.Equal(0, Serious(log));
            Assert.Equal([null, null], (await ListAsync(store, t0)).Select(e => e.Key));
            Assert.Equal(ImportOutcome.Kept, await store.ImportTripletAsync(Stores.Key("192.0.2.0/a@example.net/b@example.org"), new TripletRecord(t0, t0), t0));
            Assert.Equal(["(none)", "192.0.2.0/a@example.net/b@example.org"], (await ListAsync(store, t0)).Select(e => Text(e.Key)).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Requests_go_on_while_a_listing_of_many_records_runs_and_it_lists_each_record_once()
    {
        using var dir = new TempDir();
        const int Records = 100_000;
        // FASTER completes disk reads on pool threads: with the pool at its minimum of one a CPU, the blocked writer
        // and listing would make each read wait for a new thread (up to a second), whatever the listing does.
        ThreadPool.GetMinThreads(out int workers, out int completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), completions);
        long t0 = Stores.Wall - 1000;
        var log = new CollectingLog();
        // 1 MiB of log memory: most of the 4.8 MB of records are on disk, so the listing reads from disk too.
        await using var store = Stores.Open(dir.Path, log, memory: 1L << 20);
        for (int i = 0; i < Records; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("k" + i), t0);
        }

        await store.CheckpointAsync();
        var listing = store.EnumerateAsync(t0 + 500).GetAsyncEnumerator();
        var listed = new List<StoreEntry>();
        try
        {
            Assert.True(await listing.MoveNextAsync());
            listed.Add(listing.Current);

            // A listing paused by its reader holds up neither requests nor a sweep (which it postpones).
            var paused = Stopwatch.StartNew();
            for (int i = 0; i < 100; i++)
            {
                await store.ObserveTripletAsync(Stores.Key("k" + (i * 997)), t0 + 400);
            }

            await store.SweepAsync();
            Assert.True(paused.Elapsed < TimeSpan.FromSeconds(5), $"{paused.Elapsed}");
            Assert.Contains(log.Lines, l => l.Message == "store: sweep postponed while a listing runs");

            // Retries (which move records to the tail), new triplets and deletions of others, while the listing goes on.
            using var stop = new CancellationTokenSource();
            int writes = 0;
            var writer = Task.Run(async () =>
            {
                var random = new Random(5);
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    await store.ObserveTripletAsync(Stores.Key("k" + random.Next(Records)), t0 + 400);
                    await store.ObserveTripletAsync(Stores.Key("new" + i), t0 + 400);
                    await store.DeleteTripletAsync(Stores.Key("new" + (i / 2)));
                    writes++;
                }
            });
            while (await listing.MoveNextAsync())
            {
                listed.Add(listing.Current);
            }

            await stop.CancelAsync();
            await writer;
            Assert.True(writes > 100, $"{writes} writes during the listing");

            // A request's own wait on the disk can take long here (1 MiB of memory); the listing's share of the lock may not.
            Assert.InRange(store.LongestListingHold, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            await listing.DisposeAsync();
        }

        var keys = listed.Select(e => Text(e.Key)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(Records, keys.Count(k => k.StartsWith('k')));
        Assert.DoesNotContain("(none)", keys);
        Assert.Equal(0, Serious(log));
    }

    [Fact]
    public async Task A_store_closed_under_a_paused_listing_ends_it_and_reopens_with_every_record()
    {
        using var dir = new TempDir();
        long t0 = Stores.Wall - 1000;
        var store = Stores.Open(dir.Path, memory: 64L << 10);
        for (int i = 0; i < 3000; i++)
        {
            await store.ObserveTripletAsync(Stores.Key("t" + i), t0);
        }

        // The first records are on disk: the listing reads one of them a turn, so it is far from done.
        var listing = store.EnumerateAsync(t0 + 1).GetAsyncEnumerator();
        Assert.True(await listing.MoveNextAsync());
        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            while (await listing.MoveNextAsync())
            {
            }
        });
        await listing.DisposeAsync();

        var log = new CollectingLog();
        await using var reopened = Stores.Open(dir.Path, log);
        Assert.Equal(0, Serious(log) + log.Count(StoreLogLevel.Warning));
        Assert.Equal(3000, (await ListAsync(reopened, t0 + 1)).Count);
    }
}
