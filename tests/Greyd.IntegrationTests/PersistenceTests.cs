using System.Globalization;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>State survives a clean restart (SIGTERM) and a crash (kill -9) on the same --dbdir.</summary>
public sealed class PersistenceTests
{
    /// <summary>"%s" in the text shows the seconds still missing, which tells "new" (300) from an early retry.</summary>
    private static readonly string[] CountdownOptions = ["--allow-policy-test-time", "--greylist-text=wait %s", "--hostname=test.host"];

    private static string Wait(long seconds) => "action=DEFER_IF_PERMIT wait " + seconds.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void A_triplet_greylisted_before_a_clean_restart_passes_after_the_delay()
    {
        using var greyd = GreydInstance.StartForVectors();
        Step("before restart", GT(), greyd.AskOnce(D(0)));
        Step("another triplet passes before restart", GT(), greyd.AskOnce(D(0).With("recipient", "carol@example.org")));
        StepXG("another triplet passes before restart", 300, greyd.AskOnce(D(300).With("recipient", "carol@example.org")));

        Assert.Equal(0, greyd.Process.Stop());
        Assert.False(File.Exists(greyd.SocketPath), "SIGTERM must remove the unix socket file");

        greyd.Restart();
        StepXG("after restart", 300, greyd.AskOnce(D(300)));
        Step("the passed triplet is still passed", Dunno, greyd.AskOnce(D(400).With("recipient", "carol@example.org")));
        Step("an unseen triplet is still new", GT(), greyd.AskOnce(D(400).With("recipient", "dave@example.org")));
    }

    [Fact]
    public void Triplets_answered_before_a_kill_9_are_still_known_after_the_restart_over_several_crashes()
    {
        using var greyd = GreydInstance.Start(CountdownOptions);
        var firstSeen = new Dictionary<string, long>();
        const int Cycles = 4;
        const int PerCycle = 5;
        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            long now = cycle * 50L;
            var client = greyd.Connect();

            // Everything greylisted in earlier cycles must be an early retry, not new.
            foreach (var (rcpt, first) in firstSeen)
            {
                Step($"cycle {cycle}: {rcpt} (first seen at {first}) after kill -9", Wait(300 - (now - first)), client.Ask(D(now).With("recipient", rcpt)));
            }

            for (int k = 0; k < PerCycle; k++)
            {
                string rcpt = $"c{cycle}k{k}@example.org";
                Step($"cycle {cycle}: {rcpt} is new", Wait(300), client.Ask(D(now).With("recipient", rcpt)));
                firstSeen[rcpt] = now;
            }

            greyd.Process.Kill9();
            greyd.Restart();
        }

        var after = greyd.Connect();
        foreach (var (rcpt, first) in firstSeen)
        {
            StepXG($"after {Cycles} crashes: {rcpt} passes", 1000 - first, after.Ask(D(1000).With("recipient", rcpt)));
        }

        Step("nothing was invented", Wait(300), after.Ask(D(1000).With("recipient", "never-sent@example.org")));
    }

    [Fact]
    public void A_passed_triplet_and_the_auto_whitelist_count_survive_kill_9()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=2");
        Step("r1 new", GT(), greyd.AskOnce(D(0).With("recipient", "r1@example.org")));
        StepXG("r1 passes (AWL count 1)", 300, greyd.AskOnce(D(300).With("recipient", "r1@example.org")));
        greyd.Process.Kill9();
        greyd.Restart();

        Step("r1 is still passed", Dunno, greyd.AskOnce(D(400).With("recipient", "r1@example.org")));
        Step("r2 new", GT(), greyd.AskOnce(D(4000).With("recipient", "r2@example.org")));
        greyd.Process.Kill9();
        greyd.Restart();

        StepXG("r2 passes (AWL count 2)", 300, greyd.AskOnce(D(4300).With("recipient", "r2@example.org")));
        greyd.Process.Kill9();
        greyd.Restart();

        Step("the client is auto-whitelisted after the crashes", Dunno, greyd.AskOnce(D(4301).With("recipient", "r3@example.org")));
        greyd.ExpectLog("AWL", l => l.Contains("reason=client AWL", StringComparison.Ordinal), "a client AWL decision");
    }

    [Fact]
    public void A_stale_socket_file_left_by_kill_9_is_replaced_on_restart()
    {
        using var greyd = GreydInstance.StartForVectors();
        Step("before", GT(), greyd.AskOnce(D(0)));
        greyd.Process.Kill9();
        Assert.True(File.Exists(greyd.SocketPath), "test premise: kill -9 leaves the socket file behind");
        greyd.Restart();
        StepXG("after", 300, greyd.AskOnce(D(300)));
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void SIGTERM_under_load_answers_cleanly_exits_0_and_loses_nothing()
    {
        using var greyd = GreydInstance.Start(CountdownOptions);
        var load = RunLoad(greyd, "term", 0, workers: 4, maxPerWorker: 3000);
        Thread.Sleep(500);
        Assert.Equal(0, greyd.Process.Stop());
        var answered = load.Result;
        Assert.True(answered.Count > 50, $"the load produced only {answered.Count} answered requests");

        greyd.Restart();
        var client = greyd.Connect();
        foreach (var (rcpt, first) in answered)
        {
            Step($"{rcpt} answered before SIGTERM", Wait(300 - (100 - first)), client.Ask(D(100).With("recipient", rcpt)));
        }
    }

    /// <summary>
    /// Workers send new triplets (one recipient each) at time <paramref name="now"/> until the connection ends or
    /// they reach <paramref name="maxPerWorker"/>; returns the triplets whose reply arrived. Every reply must be
    /// "new" (wait 300) and well formed.
    /// </summary>
    private static Task<List<(string Recipient, long First)>> RunLoad(GreydInstance greyd, string tag, long now, int workers, int maxPerWorker)
    {
        // Connect first, on this thread, so that every worker is connected before the caller kills or stops greyd.
        var clients = Enumerable.Range(0, workers).Select(_ => greyd.NewClient()).ToList();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Factory.StartNew(
            () =>
        {
            var done = new List<(string, long)>();
            using var client = clients[w];
            for (int i = 0; i < maxPerWorker; i++)
            {
                string rcpt = $"{tag}w{w}n{i}@example.org";
                if (!client.TrySend(D(now).With("recipient", rcpt).ToBytes()))
                {
                    break;
                }

                var result = client.TryReadReply(TimeSpan.FromSeconds(10));
                if (result.Kind != ReplyKind.Reply)
                {
                    Assert.True(result.Kind == ReplyKind.Eof && result.Text.Length == 0, $"{rcpt}: a connection must end cleanly, got {result}");
                    break;
                }

                Step(rcpt, Wait(300), result.Text);
                done.Add((rcpt, now));
            }

            return done;
        },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        return Task.WhenAll(tasks).ContinueWith(t => t.Result.SelectMany(x => x).ToList(), TaskScheduler.Default);
    }
}
