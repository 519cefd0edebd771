using System.Diagnostics;
using System.Net;
using Greyd.Spf.Evaluation;
using Greyd.Tests.Shared;
using static Greyd.Spf.Tests.SpfTestDns;

namespace Greyd.Spf.Tests;

public class AsyncTests
{
    /// <summary>The result of a check that must already have completed, as a warm one does.</summary>
    private static SpfCheck Completed(ValueTask<SpfCheck> pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the check did not complete synchronously");
        }
        return pending.Result;
    }

    [Fact]
    public void AFullyCachedCheckCompletesSynchronously()
    {
        SpfEvaluator evaluator = new(IncludeRedirectTests.OutlookLike());
        ValueTask<SpfCheck> pending = evaluator.CheckHostAsync(IPAddress.Parse("207.46.198.10"), "outlook.com", "a@outlook.com", "helo.example", CancellationToken.None);
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(SpfResult.Pass, Completed(pending).Result);
    }

    [Fact]
    public void AWarmCheckIsCheapAndAllocatesLittle()
    {
        // FakeSpfDns allocates to count queries; this measures the evaluator alone over an allocation-free cache.
        SpfEvaluator evaluator = new(new TxtOnlyDns(IncludeRedirectTests.OutlookLike()));
        IPAddress client = IPAddress.Parse("207.46.198.10");
        for (int i = 0; i < 1000; i++)
        {
            _ = Completed(evaluator.CheckHostAsync(client, "outlook.com", "a@outlook.com", "helo.example", CancellationToken.None));
        }
        const int Rounds = 20_000;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        Stopwatch watch = Stopwatch.StartNew();
        for (int i = 0; i < Rounds; i++)
        {
            SpfCheck check = Completed(evaluator.CheckHostAsync(client, "outlook.com", "a@outlook.com", "helo.example", CancellationToken.None));
            if (check.Result != SpfResult.Pass)
            {
                Assert.Fail(check.Reason);
            }
        }
        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        double microseconds = watch.Elapsed.TotalMicroseconds / Rounds;
        // One context object per check; generous bounds so a busy test machine does not make this flaky.
        Console.WriteLine($"warm outlook.com-like check: {microseconds:F2} us, {allocated / Rounds} bytes");
        Assert.True(allocated / Rounds < 256, $"{allocated / Rounds} bytes per check");
        Assert.True(microseconds < 100, $"{microseconds:F2} us per check");
    }

    /// <summary>TXT answers copied once from a <see cref="FakeSpfDns"/>, served without allocating.</summary>
    private sealed class TxtOnlyDns : ISpfDns
    {
        private static readonly DnsAnswer<string> NoName = new(DnsStatus.NameError, []);
        private static readonly DnsAnswer<IPAddress> NoAddress = new(DnsStatus.NameError, []);
        private readonly Dictionary<string, DnsAnswer<string>> _txt = new(StringComparer.OrdinalIgnoreCase);

        public TxtOnlyDns(FakeSpfDns source)
        {
            foreach (string name in new[] { "outlook.com", "spf2.outlook.com", "spf.protection.outlook.com", "spfd.protection.outlook.com", "spfa.outlook.com", "spfb.outlook.com", "spfc.outlook.com" })
            {
                ValueTask<DnsAnswer<string>> answer = source.GetTxtAsync(name, CancellationToken.None);
                _txt[name] = answer.IsCompletedSuccessfully ? answer.Result : throw new InvalidOperationException(name);
            }
        }

        public ValueTask<DnsAnswer<string>> GetTxtAsync(string name, CancellationToken cancellationToken)
            => new(_txt.TryGetValue(name, out DnsAnswer<string>? answer) ? answer : NoName);

        public ValueTask<DnsAnswer<IPAddress>> GetAddressesAsync(string name, bool ipv6, CancellationToken cancellationToken) => new(NoAddress);

        public ValueTask<DnsAnswer<string>> GetMxAsync(string name, CancellationToken cancellationToken) => new(NoName);

        public ValueTask<DnsAnswer<string>> GetPtrAsync(IPAddress address, CancellationToken cancellationToken) => new(NoName);
    }

    [Fact]
    public async Task DelayedLookupsCompleteAsynchronouslyWithTheSameResult()
    {
        FakeSpfDns dns = IncludeRedirectTests.OutlookLike().Delay("spfc.outlook.com", TimeSpan.FromMilliseconds(20));
        SpfEvaluator evaluator = new(dns);
        ValueTask<SpfCheck> pending = evaluator.CheckHostAsync(IPAddress.Parse("207.46.198.10"), "outlook.com", "a@outlook.com", "helo.example", CancellationToken.None);
        Assert.False(pending.IsCompleted);
        SpfCheck check = await pending;
        Assert.Equal(SpfResult.Pass, check.Result);
        Assert.Equal("ip4:207.46.198.0/25 in spfc.outlook.com", check.Reason);
        Assert.Equal(6, check.Lookups);
    }

    [Fact]
    public async Task CancellationPropagatesAsOperationCanceledException()
    {
        FakeSpfDns dns = new FakeSpfDns()
            .AddTxt("example.org", "v=spf1 include:slow.example.net -all")
            .AddTxt("slow.example.net", "v=spf1 +all")
            .Hang("slow.example.net");
        SpfEvaluator evaluator = new(dns);
        using CancellationTokenSource cancel = new(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await evaluator.CheckHostAsync(IPAddress.Parse("192.0.2.1"), "example.org", "a@example.org", "h.example", cancel.Token));
        Assert.Equal(1, dns.Queries("TXT", "slow.example.net"));
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenThrowsBeforeAnyQuery()
    {
        FakeSpfDns dns = new FakeSpfDns().AddTxt("example.org", "v=spf1 +all");
        using CancellationTokenSource cancel = new();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await new SpfEvaluator(dns).CheckHostAsync(IPAddress.Parse("192.0.2.1"), "example.org", "a@example.org", "h.example", cancel.Token));
        Assert.Equal(0, dns.TotalQueries);
    }

    [Fact]
    public async Task ConcurrentChecksShareParsedRecordsSafely()
    {
        SpfEvaluator evaluator = new(IncludeRedirectTests.OutlookLike());
        string[] clients = ["40.93.5.6", "207.46.198.10", "192.0.2.1", "2a01:111:f400:7c00::9", "2001:db8::1"];
        SpfResult[] expected = [SpfResult.Pass, SpfResult.Pass, SpfResult.Fail, SpfResult.Pass, SpfResult.Fail];
        await Parallel.ForAsync(0, 2000, async (i, ct) =>
        {
            int k = i % clients.Length;
            SpfCheck check = await evaluator.CheckHostAsync(IPAddress.Parse(clients[k]), "outlook.com", "a@outlook.com", "h.example", ct);
            Assert.Equal(expected[k], check.Result);
        });
        SpfCheck last = await CheckAsync(IncludeRedirectTests.OutlookLike(), "192.0.2.1", "outlook.com");
        Assert.Equal("-all in outlook.com", last.Reason);
    }
}
