using System.Diagnostics;
using System.Net;
using ARSoft.Tools.Net.Dns;
using Greyd.IntegrationTests.Harness;
using Greyd.Tests.Shared;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// --spf-pools on the published binary, with a DNS server on loopback: a pool sender's retry from another address
/// passes, anything SPF does not pass keys by client network, and DNS trouble costs at most --spf-timeout.
/// </summary>
public sealed class SenderPoolTests : IDisposable
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(15);
    private readonly TestDnsServer _dns = TestDnsServer.Start();

    public SenderPoolTests()
    {
        // A provider's pool: the sender's domain includes the provider's record, whose ranges span unrelated networks.
        _dns.AddZone("pool.example");
        _dns.AddTxt("pool.example", 300, "v=spf1 include:spf.provider.example -all");
        _dns.AddZone("provider.example");
        _dns.AddTxt("spf.provider.example", 300, "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/25 ", "ip6:2001:db8:40::/48 a:relay.provider.example ~all");
        _dns.AddA("relay.provider.example", 300, IPAddress.Parse("192.0.2.77"));
        _dns.AddZone("slow.example");
        _dns.AddTxt("slow.example", 300, "v=spf1 include:spf.slow.example -all");
        _dns.SetDropped("spf.slow.example");
    }

    public void Dispose() => _dns.Dispose();

    private GreydInstance Start(params string[] extra) =>
        GreydInstance.StartForVectors([.. extra.Contains("--spf-pools") ? [$"--spf-dns={_dns.EndPoint}"] : Array.Empty<string>(), .. extra]);

    private static PolicyRequest Pool(string client, long t, string sender = "news@pool.example") =>
        D(t).With("client_address", client).With("client_name", "unknown").With("sender", sender).With("helo_name", "out.provider.example");

    [Fact]
    public void A_pool_senders_retry_from_another_authorised_address_passes_after_the_delay()
    {
        using var greyd = Start("--spf-pools");

        Step("first attempt from A", GT(), greyd.AskOnce(Pool("198.51.100.7", 0)));
        Step("retry from B, too early", GT(), greyd.AskOnce(Pool("203.0.113.90", 120)));
        StepXG("retry from C after the delay", 400, greyd.AskOnce(Pool("192.0.2.77", 400)));
        Step("later mail from D", Dunno, greyd.AskOnce(Pool("2001:db8:40::25", 500)));

        greyd.ExpectLog("greylist line", l => l.Contains("action=greylist, reason=new, spf=pass, pool=pool.example, client_name=unknown, client_address=198.51.100.7,", StringComparison.Ordinal), "the pool key in the log");
        greyd.ExpectLog("pass line", l => l.Contains("action=pass, reason=triplet found, delay=400, spf=pass, pool=pool.example, client_name=unknown, client_address=192.0.2.77,", StringComparison.Ordinal), "the pass on the pool key");
    }

    [Fact]
    public void Without_the_option_the_same_retries_start_over_on_each_network()
    {
        using var greyd = Start();

        Step("first attempt from A", GT(), greyd.AskOnce(Pool("198.51.100.7", 0)));
        Step("retry from B after the delay", GT(), greyd.AskOnce(Pool("203.0.113.90", 400)));
        Step("retry from C", GT(), greyd.AskOnce(Pool("192.0.2.77", 800)));
        Assert.Equal(0, _dns.TotalQueries);
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l.Contains("spf=", StringComparison.Ordinal));
    }

    [Fact]
    public void An_address_the_record_does_not_authorise_is_greylisted_as_a_new_triplet()
    {
        using var greyd = Start("--spf-pools");
        greyd.AskOnce(Pool("198.51.100.7", 0));

        Step("retry from outside the pool", GT(), greyd.AskOnce(Pool("192.0.2.200", 400)));
        greyd.ExpectLog("fail line", l => l.Contains("action=greylist, reason=new, spf=fail, client_name=unknown, client_address=192.0.2.200,", StringComparison.Ordinal), "a fail keys by client network");
        StepXG("its own retry passes on its network key", 400, greyd.AskOnce(Pool("192.0.2.201", 800)));
    }

    [Fact]
    public void A_dns_server_that_never_answers_costs_a_request_at_most_the_budget()
    {
        using var greyd = Start("--spf-pools", "--spf-timeout=300");

        var watch = Stopwatch.StartNew();
        Step("timed out", GT(), greyd.AskOnce(Pool("198.51.100.7", 0, sender: "a@slow.example")));
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the request took {watch.Elapsed.TotalMilliseconds} ms");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"the request took {watch.Elapsed.TotalMilliseconds} ms: did it wait for DNS at all?");
        greyd.ExpectLog("timeout line", l => l.Contains("action=greylist, reason=new, spf=timeout, client_name=unknown, client_address=198.51.100.7,", StringComparison.Ordinal), "a timeout keys by client network");

        // Other senders are served meanwhile, and the retry from the same network passes on the network key.
        Step("another sender", GT(), greyd.AskOnce(Pool("203.0.113.9", 1)));
        StepXG("retry on the network key", 400, greyd.AskOnce(Pool("198.51.100.8", 400, sender: "a@slow.example")));
    }

    [Fact]
    public void Explain_shows_the_spf_result_and_the_key_it_chose()
    {
        using var dir = new TempDir();
        string admin = dir.File("admin.sock");
        using var greyd = Start("--spf-pools", "--admin-socket=" + admin);
        var cli = new AdminCli(admin);
        // On the real clock: list and explain judge records by it.
        greyd.AskOnce(Pool("198.51.100.7", 0).Without("policy_test_time"));

        var pooled = cli.Json("explain", "--client-address=203.0.113.4", "--sender=news@pool.example", "--recipient=bob@example.org", "--json");
        Assert.Equal("pass", pooled.GetProperty("spf").GetProperty("result").GetString());
        Assert.Equal("sender domain", pooled.GetProperty("spf").GetProperty("key").GetString());
        Assert.StartsWith("spf:pool.example/news@pool.example/bob@example.org", pooled.GetProperty("triplet_key").GetString());

        var outside = cli.Json("explain", "--client-address=192.0.2.200", "--sender=news@pool.example", "--recipient=bob@example.org", "--json");
        Assert.Equal("fail", outside.GetProperty("spf").GetProperty("result").GetString());
        Assert.Equal("client network", outside.GetProperty("spf").GetProperty("key").GetString());
        Assert.Equal("192.0.2.0/news@pool.example/bob@example.org", outside.GetProperty("triplet_key").GetString());

        string text = cli.Ok("explain", "--client-address=203.0.113.4", "--sender=news@pool.example", "--recipient=bob@example.org");
        Assert.Contains("SPF pass for pool.example", text);
        Assert.Contains("keyed by sender domain pool.example", text);

        // list shows the pool as the triplet's client, and --client (an address filter) leaves pool keys out.
        var listed = cli.Json("list", "--json").GetProperty("triplets").EnumerateArray().Single();
        Assert.Equal("spf:pool.example", listed.GetProperty("client").GetString());
        Assert.Equal("news@pool.example", listed.GetProperty("sender").GetString());
        Assert.Empty(cli.Json("list", "--client=198.51.100.0/24", "--json").GetProperty("triplets").EnumerateArray());
    }

    [Fact]
    public void Spf_options_are_checked_before_greyd_starts()
    {
        foreach (var (args, message) in new[]
        {
            (new[] { "--spf-timeout=500" }, "--spf-timeout needs --spf-pools"),
            (["--spf-pools", "--spf-timeout=5"], "--spf-timeout=5: must be a number of milliseconds from 10 to 30000"),
            (["--spf-pools", "--spf-dns=dns.example"], "--spf-dns=dns.example: 'dns.example' is not an IP address"),
            (["--spf-pools", "--spf-dns=127.0.0.1:53,[::1"], "--spf-dns=127.0.0.1:53,[::1: HOST must be an IPv4 address"),
            (["--spf-pools", "--spf-dns=127.0.0.1:0"], "--spf-dns=127.0.0.1:0: not a port number"),
        })
        {
            using var greyd = GreydProcess.Start(["--unix=/tmp/greyd-unused.sock", .. args]);
            int code = greyd.WaitForExit(ExitWithin);
            Assert.True(code == 1, $"exit code {code} for {string.Join(' ', args)}\n{greyd.Describe()}");
            Assert.Contains(greyd.StderrLines, l => l.Contains(message, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_pool_replay_delays_a_pool_sender_once_and_dns_trouble_at_most_the_budget()
    {
        // greyd-poolbench (./build.sh bench pools) replays pool senders against this binary with and without the option.
        string tool = Path.Combine(GreydBinary.RepositoryRoot ?? ".", "bench", "Greyd.PoolBench", "bin", "Release", "net10.0", "greyd-poolbench.dll");
        Assert.True(File.Exists(tool), $"{tool} is missing: ./build.sh test builds it");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])[tool, "replay", "--greyd=" + GreydBinary.Path, "--messages=60", "--networks=40", "--spf-timeout=300"])
        {
            start.ArgumentList.Add(arg);
        }

        using var replay = Process.Start(start)!;
        var stdout = replay.StandardOutput.ReadToEndAsync();
        var stderr = replay.StandardError.ReadToEndAsync();
        Assert.True(replay.WaitForExit(120_000), "the replay did not finish in 2 minutes");
        Assert.True(replay.ExitCode == 0, stdout.Result + stderr.Result);
        var result = stdout.Result.Split('\n').Single(l => l.StartsWith("result: ", StringComparison.Ordinal))["result: ".Length..]
            .Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));

        // With the option every message passes on its first retry after the delay; without, it waits for a retry
        // that happens to come from the network it was first seen from.
        Assert.Equal(60, result["on_delivered"]);
        Assert.Equal(300, result["on_max_s"]);
        Assert.True(result["off_p50_s"] > 1800, stdout.Result);
        // A dead resolver costs a request the budget at most (timers fire a little late on a busy machine).
        Assert.InRange(result["trouble_max_ms"], 250, 1300);
    }

    [Fact]
    public void Metrics_count_spf_results_timeouts_and_dns_queries()
    {
        int port = FreePort.Pick();
        using var greyd = Start("--spf-pools", "--spf-timeout=1500", $"--metrics={port}");
        greyd.AskOnce(Pool("198.51.100.7", 0));
        greyd.AskOnce(Pool("192.0.2.200", 1));
        greyd.AskOnce(Pool("198.51.100.7", 2, sender: "a@slow.example"));

        using var http = new System.Net.Http.HttpClient();
        var metrics = PrometheusText.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/metrics").Result);
        Assert.Equal(1, metrics.Value("greyd_spf_checks_total", "result=pass"));
        Assert.Equal(1, metrics.Value("greyd_spf_checks_total", "result=fail"));
        Assert.Equal(1, metrics.Value("greyd_spf_checks_total", "result=timeout"));
        // pool.example, spf.provider.example, relay.provider.example (the a: term the fail reached), slow.example and
        // the include that never answers; the second check found the first two in the cache.
        Assert.Equal(5, metrics.Value("greyd_spf_dns_queries_total"));
        Assert.Equal(2, metrics.Value("greyd_spf_dns_cache_hits_total"));
    }

    [Fact]
    public void The_dns_cache_keeps_a_busy_pool_to_one_lookup_per_name()
    {
        using var greyd = Start("--spf-pools");
        for (int i = 0; i < 20; i++)
        {
            greyd.AskOnce(Pool($"198.51.100.{i + 1}", i, sender: $"user{i}@pool.example"));
        }

        Assert.Equal(1, _dns.QueryCount(RecordType.Txt, "pool.example"));
        Assert.Equal(1, _dns.QueryCount(RecordType.Txt, "spf.provider.example"));
    }
}
