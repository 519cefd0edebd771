using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Hosting.SenderPools;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Spf.Dns;
using Greyd.Spf.Evaluation;
using Greyd.Storage;
using Greyd.Tests.Shared;

namespace Greyd.PoolBench;

/// <summary>
/// What an SPF check adds to a request inside greyd, measured one call at a time: the check alone with a warm
/// cache and with none, and whole requests through PolicyService with and without --spf-pools.
/// </summary>
internal static class InProcessLatency
{
    public static void Run(int requests, int networks)
    {
        using var dns = TestDnsServer.Start();
        PoolZones.Serve(dns, networks);
        var nets = PoolZones.Networks(networks);
        using var resolver = new SpfDnsResolver(new SpfDnsOptions { Servers = [dns.EndPoint] }, TimeProvider.System);
        var log = new GreydLog(Stream.Null, LogPriority.Notice);
        var checker = new SenderPoolChecker(new SpfEvaluator(resolver), TimeSpan.FromSeconds(2), log);
        var random = new Random(7);

        var cold = new Percentiles();
        for (int i = 0; i < Math.Max(50, requests / 500); i++)
        {
            using var fresh = new SpfDnsResolver(new SpfDnsOptions { Servers = [dns.EndPoint] }, TimeProvider.System);
            var coldChecker = new SenderPoolChecker(new SpfEvaluator(fresh), TimeSpan.FromSeconds(2), log);
            long start = Stopwatch.GetTimestamp();
            var result = coldChecker.CheckAsync(Client(nets, random), PoolZones.Domain, "news@pool.example"u8, "out.pool.example"u8).AsTask().GetAwaiter().GetResult();
            cold.Add(Stopwatch.GetTimestamp() - start);
            if (!result.UsesPool)
            {
                throw new InvalidOperationException($"a cold check did not pass: {result.Label} {result.Reason}");
            }
        }

        var (off, on) = Requests(checker, requests, nets);
        var warm = new Percentiles();
        for (int i = -20_000; i < requests; i++)
        {
            var client = Client(nets, random);
            long start = Stopwatch.GetTimestamp();
            var check = checker.CheckAsync(client, PoolZones.Domain, "news@pool.example"u8, "out.pool.example"u8);
            var result = check.IsCompletedSuccessfully ? check.Result : check.AsTask().GetAwaiter().GetResult();
            long elapsed = Stopwatch.GetTimestamp() - start;
            if (!result.UsesPool)
            {
                throw new InvalidOperationException($"the pool address {client} did not pass: {result.Label} {result.Reason}");
            }

            if (i >= 0)
            {
                warm.Add(elapsed);
            }
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine("| in-process, one call at a time | n | p50 (µs) | p99 (µs) | p99.9 (µs) |");
        Console.WriteLine("|---|---|---|---|---|");
        Row("SPF check, warm cache", warm);
        Row("SPF check, cold (5 queries to a loopback DNS server)", cold);
        Row("request without --spf-pools", off);
        Row("request with --spf-pools, warm cache", on);
        Console.WriteLine(string.Format(inv, "result: warm_p50_us={0:F2} warm_p99_us={1:F2} cold_p50_us={2:F0} cold_p99_us={3:F0} added_p50_us={4:F2} added_p99_us={5:F2}",
            warm.Micros(0.5), warm.Micros(0.99), cold.Micros(0.5), cold.Micros(0.99), on.Micros(0.5) - off.Micros(0.5), on.Micros(0.99) - off.Micros(0.99)));

        void Row(string what, Percentiles p) =>
            Console.WriteLine(string.Format(inv, "| {0} | {1} | {2:F2} | {3:F2} | {4:F2} |", what, p.Count, p.Micros(0.5), p.Micros(0.99), p.Micros(0.999)));
    }

    // Requests for new triplets (each its own recipient) from pool addresses, each sent to a greyd without and one
    // with --spf-pools in turn, so JIT tiering and machine noise fall on both alike.
    private static (Percentiles Off, Percentiles On) Requests(SenderPoolChecker checker, int count, IReadOnlyList<string> nets)
    {
        var options = new GreylistOptions { Hostname = "bench.host" };
        PolicyService Service(SenderPoolChecker? pools) => new(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty),
            new GreydLog(Stream.Null, LogPriority.Notice), TimeProvider.System, pools: pools);
        var services = new[] { Service(null), Service(checker) };
        var results = new[] { new Percentiles(), new Percentiles() };
        var scratch = new PolicyScratch();
        var output = new ArrayBufferWriter<byte>();
        var request = new PolicyRequest();
        var random = new Random(11);
        for (int i = -20_000; i < count; i++)
        {
            request.Reset();
            request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
            request.Set(PolicyAttribute.ClientName, "unknown"u8);
            request.Set(PolicyAttribute.ClientAddress, Encoding.ASCII.GetBytes(Client(nets, random).ToString()));
            request.Set(PolicyAttribute.Sender, "news@pool.example"u8);
            request.Set(PolicyAttribute.Recipient, Encoding.ASCII.GetBytes($"user{i + 20_000}@example.org"));
            for (int s = 0; s < 2; s++)
            {
                output.ResetWrittenCount();
                long start = Stopwatch.GetTimestamp();
                var answer = services[s].HandleAsync(request, scratch, output);
                if (!answer.IsCompletedSuccessfully)
                {
                    answer.AsTask().GetAwaiter().GetResult();
                }

                long elapsed = Stopwatch.GetTimestamp() - start;
                if (i >= 0)
                {
                    results[s].Add(elapsed);
                }
            }
        }

        return (results[0], results[1]);
    }

    private static ClientAddress Client(IReadOnlyList<string> nets, Random random)
    {
        string text = $"{nets[random.Next(nets.Count)]}.{random.Next(1, 255)}";
        return ClientAddress.TryParse(text, out var client) ? client : throw new InvalidOperationException("not an address: " + text);
    }
}
