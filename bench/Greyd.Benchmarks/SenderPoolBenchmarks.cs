using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
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

namespace Greyd.Benchmarks;

/// <summary>
/// --spf-pools with a warm cache: the SPF check alone (an include chain of a provider's size, answered from greyd's
/// DNS cache), and a whole request for a new triplet with and without the option. Cold checks and p99 figures come
/// from greyd-poolbench (./build.sh bench pools).
/// </summary>
[MemoryDiagnoser]
public class SenderPoolBenchmarks
{
    private readonly PolicyScratch _scratch = new();
    private readonly ArrayBufferWriter<byte> _output = new();
    private readonly PolicyRequest _request = new();
    private TestDnsServer? _dns;
    private SpfDnsResolver? _resolver;
    private SenderPoolChecker? _checker;
    private PolicyService? _without;
    private PolicyService? _with;
    private ClientAddress _client;
    private int _recipient;

    [GlobalSetup]
    public void Setup()
    {
        _dns = TestDnsServer.Start();
        _dns.AddZone("pool.example");
        _dns.AddTxt("pool.example", 3600, "v=spf1 include:_spf.pool.example -all");
        _dns.AddTxt("_spf.pool.example", 3600, "v=spf1 include:_nb1.pool.example include:_nb2.pool.example ~all");
        AddRecord("_nb1.pool.example", "v=spf1 " + string.Join(' ', Enumerable.Range(0, 20).Select(i => $"ip4:10.{i}.0.0/16")) + " -all");
        AddRecord("_nb2.pool.example", "v=spf1 " + string.Join(' ', Enumerable.Range(0, 20).Select(i => $"ip4:100.64.{i}.0/24")) + " -all");
        _resolver = new SpfDnsResolver(new SpfDnsOptions { Servers = [_dns.EndPoint] }, TimeProvider.System);
        var log = new GreydLog(Stream.Null, LogPriority.Notice);
        _checker = new SenderPoolChecker(new SpfEvaluator(_resolver), TimeSpan.FromSeconds(2), log);
        if (!ClientAddress.TryParse("100.64.19.7"u8, out _client))
        {
            throw new InvalidOperationException("bad benchmark address");
        }

        // Warm the cache: every lookup of the chain answered once.
        var first = _checker.CheckAsync(_client, "pool.example", "news@pool.example"u8, "out.pool.example"u8).AsTask().GetAwaiter().GetResult();
        if (!first.UsesPool)
        {
            throw new InvalidOperationException($"the benchmark's pool address does not pass: {first.Label} ({first.Reason})");
        }

        var options = new GreylistOptions { Hostname = "bench.host" };
        _without = new PolicyService(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty), log, TimeProvider.System);
        _with = new PolicyService(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty), log, TimeProvider.System, pools: _checker);
    }

    // Long records go in 255-byte character-strings, as DNS requires.
    private void AddRecord(string name, string text) => _dns!.AddTxt(name, 3600, [.. text.Chunk(255).Select(c => new string(c))]);

    [GlobalCleanup]
    public void Cleanup()
    {
        _resolver?.Dispose();
        _dns?.Dispose();
    }

    [Benchmark]
    public bool SpfCheckWarm()
    {
        var check = _checker!.CheckAsync(_client, "pool.example", "news@pool.example"u8, "out.pool.example"u8);
        return check.IsCompletedSuccessfully ? check.Result.UsesPool : throw new InvalidOperationException("a warm check went to DNS");
    }

    [Benchmark(Baseline = true)]
    public bool NewTripletWithoutPools() => Ask(_without!);

    [Benchmark]
    public bool NewTripletWithPools() => Ask(_with!);

    // A new recipient each time: every request looks up and writes a triplet, as for a first attempt.
    private bool Ask(PolicyService service)
    {
        _request.Reset();
        _request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        _request.Set(PolicyAttribute.ClientName, "unknown"u8);
        _request.Set(PolicyAttribute.ClientAddress, "100.64.19.7"u8);
        _request.Set(PolicyAttribute.Sender, "news@pool.example"u8);
        Span<byte> recipient = stackalloc byte[32];
        Encoding.ASCII.TryGetBytes($"u{_recipient++}@example.org", recipient, out int length);
        _request.Set(PolicyAttribute.Recipient, recipient[..length]);
        _output.ResetWrittenCount();
        var answer = service.HandleAsync(_request, _scratch, _output);
        return answer.IsCompletedSuccessfully ? answer.Result : throw new InvalidOperationException("the request did not complete at once");
    }
}
