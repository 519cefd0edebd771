using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Greyd.FuzzTests;

/// <summary>
/// Runs each fuzz target for a bounded time (GREYD_FUZZ_SECONDS, default 30 s each; the two run in parallel) and
/// fails on any crash, broken invariant or hang. GREYD_FUZZ_SEED picks the run's seed (default: a new one each
/// run, printed on failure); a finding is saved under GREYD_FUZZ_FINDINGS (default /tmp/greyd-fuzz-findings).
/// </summary>
public abstract class FuzzCampaign(ITestOutputHelper output)
{
    protected static TimeSpan Budget => TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("GREYD_FUZZ_SECONDS") ?? "30", CultureInfo.InvariantCulture));

    protected static int Seed => Environment.GetEnvironmentVariable("GREYD_FUZZ_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();

    protected void Campaign(MutationFuzzer fuzzer)
    {
        int seed = Seed;
        var result = fuzzer.Run(Budget, seed, hangLimit: TimeSpan.FromSeconds(10));
        string summary = $"seed {seed}: {result.Iterations} inputs in {result.Elapsed.TotalSeconds:F1} s ({result.PerSecond:F0}/s), pool {result.PoolSize}";
        output.WriteLine(summary);
        Console.Error.WriteLine("fuzz " + GetType().Name + " " + summary);
        Assert.True(result.Failure is null, result.Failure + "\n" + summary);
        Assert.True(result.Iterations > 0, "the fuzzer ran no input");
    }

    internal static byte[][] Tokens(params string[] tokens) => [.. tokens.Select(t => Encoding.UTF8.GetBytes(t))];
}

[Collection("fuzz campaigns")]
public class ProtocolFuzzCampaign(ITestOutputHelper output) : FuzzCampaign(output)
{
    internal static readonly byte[][] Dictionary = Tokens(
        "\n", "\r\n", "\n\n", "\r", "\0", "=", "==", "request=", "smtpd_access_policy", "request=smtpd_access_policy\n",
        "client_address=", "client_name=", "sender=", "recipient=", "instance=", "queue_id=", "etrn_domain=", "policy_test_time=",
        "protocol_state=RCPT\n", "192.0.2.1", "::ffff:10.0.0.1", "2001:db8::1", "[192.0.2.1]", "1.2.3", "999.0.0.1", "@", "%s", "%r",
        "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "0", "1700000300", "\xff", "\u00e9",
        "client_address=192.0.2.10\nclient_name=x\nsender=a@b\nrecipient=c@d\n\n");

    [Fact]
    public void Protocol_reader_and_policy_service_survive_bounded_fuzzing()
    {
        var target = new ProtocolTarget();
        Campaign(new MutationFuzzer("protocol", MutationFuzzer.LoadCorpus("protocol"), Dictionary, 80 * 1024, target.Run));
    }
}

[Collection("fuzz campaigns")]
public class WhitelistFuzzCampaign(ITestOutputHelper output) : FuzzCampaign(output)
{
    internal static readonly byte[][] Dictionary = Tokens(
        "\n", "\r\n", "#", "/", "//", "*.", ".", "@", ":", "::", "/24", "/0", "/32", "/128", "/99", " ", "\t", "192.0.2.1", "10.0",
        "2001:db8::", "::ffff:1.2.3.4", "example.com", "(", ")", "[", "]", "\\", "\\1", "(?=", "(?<=", "(?i)", "*", "+", "?", "{1,3}",
        "{99999}", "{2147483647}", "|", "^", "$", "\\p{L}", "[^/]", "\u2028", "\u0085", "\f", "\v", "\u00fc", "\ud83d\ude00", "\xff");

    [Fact]
    public void Whitelist_parser_survives_bounded_fuzzing() =>
        Campaign(new MutationFuzzer("whitelist", MutationFuzzer.LoadCorpus("whitelist"), Dictionary, 2048, WhitelistTarget.Run));
}

/// <summary>Every seed passes its target's invariants as it is (fast, deterministic).</summary>
public class CorpusReplayTests
{
    [Fact]
    public void Every_protocol_seed_passes()
    {
        var target = new ProtocolTarget();
        var seeds = MutationFuzzer.LoadCorpus("protocol").ToList();
        Assert.True(seeds.Count >= 20);
        for (int s = 0; s < 50; s++)
        {
            foreach (var seed in seeds)
            {
                target.Run(seed, new Random(s));
            }
        }
    }

    [Fact]
    public void Every_whitelist_seed_passes()
    {
        var seeds = MutationFuzzer.LoadCorpus("whitelist").ToList();
        Assert.True(seeds.Count >= 5);
        for (int s = 0; s < 20; s++)
        {
            foreach (var seed in seeds)
            {
                WhitelistTarget.Run(seed, new Random(s));
            }
        }
    }
}
