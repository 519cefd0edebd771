using System.Diagnostics;
using System.Net;
using ARSoft.Tools.Net.Dns;
using Greyd.Spf.Dns;
using Greyd.Tests.Shared;

namespace Greyd.Spf.Tests.Dns;

public sealed class SpfDnsResolverTests : IDisposable
{
    private readonly TestDnsServer _server = TestDnsServer.Start();
    private readonly ManualClock _clock = new();
    private readonly List<SpfDnsResolver> _resolvers = [];

    public SpfDnsResolverTests() => _server.AddZone("spf.test", negativeTtl: 30);

    public void Dispose()
    {
        foreach (var resolver in _resolvers)
        {
            resolver.Dispose();
        }

        _server.Dispose();
    }

    private SpfDnsResolver Resolver(int maxEntries = 1000, TimeSpan? timeout = null, int attempts = 2, TimeSpan? failureTtl = null, IReadOnlyList<IPEndPoint>? servers = null)
    {
        var resolver = new SpfDnsResolver(new SpfDnsOptions
        {
            Servers = servers ?? [_server.EndPoint],
            QueryTimeout = timeout ?? TimeSpan.FromSeconds(2),
            Attempts = attempts,
            MaxEntries = maxEntries,
            FailureTtl = failureTtl ?? TimeSpan.FromSeconds(10),
        }, _clock);
        _resolvers.Add(resolver);
        return resolver;
    }

    /// <summary>The answer of a lookup that must have completed synchronously (a cache hit).</summary>
    private static T Done<T>(ValueTask<T> lookup)
    {
        Assert.True(lookup.IsCompletedSuccessfully, "not answered from the cache");
        return lookup.Result;
    }

    [Fact]
    public async Task Txt_joins_a_records_strings_without_separator_and_keeps_records_apart()
    {
        _server.AddTxt("split.spf.test", 300, "v=spf1 ip4:192.0.2.0/24", " include:other.spf.test", " -all");
        _server.AddTxt("split.spf.test", 300, "unrelated=yes");
        var answer = await Resolver().GetTxtAsync("split.spf.test", default);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal(["unrelated=yes", "v=spf1 ip4:192.0.2.0/24 include:other.spf.test -all"], answer.Records.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Txt_is_the_unescaped_text()
    {
        const string Text = "v=spf1 exists:%{i}.a\"b;c\\d -all";
        _server.AddTxt("escaped.spf.test", 300, Text);
        var answer = await Resolver().GetTxtAsync("escaped.spf.test", default);
        Assert.Equal([Text], answer.Records);
    }

    [Fact]
    public async Task A_and_AAAA_come_back_as_addresses()
    {
        _server.AddA("host.spf.test", 300, IPAddress.Parse("192.0.2.1"));
        _server.AddA("host.spf.test", 300, IPAddress.Parse("192.0.2.2"));
        _server.AddAaaa("host.spf.test", 300, IPAddress.Parse("2001:db8::1"));
        var resolver = Resolver();
        var v4 = await resolver.GetAddressesAsync("host.spf.test", ipv6: false, default);
        var v6 = await resolver.GetAddressesAsync("host.spf.test", ipv6: true, default);
        Assert.Equal([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")], v4.Records.OrderBy(a => a.ToString()));
        Assert.Equal([IPAddress.Parse("2001:db8::1")], v6.Records);
    }

    [Fact]
    public async Task Mx_gives_exchange_names_without_the_trailing_dot()
    {
        _server.AddMx("mail.spf.test", 300, 10, "mx1.spf.test.");
        _server.AddMx("mail.spf.test", 300, 20, "MX2.Example.NET");
        var answer = await Resolver().GetMxAsync("mail.spf.test", default);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal(["mx1.spf.test", "mx2.example.net"], answer.Records.Select(n => n.ToLowerInvariant()).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(answer.Records, n => n.EndsWith('.'));
    }

    [Fact]
    public async Task Ptr_of_an_IPv4_and_an_IPv6_address()
    {
        var v4 = IPAddress.Parse("192.0.2.77");
        var v6 = IPAddress.Parse("2001:db8::77");
        _server.AddPtr(v4, 300, "host77.spf.test.");
        _server.AddPtr(v6, 300, "host77-v6.spf.test");
        var resolver = Resolver();
        Assert.Equal(["host77.spf.test"], (await resolver.GetPtrAsync(v4, default)).Records);
        Assert.Equal(["host77-v6.spf.test"], (await resolver.GetPtrAsync(v6, default)).Records);
        Assert.Equal(1, _server.PtrQueryCount(v4));
        Assert.Equal(1, _server.PtrQueryCount(v6));
    }

    [Fact]
    public async Task A_CNAME_is_followed_and_only_records_of_the_asked_type_are_kept()
    {
        _server.AddCname("alias.spf.test", 300, "target.spf.test");
        _server.AddTxt("target.spf.test", 300, "v=spf1 -all");
        _server.AddA("target.spf.test", 300, IPAddress.Parse("192.0.2.9"));
        var resolver = Resolver();
        var txt = await resolver.GetTxtAsync("alias.spf.test", default);
        var a = await resolver.GetAddressesAsync("alias.spf.test", ipv6: false, default);
        Assert.Equal(["v=spf1 -all"], txt.Records);
        Assert.Equal([IPAddress.Parse("192.0.2.9")], a.Records);
    }

    [Fact]
    public async Task NXDOMAIN_is_a_name_error()
    {
        var answer = await Resolver().GetTxtAsync("missing.spf.test", default);
        Assert.Equal(DnsStatus.NameError, answer.Status);
        Assert.Empty(answer.Records);
        Assert.True(answer.IsVoid);
    }

    [Fact]
    public async Task NODATA_is_ok_with_no_records()
    {
        _server.AddA("only-a.spf.test", 300, IPAddress.Parse("192.0.2.3"));
        var answer = await Resolver().GetTxtAsync("only-a.spf.test", default);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Empty(answer.Records);
        Assert.True(answer.IsVoid);
    }

    [Theory]
    [InlineData(ReturnCode.ServerFailure)]
    [InlineData(ReturnCode.Refused)]
    [InlineData(ReturnCode.FormatError)]
    [InlineData(ReturnCode.NotImplemented)]
    public async Task Other_response_codes_are_failures(ReturnCode code)
    {
        _server.AddTxt("broken.spf.test", 300, "v=spf1 -all");
        _server.SetError("broken.spf.test", code);
        var resolver = Resolver();
        var answer = await resolver.GetTxtAsync("broken.spf.test", default);
        Assert.Equal(DnsStatus.Failure, answer.Status);
        Assert.Empty(answer.Records);
        Assert.Equal(1, resolver.Statistics.Failures);
    }

    [Fact]
    public async Task A_dropped_query_is_a_failure_within_the_timeout_times_the_attempts()
    {
        _server.SetDropped("silent.spf.test");
        var timeout = TimeSpan.FromMilliseconds(400);
        var resolver = Resolver(timeout: timeout, attempts: 2);
        var watch = Stopwatch.StartNew();
        var answer = await resolver.GetTxtAsync("silent.spf.test", default);
        watch.Stop();
        Assert.Equal(DnsStatus.Failure, answer.Status);
        Assert.True(watch.Elapsed < (timeout * 2.25) + TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.True(watch.Elapsed >= timeout, $"gave up after {watch.Elapsed}, before one timeout");
        // The in-process server counts a query when its loop gets to it, which a busy machine may delay a little.
        var counted = Stopwatch.StartNew();
        while (_server.QueryCount(RecordType.Txt, "silent.spf.test") < 2 && counted.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "silent.spf.test"));
    }

    [Fact]
    public async Task A_dead_first_server_leaves_time_for_the_second()
    {
        using var second = TestDnsServer.Start();
        second.AddTxt("two.spf.test", 300, "v=spf1 +all");
        _server.SetDropped("two.spf.test");
        // The first server takes one timeout; the second has the other (a whole second, for a loaded machine).
        var resolver = Resolver(timeout: TimeSpan.FromSeconds(1), attempts: 2, servers: [_server.EndPoint, second.EndPoint]);
        var watch = Stopwatch.StartNew();
        var answer = await resolver.GetTxtAsync("two.spf.test", default);
        Assert.True(answer.Records.Count == 1, $"{answer.Status} after {watch.Elapsed}; first {_server.EndPoint} asked {_server.QueryCount(RecordType.Txt, "two.spf.test")}, second {second.EndPoint} asked {second.QueryCount(RecordType.Txt, "two.spf.test")}");
        Assert.Equal(["v=spf1 +all"], answer.Records);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "two.spf.test"));
        Assert.Equal(1, second.QueryCount(RecordType.Txt, "two.spf.test"));
    }

    [Fact]
    public async Task A_positive_answer_is_kept_for_its_TTL_then_asked_again()
    {
        _server.AddTxt("ttl.spf.test", 60, "v=spf1 -all");
        var resolver = Resolver();
        await resolver.GetTxtAsync("ttl.spf.test", default);
        await resolver.GetTxtAsync("ttl.spf.test", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "ttl.spf.test"));

        _clock.Advance(TimeSpan.FromSeconds(59));
        await resolver.GetTxtAsync("TTL.spf.test.", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "ttl.spf.test"));

        _clock.Advance(TimeSpan.FromSeconds(2));
        var answer = await resolver.GetTxtAsync("ttl.spf.test", default);
        Assert.Equal(["v=spf1 -all"], answer.Records);
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "ttl.spf.test"));
    }

    [Fact]
    public async Task The_smallest_TTL_of_the_answer_counts()
    {
        _server.AddCname("short.spf.test", 5, "long.spf.test");
        _server.AddA("long.spf.test", 3600, IPAddress.Parse("192.0.2.5"));
        var resolver = Resolver();
        await resolver.GetAddressesAsync("short.spf.test", false, default);
        _clock.Advance(TimeSpan.FromSeconds(4));
        await resolver.GetAddressesAsync("short.spf.test", false, default);
        Assert.Equal(1, _server.QueryCount(RecordType.A, "short.spf.test"));
        _clock.Advance(TimeSpan.FromSeconds(2));
        await resolver.GetAddressesAsync("short.spf.test", false, default);
        Assert.Equal(2, _server.QueryCount(RecordType.A, "short.spf.test"));
    }

    [Fact]
    public async Task A_TTL_beyond_MaxTtl_is_cut_to_it()
    {
        _server.AddTxt("forever.spf.test", 86400, "x");
        var resolver = Resolver();
        await resolver.GetTxtAsync("forever.spf.test", default);
        _clock.Advance(TimeSpan.FromMinutes(59));
        await resolver.GetTxtAsync("forever.spf.test", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "forever.spf.test"));
        _clock.Advance(TimeSpan.FromMinutes(2));
        await resolver.GetTxtAsync("forever.spf.test", default);
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "forever.spf.test"));
    }

    [Fact]
    public async Task NXDOMAIN_is_kept_for_the_SOA_minimum()
    {
        var resolver = Resolver();
        Assert.Equal(DnsStatus.NameError, (await resolver.GetTxtAsync("gone.spf.test", default)).Status);
        _server.AddTxt("gone.spf.test", 300, "v=spf1 -all");
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(DnsStatus.NameError, (await resolver.GetTxtAsync("gone.spf.test", default)).Status);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "gone.spf.test"));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(DnsStatus.Ok, (await resolver.GetTxtAsync("gone.spf.test", default)).Status);
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "gone.spf.test"));
    }

    [Fact]
    public async Task NODATA_is_kept_for_the_smaller_of_the_SOA_TTL_and_minimum()
    {
        _server.AddZone("short-soa.test", negativeTtl: 600, soaTtl: 20);
        _server.AddA("host.short-soa.test", 3600, IPAddress.Parse("192.0.2.4"));
        var resolver = Resolver();
        await resolver.GetTxtAsync("host.short-soa.test", default);
        _clock.Advance(TimeSpan.FromSeconds(19));
        await resolver.GetTxtAsync("host.short-soa.test", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "host.short-soa.test"));
        _clock.Advance(TimeSpan.FromSeconds(2));
        await resolver.GetTxtAsync("host.short-soa.test", default);
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "host.short-soa.test"));
    }

    [Fact]
    public async Task A_negative_answer_without_SOA_is_kept_five_minutes()
    {
        var resolver = Resolver();
        Assert.Equal(DnsStatus.NameError, (await resolver.GetTxtAsync("nozone.invalid", default)).Status);
        _clock.Advance(TimeSpan.FromMinutes(4.9));
        await resolver.GetTxtAsync("nozone.invalid", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "nozone.invalid"));
        _clock.Advance(TimeSpan.FromMinutes(0.2));
        await resolver.GetTxtAsync("nozone.invalid", default);
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "nozone.invalid"));
    }

    [Fact]
    public async Task A_failure_is_kept_for_FailureTtl()
    {
        _server.SetError("flaky.spf.test");
        var resolver = Resolver(failureTtl: TimeSpan.FromSeconds(10));
        Assert.Equal(DnsStatus.Failure, (await resolver.GetTxtAsync("flaky.spf.test", default)).Status);
        var sent = _server.QueryCount(RecordType.Txt, "flaky.spf.test");
        Assert.InRange(sent, 1, 2);

        _server.SetError("flaky.spf.test", ReturnCode.NoError);
        _server.AddTxt("flaky.spf.test", 300, "v=spf1 -all");
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(DnsStatus.Failure, (await resolver.GetTxtAsync("flaky.spf.test", default)).Status);
        Assert.Equal(sent, _server.QueryCount(RecordType.Txt, "flaky.spf.test"));

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(["v=spf1 -all"], (await resolver.GetTxtAsync("flaky.spf.test", default)).Records);
        Assert.Equal(sent + 1, _server.QueryCount(RecordType.Txt, "flaky.spf.test"));
    }

    [Fact]
    public async Task A_cache_hit_is_a_completed_ValueTask_with_the_same_answer_and_no_allocation()
    {
        _server.AddTxt("warm.spf.test", 300, "v=spf1 -all");
        _server.AddA("warm.spf.test", 300, IPAddress.Parse("192.0.2.8"));
        var v4 = IPAddress.Parse("192.0.2.8");
        _server.AddPtr(v4, 300, "warm.spf.test");
        var resolver = Resolver();
        var first = await resolver.GetTxtAsync("warm.spf.test", default);
        await resolver.GetAddressesAsync("warm.spf.test", false, default);
        await resolver.GetPtrAsync(v4, default);

        Assert.Same(first, Done(resolver.GetTxtAsync("Warm.SPF.test.", default)));

        for (var i = 0; i < 100; i++)
        {
            _ = Done(resolver.GetTxtAsync("warm.spf.test", default));
            _ = Done(resolver.GetAddressesAsync("Warm.spf.test.", false, default));
            _ = Done(resolver.GetPtrAsync(v4, default));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = Done(resolver.GetTxtAsync("warm.spf.test", default));
            _ = Done(resolver.GetAddressesAsync("Warm.spf.test.", false, default));
            _ = Done(resolver.GetPtrAsync(v4, default));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3, resolver.Statistics.Queries);
        Assert.Equal(3301, resolver.Statistics.CacheHits);
    }

    [Fact]
    public async Task Concurrent_lookups_of_one_name_share_one_query()
    {
        _server.AddTxt("slow.spf.test", 300, "v=spf1 -all");
        _server.SetDelay("slow.spf.test", TimeSpan.FromMilliseconds(300));
        var resolver = Resolver();
        var lookups = Enumerable.Range(0, 10)
            .Select(_ => Task.Run(async () => await resolver.GetTxtAsync("slow.spf.test", default)))
            .ToArray();
        var answers = await Task.WhenAll(lookups);
        Assert.All(answers, a => Assert.Same(answers[0], a));
        Assert.Equal(["v=spf1 -all"], answers[0].Records);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "slow.spf.test"));
        Assert.Equal(1, resolver.Statistics.Queries);
    }

    [Fact]
    public async Task A_caller_that_cancels_does_not_cancel_the_query()
    {
        _server.AddTxt("patient.spf.test", 300, "v=spf1 -all");
        _server.SetDelay("patient.spf.test", TimeSpan.FromMilliseconds(500));
        var resolver = Resolver();
        using var cancel = new CancellationTokenSource();
        var first = resolver.GetTxtAsync("patient.spf.test", cancel.Token).AsTask();
        Assert.False(first.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        var later = await resolver.GetTxtAsync("patient.spf.test", default);
        Assert.Equal(["v=spf1 -all"], later.Records);
        _ = Done(resolver.GetTxtAsync("patient.spf.test", default));
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "patient.spf.test"));
    }

    [Fact]
    public async Task A_cancelled_token_throws_on_a_miss()
    {
        _server.AddTxt("never.spf.test", 300, "v=spf1 -all");
        var resolver = Resolver();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await resolver.GetTxtAsync("never.spf.test", cancel.Token));
        Assert.Equal(0, _server.QueryCount(RecordType.Txt, "never.spf.test"));
    }

    [Fact]
    public async Task The_cache_never_holds_more_than_MaxEntries()
    {
        const int Max = 50;
        var resolver = Resolver(maxEntries: Max);
        for (var i = 0; i < 400; i++)
        {
            await resolver.GetTxtAsync($"n{i}.spf.test", default);
            Assert.InRange(resolver.Statistics.Entries, 1, Max);
        }

        Assert.True(resolver.Statistics.Evictions >= 400 - Max, $"{resolver.Statistics.Evictions} evictions");

        // The newest answers are the ones kept.
        await resolver.GetTxtAsync("n399.spf.test", default);
        await resolver.GetTxtAsync("n0.spf.test", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "n399.spf.test"));
        Assert.Equal(2, _server.QueryCount(RecordType.Txt, "n0.spf.test"));
    }

    [Fact]
    public async Task Expired_answers_go_first_when_the_cache_is_full()
    {
        const int Max = 20;
        _server.AddTxt("old.spf.test", 300, "x");
        var resolver = Resolver(maxEntries: Max);
        for (var i = 0; i < Max - 1; i++)
        {
            await resolver.GetTxtAsync($"e{i}.spf.test", default);
        }

        await resolver.GetTxtAsync("old.spf.test", default);
        _clock.Advance(TimeSpan.FromSeconds(31));
        _server.AddTxt("new.spf.test", 300, "y");
        await resolver.GetTxtAsync("new.spf.test", default);

        // The 19 NXDOMAIN answers (30 s) expired and went; the TXT (300 s) stayed although it was older than new.
        Assert.Equal(2, resolver.Statistics.Entries);
        await resolver.GetTxtAsync("old.spf.test", default);
        Assert.Equal(1, _server.QueryCount(RecordType.Txt, "old.spf.test"));
    }

    [Fact]
    public async Task A_truncated_UDP_answer_is_asked_again_over_TCP()
    {
        _server.AddTxt("tc.spf.test", 300, "v=spf1 -all");
        _server.SetTruncatedOverUdp("tc.spf.test");
        var answer = await Resolver().GetTxtAsync("tc.spf.test", default);
        Assert.Equal(["v=spf1 -all"], answer.Records);
        Assert.Equal(1, _server.UdpQueryCount(RecordType.Txt, "tc.spf.test"));
        Assert.Equal(1, _server.TcpQueryCount(RecordType.Txt, "tc.spf.test"));
    }

    [Fact]
    public async Task A_TXT_answer_too_big_for_UDP_comes_over_TCP_whole()
    {
        var strings = Enumerable.Range(0, 24).Select(i => $"{i:D2}" + new string((char)('a' + i), 248)).ToArray();
        _server.AddTxt("big.spf.test", 300, strings);
        var answer = await Resolver().GetTxtAsync("big.spf.test", default);
        Assert.Equal([string.Concat(strings)], answer.Records);
        Assert.Equal(24 * 250, answer.Records[0].Length);
        Assert.Equal(1, _server.TcpQueryCount(RecordType.Txt, "big.spf.test"));
    }

    [Fact]
    public async Task A_name_DNS_cannot_carry_is_a_failure_not_an_exception()
    {
        var answer = await Resolver().GetTxtAsync(new string('a', 64) + ".spf.test", default);
        Assert.Equal(DnsStatus.Failure, answer.Status);
        Assert.Equal(0, _server.TotalQueries);
    }

    [Fact]
    public async Task After_Dispose_lookups_fail_without_throwing()
    {
        _server.AddTxt("late.spf.test", 300, "v=spf1 -all");
        var resolver = Resolver();
        resolver.Dispose();
        Assert.Equal(DnsStatus.Failure, (await resolver.GetTxtAsync("late.spf.test", default)).Status);
    }
}
