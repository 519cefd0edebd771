using System.Globalization;
using Greyd.Policy;

namespace Greyd.Storage.Redis.Tests;

/// <summary>The import scripts against a real redis-server: the same merges as the embedded stores, atomic, with a request's TTL.</summary>
public sealed class ImportScriptTests(RedisServer redis) : ScriptTestBase(redis)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Over_random_imports_and_requests_the_scripts_merge_exactly_as_the_embedded_store(int seed)
    {
        await using var shared = await ConnectAsync($"import{seed}:");
        await using var embedded = new InMemoryGreylistStore(Options);
        var random = new Random(seed);
        long now = 1_800_000_000;
        var seen = new Dictionary<ImportOutcome, int>();
        for (int i = 0; i < 3000; i++)
        {
            // Mostly minutes, now and then a day or more: keys expire and come back as new.
            now += random.Next(20) == 0 ? random.Next(0, 2 * 86400) : random.Next(0, 120);
            int which = random.Next(3);
            var tripletKey = Bytes($"192.0.2.0/s{random.Next(20)}@example.net/r@example.org");
            var clientKey = Bytes($"192.0.2.{random.Next(8)}");
            if (which == 0)
            {
                // Requests in between, so imports meet records of every age and state.
                Assert.Equal(await embedded.ObserveRequestAsync(clientKey, tripletKey, now), await shared.ObserveRequestAsync(clientKey, tripletKey, now, null));
            }
            else if (which == 1)
            {
                long last = now - random.Next(-100, 1200);
                var record = new TripletRecord(last - random.Next(0, 200), last);
                var outcome = await embedded.ImportTripletAsync(tripletKey, record, now);
                Assert.Equal(outcome, await shared.ImportTripletAsync(tripletKey, record, now));
                seen[outcome] = seen.GetValueOrDefault(outcome) + 1;
            }
            else
            {
                var record = new ClientRecord(random.Next(1, 5), now - random.Next(-100, 100_000));
                var outcome = await embedded.ImportClientAsync(clientKey, record, now);
                Assert.Equal(outcome, await shared.ImportClientAsync(clientKey, record, now));
                seen[outcome] = seen.GetValueOrDefault(outcome) + 1;
            }

            Assert.Equal(await embedded.PeekTripletAsync(tripletKey, now), await shared.PeekTripletAsync(tripletKey, now, null));
            Assert.Equal(await embedded.PeekClientAsync(clientKey, now), await shared.PeekClientAsync(clientKey, now, null));
        }

        // Every outcome must have come up often, or the comparison proves little.
        Assert.All(Enum.GetValues<ImportOutcome>(), outcome => Assert.True(seen.GetValueOrDefault(outcome) > 50, string.Join(", ", seen)));
    }

    [Fact]
    public async Task An_imported_record_expires_when_a_request_at_its_last_sighting_would_have_let_it()
    {
        await using var shared = await ConnectAsync("importttl:");
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await shared.ImportTripletAsync(Bytes("unpassed"), new TripletRecord(now - 100, now - 100), now);
        await shared.ImportTripletAsync(Bytes("passed"), new TripletRecord(now - 1000, now - 100), now);
        await shared.ImportClientAsync(Bytes("192.0.2.1"), new ClientRecord(3, now - 100), now);
        Assert.InRange((await Redis.Database.KeyTimeToLiveAsync("importttl:t:unpassed"))!.Value.TotalSeconds, 495, 501);
        Assert.InRange((await Redis.Database.KeyTimeToLiveAsync("importttl:t:passed"))!.Value.TotalSeconds, 86295, 86301);
        Assert.InRange((await Redis.Database.KeyTimeToLiveAsync("importttl:c:192.0.2.1"))!.Value.TotalSeconds, 86295, 86301);
        Assert.Equal((now - 1000).ToString(CultureInfo.InvariantCulture), (string?)await Redis.Database.HashGetAsync("importttl:t:passed", "first"));
    }

    [Fact]
    public async Task A_peek_merges_this_hosts_record_without_inventing_a_pass_and_changes_nothing()
    {
        await using var shared = await ConnectAsync("peek:");
        long t = 1_800_000_000;
        var key = Bytes("192.0.2.0/a@example.net/b@example.org");
        await shared.ObserveRequestAsync(default, key, t + 100, null);
        Assert.Equal(new TripletRecord(t + 100, t + 100), await shared.PeekTripletAsync(key, t + 200, null));
        Assert.Equal(new TripletRecord(t, t + 100), await shared.PeekTripletAsync(key, t + 200, new TripletRecord(t, t + 70)));
        // Seen here at t and there at t+100, neither a pass: the earlier record, not a span that would pass.
        Assert.Equal(new TripletRecord(t, t), await shared.PeekTripletAsync(key, t + 200, new TripletRecord(t, t)));
        Assert.Null(await shared.PeekTripletAsync(Bytes("absent"), t, null));
        Assert.Equal(t + 100, (await shared.ObserveRequestAsync(default, key, t + 130, null)).Triplet.FirstSeen);
    }
}
