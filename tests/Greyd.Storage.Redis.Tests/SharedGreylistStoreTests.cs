using Greyd.Policy;

namespace Greyd.Storage.Redis.Tests;

/// <summary>Failing open to the local store, with a scripted stand-in for the shared store.</summary>
public sealed class SharedGreylistStoreTests
{
    private static readonly GreylistOptions s_options = new() { Delay = 60, AutoWhitelistClients = 0 };
    private static readonly ReadOnlyMemory<byte> s_key = "192.0.2.0/a@example.net/b@example.org"u8.ToArray();

    /// <summary>Answers with <see cref="Answer"/>, fails, or never answers, as the test says.</summary>
    private sealed class FakeSharedStore : ISharedStore
    {
        public Func<Task<RequestObservation>> Answer { get; set; } = () => Task.FromResult(default(RequestObservation));

        public Func<Task> Probe { get; set; } = () => Task.CompletedTask;

        public List<RequestObservation?> LocalViews { get; } = [];

        public int Calls { get; private set; }

        public string Name => "redis://test:6379/0";

        public async Task<(string? Server, string? Note)> ConnectAsync()
        {
            await Probe();
            return ("Redis 7.0.15", null);
        }

        public Task<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now, RequestObservation? local)
        {
            Calls++;
            LocalViews.Add(local);
            return Answer();
        }

        public Task ProbeAsync() => Probe();

        /// <summary>What every admin call does first: complete, fail or hang.</summary>
        public Func<Task> Admin { get; set; } = () => Task.CompletedTask;

        public int AdminCalls { get; private set; }

        /// <summary>The shared store's own triplet record, which a peek answers instead of the local one when set.</summary>
        public TripletRecord? SharedTriplet { get; set; }

        public async Task<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now, TripletRecord? local) =>
            await AdminAsync(SharedTriplet ?? local);

        public Task<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now, ClientRecord? local) => AdminAsync(local);

        public Task<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey) => AdminAsync(true);

        public Task<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey) => AdminAsync(true);

        public Task<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now) => AdminAsync(ImportOutcome.Added);

        public Task<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now) => AdminAsync(ImportOutcome.Added);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private async Task<T> AdminAsync<T>(T answer)
        {
            AdminCalls++;
            await Admin();
            return answer;
        }
    }

    private sealed class BrokenLocalStore : IGreylistStore
    {
        public ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now) =>
            throw new IOException("disk on fire");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static RequestObservation SharedAnswer(long first) => new(false, new TripletObservation(new TripletRecord(first, first + 100), true, false), 0);

    [Fact]
    public async Task While_the_shared_store_answers_its_answer_counts_and_it_sees_this_hosts_local_view()
    {
        var fake = new FakeSharedStore { Answer = () => Task.FromResult(SharedAnswer(1000)) };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log);
        await store.StartAsync(TimeSpan.FromSeconds(5));
        var found = await store.ObserveRequestAsync(default, s_key, 1100);
        Assert.Equal(SharedAnswer(1000), found);
        Assert.Equal(1100, Assert.Single(fake.LocalViews)!.Value.Triplet.FirstSeen);
        Assert.Equal(1, log.Count("connected"));
        Assert.True(store.GetHealth().Shared is { Up: true, Failures: 0 });
    }

    [Fact]
    public async Task A_failing_shared_store_is_logged_once_and_every_request_is_answered_from_the_local_store_without_asking_it_again()
    {
        var fake = new FakeSharedStore { Answer = () => Task.FromException<RequestObservation>(new SharedStoreException("connection lost")) };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        var first = await store.ObserveRequestAsync(default, s_key, 1000);
        var retry = await store.ObserveRequestAsync(default, s_key, 1061);
        Assert.Equal(PolicyOutcome.GreylistNew, GreylistPolicy.Decide(first.Triplet, 1000, s_options).Outcome);
        Assert.Equal(PolicyOutcome.FirstPass, GreylistPolicy.Decide(retry.Triplet, 1061, s_options).Outcome);
        Assert.Equal(1, fake.Calls);
        Assert.Equal(1, log.Count("connection lost; greylisting from the local store until it is back"));
        Assert.True(store.GetHealth().Shared is { Up: false, Failures: 1, DownSince: not null });
    }

    [Fact]
    public async Task An_unexpected_exception_from_the_shared_store_still_fails_open_to_the_local_store()
    {
        var fake = new FakeSharedStore { Answer = () => throw new ObjectDisposedException("multiplexer") };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1000, (await store.ObserveRequestAsync(default, s_key, 1000)).Triplet.FirstSeen);
        Assert.Equal(1, log.Count("ObjectDisposedException"));
    }

    [Fact]
    public async Task A_shared_store_that_never_answers_costs_a_request_the_timeout_and_no_more()
    {
        var never = new TaskCompletionSource<RequestObservation>();
        var fake = new FakeSharedStore { Answer = () => never.Task };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromMilliseconds(30), log, probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        var found = await store.ObserveRequestAsync(default, s_key, 1000);
        Assert.Equal(1000, found.Triplet.FirstSeen);
        Assert.False(store.IsUp);
        Assert.Equal(1, log.Count("no answer within 30 ms"));
    }

    [Fact]
    public async Task The_probe_brings_the_shared_store_back_and_logs_it()
    {
        bool healthy = false;
        var fake = new FakeSharedStore
        {
            Answer = () => healthy ? Task.FromResult(SharedAnswer(900)) : Task.FromException<RequestObservation>(new SharedStoreException("cannot connect")),
            Probe = () => healthy ? Task.CompletedTask : Task.FromException(new SharedStoreException("cannot connect")),
        };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromMilliseconds(10));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        Assert.False(store.IsUp);
        Assert.Equal(1, log.Count("cannot connect; greylisting from the local store"));
        Assert.Equal(1000, (await store.ObserveRequestAsync(default, s_key, 1000)).Triplet.FirstSeen);
        Assert.Equal(0, fake.Calls);

        healthy = true;
        for (int i = 0; i < 500 && !store.IsUp; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(store.IsUp);
        Assert.Equal(1, log.Count("back, greylisting from it again"));
        Assert.Equal(SharedAnswer(900), await store.ObserveRequestAsync(default, s_key, 1010));
    }

    [Fact]
    public async Task A_store_that_fails_again_right_after_each_recovery_is_probed_less_and_less_often()
    {
        // Its probe always succeeds, its requests always fail: without a back-off this would be one outage per probe.
        var fake = new FakeSharedStore { Answer = () => Task.FromException<RequestObservation>(new SharedStoreException("slow")) };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromMilliseconds(10));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        var until = DateTime.UtcNow + TimeSpan.FromMilliseconds(1500);
        long now = 1000;
        while (DateTime.UtcNow < until)
        {
            await store.ObserveRequestAsync(default, s_key, now++);
            await Task.Delay(2);
        }

        // 10 ms probes would give over a hundred outages in 1.5 s; doubling waits (10, 20, 40, ... ms) give at most 8.
        int outages = log.Count("slow; greylisting from the local store");
        Assert.InRange(outages, 2, 8);
        Assert.InRange(log.Count("back, greylisting from it again"), outages - 1, outages);
    }

    [Fact]
    public async Task The_probe_keeps_probing_whatever_the_store_throws()
    {
        int probes = 0;
        var fake = new FakeSharedStore { Probe = () => Interlocked.Increment(ref probes) <= 2 ? throw new InvalidCastException("odd reply") : Task.CompletedTask };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromMilliseconds(10));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        for (int i = 0; i < 500 && !store.IsUp; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(store.IsUp);
        Assert.Equal(1, log.Count("back, greylisting from it again"));
    }

    [Fact]
    public async Task A_broken_local_store_still_lets_the_shared_store_answer_and_fails_only_when_both_fail()
    {
        var fake = new FakeSharedStore { Answer = () => Task.FromResult(SharedAnswer(1000)) };
        await using var store = new SharedGreylistStore(new BrokenLocalStore(), fake, TimeSpan.FromSeconds(5), new TestLog(), probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(SharedAnswer(1000), await store.ObserveRequestAsync(default, s_key, 1100));
        Assert.Null(Assert.Single(fake.LocalViews));

        fake.Answer = () => Task.FromException<RequestObservation>(new SharedStoreException("connection lost"));
        var e = await Assert.ThrowsAsync<IOException>(async () => await store.ObserveRequestAsync(default, s_key, 1200));
        Assert.Equal("disk on fire", e.Message);
    }

    [Fact]
    public async Task A_peek_merges_the_shared_record_while_it_answers_and_falls_back_to_the_local_one_when_it_fails()
    {
        var fake = new FakeSharedStore { Answer = () => Task.FromResult(SharedAnswer(1000)), SharedTriplet = new TripletRecord(900, 1000) };
        var log = new TestLog();
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), log, probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        await store.ObserveRequestAsync(default, s_key, 1000);
        Assert.Equal(new TripletRecord(900, 1000), await store.PeekTripletAsync(s_key, 1010));

        fake.Admin = () => Task.FromException(new SharedStoreException("connection lost"));
        Assert.Equal(new TripletRecord(1000, 1000), await store.PeekTripletAsync(s_key, 1010));
        Assert.False(store.IsUp);
        Assert.Equal(1, log.Count("connection lost; greylisting from the local store until it is back"));

        // Down, the shared store is not asked again.
        int calls = fake.AdminCalls;
        Assert.Equal(new TripletRecord(1000, 1000), await store.PeekTripletAsync(s_key, 1010));
        Assert.Equal(calls, fake.AdminCalls);
    }

    [Fact]
    public async Task A_delete_the_shared_store_cannot_take_is_reported_after_deleting_here_even_while_it_is_down()
    {
        var never = new TaskCompletionSource();
        var fake = new FakeSharedStore { Answer = () => Task.FromResult(SharedAnswer(1000)), Admin = () => never.Task };
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromMilliseconds(50), new TestLog(), probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        await store.ObserveRequestAsync(default, s_key, 1000);
        var e = await Assert.ThrowsAsync<SharedStoreException>(async () => await store.DeleteTripletAsync(s_key));
        Assert.Equal("deleted here, but not deleted from the shared store redis://test:6379/0 (no answer within 50 ms); it may come back from there", e.Message);
        Assert.False(store.IsUp);
        Assert.Null(await store.PeekTripletAsync(s_key, 1010));

        // A record deleted here only would come back from the shared store: it is asked even while down.
        fake.Admin = () => Task.CompletedTask;
        int calls = fake.AdminCalls;
        Assert.True(await store.DeleteTripletAsync(s_key));
        Assert.Equal(calls + 1, fake.AdminCalls);
    }

    [Fact]
    public async Task An_import_while_the_shared_store_is_down_goes_to_the_local_store_only_and_the_listing_is_the_local_stores()
    {
        var fake = new FakeSharedStore { Probe = () => Task.FromException(new SharedStoreException("cannot connect")) };
        await using var store = new SharedGreylistStore(new InMemoryGreylistStore(s_options), fake, TimeSpan.FromSeconds(5), new TestLog(), probeInterval: TimeSpan.FromHours(1));
        await store.StartAsync(TimeSpan.FromSeconds(5));
        Assert.False(store.IsUp);
        Assert.Equal(ImportOutcome.Added, await store.ImportTripletAsync(s_key, new TripletRecord(1_700_000_000, 1_700_000_100), 1_700_000_200));
        Assert.Equal(0, fake.AdminCalls);
        var entry = Assert.Single(await Greyd.Tests.Shared.StoreAdminContract.ListAsync(store, 1_700_000_200));
        Assert.Equal(s_key.ToArray(), entry.Key);
        Assert.Equal(new TripletRecord(1_700_000_000, 1_700_000_100), entry.Triplet);
    }
}
