using Greyd.Policy;
using StackExchange.Redis;

namespace Greyd.Storage.Redis.Tests;

/// <summary>The Lua script against a real redis-server: the same rules as the embedded stores, and the merges.</summary>
public sealed class RequestScriptTests(RedisServer redis) : ScriptTestBase(redis)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Over_random_request_sequences_the_script_answers_exactly_as_the_embedded_store(int seed)
    {
        await using var shared = await ConnectAsync($"seq{seed}:");
        await using var embedded = new InMemoryGreylistStore(Options);
        var random = new Random(seed);
        long now = 1_800_000_000;
        int whitelisted = 0, passes = 0, counted = 0, corrected = 0, retried = 0;
        for (int i = 0; i < 3000; i++)
        {
            // Mostly retries within minutes; now and then hours (AWL counts), days (expiry), or a clock step back.
            now += random.Next(10) switch
            {
                < 6 => random.Next(0, 90),
                < 8 => random.Next(0, 3 * 3600),
                8 => random.Next(0, 2 * 86400),
                _ => -random.Next(0, 120),
            };
            int client = random.Next(4);
            var clientKey = Bytes($"192.0.2.{client}");
            var tripletKey = Bytes($"192.0.2.{client}/s{random.Next(3)}@example.net/r@example.org");
            var expected = await embedded.ObserveRequestAsync(clientKey, tripletKey, now);
            var actual = await shared.ObserveRequestAsync(clientKey, tripletKey, now, local: null);
            Assert.Equal(expected, actual);
            whitelisted += actual.ClientWhitelisted ? 1 : 0;
            passes += actual.Triplet.LastWasSuccessful ? 1 : 0;
            counted += actual.ClientCount > 0 ? 1 : 0;
            corrected += actual.Triplet.CorrectedFutureFirstSeen ? 1 : 0;
            retried += actual.Triplet.FirstRetry ? 1 : 0;
        }

        // The sequence must have reached every branch, or the comparison proves little.
        Assert.True(whitelisted > 50 && passes > 50 && counted > 20 && corrected > 0 && retried > 50,
            $"whitelisted={whitelisted} passes={passes} counted={counted} corrected={corrected} retried={retried}");
    }

    [Fact]
    public async Task A_server_that_forgot_the_script_is_sent_it_again()
    {
        await using var shared = await ConnectAsync("flush:");
        await Redis.Server.ScriptFlushAsync();
        var found = await shared.ObserveRequestAsync(default, Bytes("192.0.2.3/a@example.net/b@example.org"), 1_800_000_000, null);
        Assert.Equal(1_800_000_000, found.Triplet.FirstSeen);
        Assert.True(await Redis.Database.KeyExistsAsync("flush:t:192.0.2.3/a@example.net/b@example.org"));
    }

    [Fact]
    public async Task Records_are_hashes_under_the_prefix_and_expire_by_the_retry_window_until_they_pass_then_by_max_age()
    {
        await using var shared = await ConnectAsync("ttl:");
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await shared.ObserveRequestAsync(Bytes("192.0.2.1"), Bytes("192.0.2.1/a@example.net/b@example.org"), now, null);
        RedisKey triplet = "ttl:t:192.0.2.1/a@example.net/b@example.org";
        Assert.Equal(now.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)await Redis.Database.HashGetAsync(triplet, "first"));
        var ttl = await Redis.Database.KeyTimeToLiveAsync(triplet);
        Assert.InRange(ttl!.Value.TotalSeconds, 590, 601);

        var pass = await shared.ObserveRequestAsync(Bytes("192.0.2.1"), Bytes("192.0.2.1/a@example.net/b@example.org"), now + 61, null);
        Assert.Equal(1, pass.ClientCount);
        ttl = await Redis.Database.KeyTimeToLiveAsync(triplet);
        Assert.InRange(ttl!.Value.TotalSeconds, 86390, 86401);
        Assert.Equal("1", (string?)await Redis.Database.HashGetAsync("ttl:c:192.0.2.1", "count"));
        Assert.InRange((await Redis.Database.KeyTimeToLiveAsync("ttl:c:192.0.2.1"))!.Value.TotalSeconds, 86390, 86401);
    }

    [Fact]
    public async Task An_earlier_sighting_in_this_hosts_store_wins_over_a_later_first_sighting_in_the_shared_store()
    {
        await using var shared = await ConnectAsync("merge:");
        var key = Bytes("192.0.2.5/a@example.net/b@example.org");
        long t = 1_800_000_000;
        // The shared store saw it first at t+50 (say, it was emptied); this host saw it at t.
        await shared.ObserveRequestAsync(default, key, t + 50, null);
        var local = new RequestObservation(false, new TripletObservation(new TripletRecord(t, t + 70), false, false), 0);
        var merged = await shared.ObserveRequestAsync(default, key, t + 70, local);
        Assert.Equal(t, merged.Triplet.FirstSeen);
        Assert.Equal(PolicyOutcome.FirstPass, GreylistPolicy.Decide(merged.Triplet, t + 70, Options).Outcome);

        // A later local sighting never moves the shared first-seen forward.
        var later = new RequestObservation(false, new TripletObservation(new TripletRecord(t + 60, t + 80), false, false), 0);
        Assert.Equal(t, (await shared.ObserveRequestAsync(default, key, t + 80, later)).Triplet.FirstSeen);
    }

    [Fact]
    public async Task A_client_this_hosts_store_whitelists_is_whitelisted_in_the_shared_store_too()
    {
        await using var shared = await ConnectAsync("awl:");
        long t = 1_800_000_000;
        var found = await shared.ObserveRequestAsync(Bytes("192.0.2.7"), Bytes("192.0.2.7/a@example.net/b@example.org"), t, RequestObservation.Whitelisted);
        Assert.True(found.ClientWhitelisted);
        // The next request from another host, with nothing local, finds the client whitelisted.
        Assert.True((await shared.ObserveRequestAsync(Bytes("192.0.2.7"), Bytes("192.0.2.7/c@example.net/b@example.org"), t + 1, null)).ClientWhitelisted);
        Assert.False(await Redis.Database.KeyExistsAsync("awl:t:192.0.2.7/a@example.net/b@example.org"));
    }

    [Fact]
    public async Task Concurrent_first_sightings_from_many_hosts_keep_one_first_seen_and_count_the_first_pass_once()
    {
        await using var host1 = await ConnectAsync("race:");
        await using var host2 = await ConnectAsync("race:");
        long t = 1_800_000_000;
        var key = Bytes("192.0.2.9/a@example.net/b@example.org");
        var client = Bytes("192.0.2.9");
        var sightings = Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? host1 : host2).ObserveRequestAsync(client, key, t + (i % 7), null));
        var results = await Task.WhenAll(sightings);
        Assert.Equal(t, results.Min(r => r.Triplet.FirstSeen));
        Assert.Equal(t.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)await Redis.Database.HashGetAsync("race:t:192.0.2.9/a@example.net/b@example.org", "first"));
        var passes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => (i % 2 == 0 ? host1 : host2).ObserveRequestAsync(client, key, t + 120, null)));
        // Exactly one of the simultaneous retries is the first pass, and the client is counted once.
        Assert.Single(passes, p => !p.Triplet.LastWasSuccessful);
        Assert.Single(passes, p => p.ClientCount == 1);
        Assert.Equal("1", (string?)await Redis.Database.HashGetAsync("race:c:192.0.2.9", "count"));
    }

    [Fact]
    public async Task Privacy_keys_reach_the_shared_store_as_the_digests_greyd_computes()
    {
        await using var shared = await ConnectAsync("privacy:");
        var options = new GreylistOptions { Privacy = true };
        var request = new Greyd.Protocol.PolicyRequest();
        request.Set(Greyd.Protocol.PolicyAttribute.Sender, "alice@example.net"u8);
        request.Set(Greyd.Protocol.PolicyAttribute.Recipient, "bob@example.org"u8);
        Assert.True(ClientAddress.TryParse("192.0.2.10"u8, out var client));
        byte[] key = new byte[TripletKeyBuilder.MaxKeyLength];
        int n = TripletKeyBuilder.WriteTripletKey(request, client, options, key);
        await shared.ObserveRequestAsync(default, key.AsMemory(0, n), 1_800_000_000, null);
        var keys = Redis.Server.Keys(pattern: "privacy:t:*").Select(k => k.ToString()).ToList();
        string stored = Assert.Single(keys);
        Assert.Matches("^privacy:t:[0-9a-f]{40}$", stored);
        Assert.DoesNotContain("example", stored, StringComparison.Ordinal);
    }
}
