using System.Diagnostics;
using System.Globalization;
using Greyd.IntegrationTests.Harness;
using Xunit.Abstractions;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// kill -9 at random moments under load, many times over, and a simulated power loss: whatever greyd answered
/// before the kill is still known afterwards (asked of greyd, not read from its files).
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output)
{
    /// <summary>"%s" in the text shows the seconds still missing: "wait 300" means new.</summary>
    private static readonly string[] CountdownOptions = ["--allow-policy-test-time", "--greylist-text=wait %s", "--hostname=test.host"];

    /// <summary>Policy time between two cycles: over an hour, so that every cycle may count each AWL client once.</summary>
    private const long CycleSpan = 4000;

    private const int AwlThreshold = 3;

    private static readonly string New = Wait(300);

    private static string Wait(long seconds) => "action=DEFER_IF_PERMIT wait " + seconds.ToString(CultureInfo.InvariantCulture);

    private static int Seed()
    {
        string? text = Environment.GetEnvironmentVariable("GREYD_CRASH_SEED");
        return text is null ? Random.Shared.Next() : int.Parse(text, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Fifty_kill_9s_at_random_moments_under_load_lose_no_answered_triplet_or_auto_whitelist_count() =>
        StopUnderLoadAndCheck(cycles: 50, sigterm: false);

    [Fact]
    public void SIGTERMs_at_random_moments_under_load_exit_0_and_lose_no_answered_triplet_or_auto_whitelist_count() =>
        StopUnderLoadAndCheck(cycles: 5, sigterm: true);

    /// <summary>
    /// Each cycle: check the model against greyd, start 3 triplet workers and an AWL worker, stop greyd at a random
    /// moment (kill -9, or SIGTERM which must exit 0), restart it.
    /// </summary>
    private void StopUnderLoadAndCheck(int cycles, bool sigterm)
    {
        int seed = Seed();
        string rerun = $"seed {seed} (rerun with GREYD_CRASH_SEED={seed})";
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        const int TripletWorkers = 3;
        string kill = sigterm ? "SIGTERM" : "kill -9";

        using var greyd = GreydInstance.Start([.. CountdownOptions, $"--auto-whitelist-clients={AwlThreshold}", "--checkpoint-interval=1"]);

        // The model: triplets by cycle (all first seen at that cycle's time), and the AWL clients.
        var triplets = new List<List<Triplet>>();
        var awl = new AwlModel();
        long checkedTriplets = 0;
        long checkedClients = 0;
        var restartTimes = new List<double>();
        try
        {
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                long now = (cycle + 1) * CycleSpan;
                var check = greyd.Connect();

                // Every triplet answered in the cycle before the last kill passes now, delayed by exactly CycleSpan
                // (first seen known); a lost one would be "wait 300".
                if (cycle > 0)
                {
                    foreach (var t in triplets[cycle - 1])
                    {
                        StepXG($"{rerun}: cycle {cycle}: {t} answered before {kill} #{cycle}", CycleSpan, check.Ask(t.Request(now)));
                        checkedTriplets++;
                    }
                }

                // Every client whose count reached the threshold (as answered) is still auto-whitelisted.
                foreach (int k in awl.Whitelisted)
                {
                    Step($"{rerun}: cycle {cycle}: AWL client {AwlModel.Address(k)} (count {awl.Confirmed[k]}) after {kill} #{cycle}", Dunno, check.Ask(AwlModel.Request(k, $"check{k}c{cycle}", now)));
                    checkedClients++;
                }

                var load = Enumerable.Range(0, TripletWorkers).Select(w => greyd.NewClient()).ToList();
                var awlClient = greyd.NewClient();
                var tasks = load.Select((client, w) => Run(() => TripletLoad(client, cycle, w, now))).ToList();
                var awlTask = Run(() => AwlLoad(awlClient, awl, cycle, now, rerun));

                Thread.Sleep(random.Next(10, 500));
                if (sigterm)
                {
                    Assert.Equal(0, greyd.Process.Stop());
                }
                else
                {
                    greyd.Process.Kill9();
                }

                Assert.True(greyd.Process.HasExited, $"{rerun}: {kill} #{cycle + 1} did not end pid {greyd.Process.Pid}");

                triplets.Add([.. tasks.SelectMany(t => t.Result)]);
                awlTask.Wait();
                if (awlTask.Result is string failure)
                {
                    Assert.Fail($"{rerun}: cycle {cycle}: {failure}");
                }

                var started = Stopwatch.StartNew();
                greyd.Restart();
                restartTimes.Add(started.Elapsed.TotalSeconds);
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"{rerun}: restart after {kill} #{cycle + 1} took {started.Elapsed.TotalSeconds:0.0} s");
                greyd.Process.AssertNoCrashTrace();
                check.Dispose();
            }

            // A clean stop, then everything once more: the triplets of every cycle but the last passed in the
            // next cycle (now DUNNO), those of the last one pass now; nothing was invented.
            long end = (cycles + 1) * CycleSpan;
            var final = greyd.Connect();
            foreach (var t in triplets[^1])
            {
                StepXG($"{rerun}: end: {t} answered before the last {kill}", end - (cycles * CycleSpan), final.Ask(t.Request(end)));
                checkedTriplets++;
            }

            Assert.Equal(0, greyd.Process.Stop());
            greyd.Restart();
            final = greyd.Connect();
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                foreach (var t in triplets[cycle])
                {
                    Step($"{rerun}: end: {t} (passed in cycle {cycle + 1})", Dunno, final.Ask(t.Request(end + 1)));
                    checkedTriplets++;
                }
            }

            foreach (int k in awl.Whitelisted)
            {
                Step($"{rerun}: end: AWL client {AwlModel.Address(k)}", Dunno, final.Ask(AwlModel.Request(k, "final", end)));
                checkedClients++;
            }

            Step($"{rerun}: nothing was invented", New, final.Ask(D(end).With("recipient", "never-sent@example.org")));
            Assert.Equal(0, greyd.Process.Stop());
        }
        catch (Exception) when (Note(rerun))
        {
            throw;
        }

        int total = triplets.Sum(c => c.Count);
        output.WriteLine($"{rerun}: {cycles} {kill} cycles in {clock.Elapsed.TotalSeconds:0.0} s; {total} triplets answered before kills, "
            + $"{checkedTriplets} triplet checks; {awl.Whitelisted.Count} AWL clients reached {AwlThreshold} ({awl.Counted} counts answered, {checkedClients} client checks); "
            + $"restart max {restartTimes.Max():0.00} s, mean {restartTimes.Average():0.00} s");
        Assert.True(total > 10 * cycles, $"{rerun}: the load produced only {total} answered triplets");
        Assert.True(awl.Whitelisted.Count > (sigterm ? 0 : 20), $"{rerun}: only {awl.Whitelisted.Count} AWL clients reached the threshold");
    }

    [Fact]
    public void A_simulated_power_loss_loses_only_what_was_answered_after_the_last_journal_sync()
    {
        int seed = Seed();
        string rerun = $"seed {seed} (rerun with GREYD_CRASH_SEED={seed})";
        var random = new Random(seed);

        // No checkpoint during the run: the journal holds every change, and only its fsync makes it durable.
        using var greyd = GreydInstance.Start([.. CountdownOptions, "-v", "--journal-sync-interval=1", "--checkpoint-interval=3600"]);
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, 3).Select(_ => greyd.NewClient()).ToList();
        var process = greyd.Process;
        var tasks = clients.Select((client, w) => Run(() =>
        {
            // Paced, so the answers spread over several sync intervals.
            var done = new List<(string Recipient, int LinesBefore, double At)>();
            using (client)
            {
                for (int i = 0; ; i++)
                {
                    string rcpt = $"p{w}n{i}@example.org";
                    if (!client.TrySend(D(0).With("recipient", rcpt).ToBytes()))
                    {
                        break;
                    }

                    var reply = client.TryReadReply(TimeSpan.FromSeconds(10));
                    if (reply.Kind != ReplyKind.Reply)
                    {
                        break;
                    }

                    Step(rcpt, New, reply.Text);
                    done.Add((rcpt, process.StderrLineCount, clock.Elapsed.TotalSeconds));
                    Thread.Sleep(1);
                }
            }

            return done;
        })).ToList();

        Thread.Sleep(random.Next(2500, 3500));
        double killedAt = clock.Elapsed.TotalSeconds;
        process.Kill9();
        var answered = tasks.SelectMany(t => t.Result).ToList();

        // Where each journal file was last known durable, from greyd's own "journal synced <file> <bytes>" lines.
        var lines = process.StderrLines;
        var syncs = new List<(int Line, string Path, long Bytes)>();
        for (int i = 0; i < lines.Count; i++)
        {
            int at = lines[i].IndexOf("journal synced ", StringComparison.Ordinal);
            if (at >= 0)
            {
                string[] words = lines[i][(at + "journal synced ".Length)..].Split(' ');
                syncs.Add((i, words[0], long.Parse(words[1], CultureInfo.InvariantCulture)));
            }
        }

        Assert.True(syncs.Count >= 2, $"{rerun}: expected at least two 'journal synced' lines in {killedAt:0.0} s.\n{process.Describe()}");

        // The page cache is lost: every journal file goes back to its last synced length (never synced: empty).
        string journalDir = Path.Combine(greyd.DbDir, "journal");
        long kept = 0;
        long cut = 0;
        foreach (string file in Directory.GetFiles(journalDir))
        {
            long synced = syncs.LastOrDefault(s => s.Path == file).Bytes;
            long length = new FileInfo(file).Length;
            Assert.True(synced <= length, $"{file}: synced {synced} bytes but holds only {length}");
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(synced);
            }

            kept += synced;
            cut += length - synced;
        }

        greyd.Restart();
        var check = greyd.Connect();
        var lost = new List<(string Recipient, int LinesBefore, double At)>();
        foreach (var t in answered)
        {
            string reply = check.Ask(D(100).With("recipient", t.Recipient));
            if (reply == New)
            {
                lost.Add(t);
            }
            else
            {
                Step($"{rerun}: {t.Recipient}", Wait(200), reply);
            }
        }

        // Answered before the next-to-last sync line arrived: its record was written over a second before the
        // last fsync began (the sync loop waits the interval between fsyncs), so it must have survived.
        int previousSync = syncs[^2].Line;
        var early = lost.Where(t => t.LinesBefore <= previousSync).ToList();
        Assert.True(early.Count == 0, $"{rerun}: {early.Count} triplets answered before the next-to-last journal sync were lost, e.g. {string.Join(", ", early.Take(5).Select(t => t.Recipient))}");
        // Each new triplet is one 48-byte record; a request written but not yet answered at the kill may add one.
        long records = kept / 48;
        int known = answered.Count - lost.Count;
        Assert.True(records >= known && records <= known + clients.Count, $"{rerun}: {records} durable journal records but {known} known triplets");
        double oldest = lost.Count == 0 ? 0 : killedAt - lost.Min(t => t.At);
        Assert.True(oldest < 5, $"{rerun}: a lost triplet was answered {oldest:0.00} s before the kill");
        Step($"{rerun}: nothing was invented", New, check.Ask(D(100).With("recipient", "never-sent@example.org")));
        output.WriteLine($"{rerun}: {answered.Count} triplets answered in {killedAt:0.0} s, {syncs.Count} journal syncs; journal cut by {cut} bytes, "
            + $"{lost.Count} triplets lost, all answered within {oldest:0.00} s of the kill");
        Assert.Equal(0, greyd.Process.Stop());
    }

    private bool Note(string rerun)
    {
        output.WriteLine("FAILED with " + rerun);
        return false;
    }

    private static Task<T> Run<T>(Func<T> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>New triplets from one client net per worker and cycle, until the connection ends.</summary>
    private static List<Triplet> TripletLoad(PolicyClient client, int cycle, int worker, long now)
    {
        var done = new List<Triplet>();
        using (client)
        {
            for (int i = 0; i < 20000; i++)
            {
                var t = new Triplet($"10.{cycle}.{worker}.1", $"c{cycle}w{worker}n{i}@example.org");
                if (!client.TrySend(t.Request(now).ToBytes()))
                {
                    break;
                }

                var result = client.TryReadReply(TimeSpan.FromSeconds(10));
                if (result.Kind != ReplyKind.Reply)
                {
                    Assert.True(result.Kind == ReplyKind.Eof && result.Text.Length == 0, $"{t}: a connection must end cleanly, got {result}");
                    break;
                }

                Step(t.ToString(), New, result.Text);
                done.Add(t);
            }
        }

        return done;
    }

    /// <summary>
    /// One round over the active AWL clients: a new triplet at now-300, then its pass at now, which counts the
    /// client once (the last count was a cycle, over an hour, ago). Returns a failure text or null.
    /// </summary>
    private static string? AwlLoad(PolicyClient client, AwlModel awl, int cycle, long now, string rerun)
    {
        using (client)
        {
            foreach (int k in awl.Round())
            {
                string rcpt = $"awl{k}c{cycle}";
                string? first = Ask(client, AwlModel.Request(k, rcpt, now - 300));
                if (first is null)
                {
                    return null;
                }

                if (first == Dunno && awl.Uncertain.Contains(k))
                {
                    awl.Whitelist(k); // an unanswered pass was kept and reached the threshold
                    continue;
                }

                if (first != New)
                {
                    return $"AWL client {AwlModel.Address(k)} (count {awl.Confirmed[k]}): '{rcpt}' expected '{New}', got '{first}' ({rerun})";
                }

                awl.Uncertain.Add(k); // if the answer never comes, the count may or may not have moved
                string? second = Ask(client, AwlModel.Request(k, rcpt, now));
                if (second is null)
                {
                    return null;
                }

                if (!XGPattern(300).IsMatch(second))
                {
                    return $"AWL client {AwlModel.Address(k)} (count {awl.Confirmed[k]}): pass of '{rcpt}' expected XG(300), got '{second}' ({rerun})";
                }

                awl.Count(k);
            }
        }

        return null;
    }

    private static string? Ask(PolicyClient client, PolicyRequest request)
    {
        if (!client.TrySend(request.ToBytes()))
        {
            return null;
        }

        var result = client.TryReadReply(TimeSpan.FromSeconds(10));
        return result.Kind == ReplyKind.Reply ? result.Text : null;
    }

    private sealed record Triplet(string Client, string Recipient)
    {
        public PolicyRequest Request(long now) => D(now).With("client_address", Client).With("recipient", Recipient);

        public override string ToString() => $"{Client}/{Recipient}";
    }

    /// <summary>
    /// AWL clients (one /24 each): a pool being counted, and those whose answered count reached the threshold.
    /// A client whose pass went unanswered at a kill is uncertain: greyd may count more than the model, until an
    /// answer shows it whitelisted.
    /// </summary>
    private sealed class AwlModel
    {
        private const int Pool = 120;
        private readonly List<int> _active = [.. Enumerable.Range(0, Pool)];
        private int _next = Pool;
        private int _start;

        public Dictionary<int, int> Confirmed { get; } = [];

        public HashSet<int> Uncertain { get; } = [];

        public List<int> Whitelisted { get; } = [];

        public int Counted { get; private set; }

        public static string Address(int k) => $"172.{16 + (k / 256)}.{k % 256}.9";

        public static PolicyRequest Request(int k, string local, long now) =>
            D(now).With("client_address", Address(k)).With("recipient", local + "@example.org");

        /// <summary>The active clients, from a rotating start so that kills land anywhere in the round.</summary>
        public List<int> Round()
        {
            _start = (_start + 37) % _active.Count;
            return [.. _active.Skip(_start), .. _active.Take(_start)];
        }

        public void Count(int k)
        {
            Counted++;
            Confirmed[k] = Confirmed.GetValueOrDefault(k) + 1;
            if (Confirmed[k] >= AwlThreshold)
            {
                Whitelist(k);
            }
        }

        public void Whitelist(int k)
        {
            Whitelisted.Add(k);
            Uncertain.Remove(k);
            Confirmed[k] = Math.Max(Confirmed.GetValueOrDefault(k), AwlThreshold);
            _active[_active.IndexOf(k)] = _next++;
        }
    }
}
