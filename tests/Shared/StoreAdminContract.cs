using System.Text;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Tests.Shared;

/// <summary>
/// What every store's admin operations must do, run against each store by a subclass that opens it: the same
/// facts for the in-memory, the FASTER and the shared store.
/// </summary>
public abstract class StoreAdminContract
{
    protected static readonly GreylistOptions Options = new();

    /// <summary>A minute ago: the persistent store refuses records from more than a day ahead of the wall clock.</summary>
    protected static readonly long T0 = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;

    protected static readonly byte[] Triplet = Bytes("192.0.2.0/alice@example.net/bob@example.org");

    protected static readonly byte[] Client = Bytes("192.0.2.10");

    protected static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>A new, empty store of the kind under test.</summary>
    protected abstract Task<IGreylistStore> OpenAsync();

    private async Task<(IGreylistStore Store, IStoreAdmin Admin)> OpenAdminAsync()
    {
        var store = await OpenAsync();
        return (store, (IStoreAdmin)store);
    }

    [Fact]
    public async Task Peek_reads_what_requests_stored_and_changes_nothing()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0));
        await store.ObserveRequestAsync(Client, Triplet, T0);
        Assert.Equal(new TripletRecord(T0, T0), await admin.PeekTripletAsync(Triplet, T0 + 400));

        // Had the peek at +400 counted as a sighting, the triplet would have passed; the retry at +450 is its first pass.
        var retry = await store.ObserveRequestAsync(Client, Triplet, T0 + 450);
        Assert.False(retry.Triplet.LastWasSuccessful);
        Assert.Equal(1, retry.ClientCount);
        Assert.Equal(new TripletRecord(T0, T0 + 450), await admin.PeekTripletAsync(Triplet, T0 + 500));
        Assert.Equal(new ClientRecord(1, T0 + 450), await admin.PeekClientAsync(Client, T0 + 500));
        Assert.Null(await admin.PeekClientAsync(Bytes("192.0.2.11"), T0 + 500));
    }

    [Fact]
    public async Task Peek_answers_null_for_records_expired_at_the_given_time()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        await store.ObserveRequestAsync(Client, Triplet, T0);
        Assert.NotNull(await admin.PeekTripletAsync(Triplet, T0 + Options.RetryWindow));
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0 + Options.RetryWindow + 1));

        await store.ObserveRequestAsync(Client, Triplet, T0 + 300);
        Assert.NotNull(await admin.PeekClientAsync(Client, T0 + 300 + Options.MaxAge));
        Assert.Null(await admin.PeekClientAsync(Client, T0 + 300 + Options.MaxAge + 1));
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0 + 300 + Options.MaxAge + 1));
    }

    [Fact]
    public async Task A_deleted_triplet_is_greylisted_as_new_and_a_deleted_client_counts_from_one()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        await store.ObserveRequestAsync(Client, Triplet, T0);
        await store.ObserveRequestAsync(Client, Triplet, T0 + 300);
        Assert.True(await admin.DeleteTripletAsync(Triplet));
        Assert.False(await admin.DeleteTripletAsync(Triplet));
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0 + 301));
        var again = await store.ObserveRequestAsync(Client, Triplet, T0 + 301);
        Assert.Equal(T0 + 301, again.Triplet.FirstSeen);
        Assert.False(again.Triplet.LastWasSuccessful);

        Assert.True(await admin.DeleteClientAsync(Client));
        Assert.False(await admin.DeleteClientAsync(Client));
        Assert.Null(await admin.PeekClientAsync(Client, T0 + 302));
        Assert.Equal(1, (await store.ObserveRequestAsync(Client, Triplet, T0 + 700)).ClientCount);
    }

    [Fact]
    public async Task An_imported_triplet_is_stored_when_absent_and_decides_the_next_request()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        Assert.Equal(ImportOutcome.Added, await admin.ImportTripletAsync(Triplet, new TripletRecord(T0 - 1000, T0 - 600), T0));
        Assert.Equal(new TripletRecord(T0 - 1000, T0 - 600), await admin.PeekTripletAsync(Triplet, T0));
        Assert.True((await store.ObserveRequestAsync(default, Triplet, T0)).Triplet.LastWasSuccessful);
        Assert.Equal(ImportOutcome.Kept, await admin.ImportTripletAsync(Triplet, new TripletRecord(T0 - 900, T0 - 800), T0));
    }

    [Fact]
    public async Task Importing_two_unpassed_sightings_never_makes_a_triplet_pass()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        await store.ObserveRequestAsync(default, Triplet, T0);

        // postgrey saw it first 400 s earlier and never again: together the two would span more than the delay.
        Assert.Equal(ImportOutcome.Merged, await admin.ImportTripletAsync(Triplet, new TripletRecord(T0 - 400, T0 - 400), T0));
        Assert.Equal(new TripletRecord(T0 - 400, T0 - 400), await admin.PeekTripletAsync(Triplet, T0));
        Assert.Equal(ImportOutcome.Kept, await admin.ImportTripletAsync(Triplet, new TripletRecord(T0, T0), T0));
        Assert.False((await store.ObserveRequestAsync(default, Triplet, T0 + 1)).Triplet.LastWasSuccessful);
    }

    [Fact]
    public async Task An_imported_pass_wins_over_a_stored_triplet_that_has_not_passed()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        await store.ObserveRequestAsync(default, Triplet, T0);
        Assert.Equal(ImportOutcome.Merged, await admin.ImportTripletAsync(Triplet, new TripletRecord(T0 - 5000, T0 - 4000), T0));
        Assert.Equal(new TripletRecord(T0 - 5000, T0), await admin.PeekTripletAsync(Triplet, T0));
        Assert.True((await store.ObserveRequestAsync(default, Triplet, T0 + 1)).Triplet.LastWasSuccessful);
    }

    [Fact]
    public async Task An_expired_import_changes_nothing_and_an_impossible_one_is_refused()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        long old = T0 - Options.MaxAge - 10;
        Assert.Equal(ImportOutcome.Expired, await admin.ImportTripletAsync(Triplet, new TripletRecord(old - 1000, old), T0));
        Assert.Equal(ImportOutcome.Expired, await admin.ImportClientAsync(Client, new ClientRecord(9, old), T0));
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0));
        Assert.Null(await admin.PeekClientAsync(Client, T0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await admin.ImportTripletAsync(Triplet, new TripletRecord(T0, T0 - 1), T0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await admin.ImportClientAsync(Client, new ClientRecord(0, T0), T0));
        Assert.Null(await admin.PeekTripletAsync(Triplet, T0));
    }

    [Fact]
    public async Task An_imported_client_keeps_the_higher_count_and_the_later_last_count()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        Assert.Equal(ImportOutcome.Added, await admin.ImportClientAsync(Client, new ClientRecord(3, T0 - 100), T0));
        Assert.Equal(ImportOutcome.Merged, await admin.ImportClientAsync(Client, new ClientRecord(7, T0 - 5000), T0));
        Assert.Equal(new ClientRecord(7, T0 - 100), await admin.PeekClientAsync(Client, T0));
        Assert.Equal(ImportOutcome.Kept, await admin.ImportClientAsync(Client, new ClientRecord(2, T0 - 200), T0));

        // Seven passes are past the threshold of five: the client is whitelisted.
        Assert.True((await store.ObserveRequestAsync(Client, Triplet, T0)).ClientWhitelisted);
    }

    [Fact]
    public async Task Enumerate_lists_each_live_record_once_with_its_key_and_leaves_out_deleted_and_expired_ones()
    {
        var (store, admin) = await OpenAdminAsync();
        await using var _ = store;
        for (int i = 0; i < 20; i++)
        {
            await store.ObserveRequestAsync(default, Bytes($"192.0.2.0/s{i}@example.net/r@example.org"), T0 + i);
        }

        await store.ObserveRequestAsync(default, Bytes("192.0.2.0/s3@example.net/r@example.org"), T0 + 400);
        await store.ObserveRequestAsync(default, Bytes("192.0.2.0/s4@example.net/r@example.org"), T0 + 401);
        await admin.ImportClientAsync(Client, new ClientRecord(2, T0), T0);
        await admin.ImportClientAsync(Bytes("192.0.2.11"), new ClientRecord(1, T0 - 10), T0);
        Assert.True(await admin.DeleteTripletAsync(Bytes("192.0.2.0/s5@example.net/r@example.org")));
        Assert.True(await admin.DeleteClientAsync(Bytes("192.0.2.11")));

        // At T0 + 3000 the never-retried ones are within the retry window (two days) still; at T0 + 2 days + 30 only the passed ones are left.
        var listed = await ListAsync(admin, T0 + 3000);
        Assert.Equal(20, listed.Count);
        var client = listed.Single(e => e.IsClient);
        Assert.Equal(Client, client.Key);
        Assert.Equal(new ClientRecord(2, T0), client.Client);
        var passed = listed.Single(e => Encoding.Latin1.GetString(e.Key!) == "192.0.2.0/s3@example.net/r@example.org");
        Assert.Equal(new TripletRecord(T0 + 3, T0 + 400), passed.Triplet);
        Assert.DoesNotContain(listed, e => Encoding.Latin1.GetString(e.Key!) == "192.0.2.0/s5@example.net/r@example.org");

        var later = await ListAsync(admin, T0 + Options.RetryWindow + 30);
        Assert.Equal(["192.0.2.0/s3@example.net/r@example.org", "192.0.2.0/s4@example.net/r@example.org", "192.0.2.10"],
            later.Select(e => Encoding.Latin1.GetString(e.Key!)).Order(StringComparer.Ordinal));
    }

    public static async Task<List<StoreEntry>> ListAsync(IStoreAdmin admin, long now)
    {
        var entries = new List<StoreEntry>();
        await foreach (var entry in admin.EnumerateAsync(now))
        {
            entries.Add(entry);
        }

        return entries;
    }
}
