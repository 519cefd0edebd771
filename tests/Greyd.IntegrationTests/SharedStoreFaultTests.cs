using System.Diagnostics;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;
using static Greyd.IntegrationTests.Harness.SharedStoreKit;

namespace Greyd.IntegrationTests;

/// <summary>
/// The shared store failing under greyd: killed under load, restarted empty on the same port, paused with SIGSTOP,
/// or refusing greyd's password. greyd keeps answering from its local store, no request waits much longer than
/// --store-timeout, the outage is logged once and the recovery once, and nothing greylisted meanwhile is lost.
/// Latencies are measured, so these run in the heavy-load collection, alone.
/// </summary>
[Collection(HeavyLoadCollection.Name)]
public sealed class SharedStoreFaultTests
{
    private const int StoreTimeoutMs = 50;

    // The contract is "no request waits longer than --store-timeout"; 200 ms on top absorbs a loaded CI machine.
    private const double BoundMs = StoreTimeoutMs + 200;

    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(15);

    private static GreydInstance StartGreyd(SharedStoreServer server, params string[] extra)
    {
        var greyd = GreydInstance.Start(Options(server, ["--store-timeout=" + StoreTimeoutMs, .. extra]));
        try
        {
            ExpectConnected(greyd, server);
        }
        catch
        {
            greyd.Dispose(); // the caller never gets it to dispose
            throw;
        }

        return greyd;
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void Killing_the_store_under_load_keeps_every_answer_within_the_timeout_and_logs_the_outage_once(SharedStoreKind kind)
    {
        const int Workers = 3;
        using var server = SharedStoreServer.Start(kind);
        using var greyd = StartGreyd(server);

        // Each worker sends new triplets one after the other on its own connection and times every answer.
        long requests = 0;
        var stop = new ManualResetEventSlim();
        var clients = Enumerable.Range(0, Workers).Select(_ => greyd.NewClient()).ToList();
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Factory.StartNew(
            () =>
            {
                var sent = new List<(string Rcpt, string Reply, double Ms)>();
                using var client = clients[w];
                for (int i = 0; !stop.IsSet; i++)
                {
                    string rcpt = $"w{w}n{i}@example.org";
                    var (reply, ms) = Timed(client, To(rcpt, 0));
                    sent.Add((rcpt, reply, ms));
                    Interlocked.Increment(ref requests);
                    Thread.Sleep(1); // a busy but not saturating load, so greyd's own timers run as they would on a mail server
                }

                return sent;
            },
            TaskCreationOptions.LongRunning)).ToArray();

        WaitFor(() => Interlocked.Read(ref requests) >= 300, "300 requests before the kill");
        server.Kill();
        long atKill = Interlocked.Read(ref requests);
        var killedAt = Stopwatch.StartNew();
        WaitFor(() => greyd.Process.TryWaitForLog(l => IsOutageLine(server, l), TimeSpan.Zero), "the outage line");
        // Keep the load on well past greyd's first reconnect attempts, which must not hold requests up either.
        WaitFor(() => killedAt.Elapsed > TimeSpan.FromSeconds(3) && Interlocked.Read(ref requests) >= atKill + 300, "300 requests and 3 s after the kill");
        stop.Set();
        var sent = workers.SelectMany(w => w.Result).ToList();

        foreach (var (rcpt, reply, _) in sent)
        {
            Step($"{rcpt} is new", Wait(300), reply);
        }

        var slowest = sent.MaxBy(s => s.Ms);
        Assert.True(slowest.Ms < BoundMs, $"{slowest.Rcpt} took {slowest.Ms:0} ms (bound {BoundMs} ms; {sent.Count(s => s.Ms >= BoundMs)} of {sent.Count} over it)");
        Assert.Equal(1, CountOutageLines(greyd, server));
        string status = Status(greyd);
        Assert.Equal(server.Url, StatusField(status, "shared"));
        Assert.Equal("down", StatusField(status, "shared-state"));
        Assert.NotEqual("0", StatusField(status, "shared-failures"));

        // Both what was answered before the kill and after it are in the local store.
        var check = greyd.Connect();
        foreach (var (rcpt, _, _) in sent.Where((_, i) => i % 25 == 0))
        {
            Step($"{rcpt} is an early retry from the local store", Wait(200), check.Ask(To(rcpt, 100)));
        }

        greyd.Process.AssertAlive("after the store was killed");
        greyd.Process.AssertNoCrashTrace();
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_store_restarted_empty_on_the_same_port_is_used_again_without_restarting_greyd(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var greyd = StartGreyd(server);
        int pid = greyd.Process.Pid;
        var client = greyd.Connect();
        Step("before: new", Wait(300), client.Ask(To("before@example.org", 0)));
        using (var kv = server.Client())
        {
            Assert.Equal(new[] { TripletKey("before@example.org") }, GreylistKeys(kv));
        }

        server.Kill();
        DriveUntil(greyd, client, "down", 10, BoundMs, l => IsOutageLine(server, l), "the outage line", RecoveryTimeout, 0);
        server.Restart();
        DriveUntil(greyd, client, "back", 20, BoundMs, l => l == BackLine(server), "the recovery line", RecoveryTimeout, 0);
        Assert.Equal(pid, greyd.Process.Pid);

        Step("after: new", Wait(300), client.Ask(To("after@example.org", 30)));
        Step("before: an early retry (from the local store)", Wait(200), client.Ask(To("before@example.org", 100)));
        AssertField(server, TripletKey("after@example.org"), "first", Seconds(30), greyd);
        AssertField(server, TripletKey("before@example.org"), "first", Seconds(0), greyd);

        Assert.Equal(1, CountOutageLines(greyd, server));
        Assert.Equal(1, CountLines(greyd, BackLine(server)));
        Assert.Equal("up", StatusField(Status(greyd), "shared-state"));
        greyd.Process.AssertNoCrashTrace();
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_paused_store_costs_at_most_the_timeout_per_request_and_is_used_again_after_SIGCONT(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var greyd = StartGreyd(server);
        var client = greyd.Connect();
        Step("before: new", Wait(300), client.Ask(To("before@example.org", 0)));

        server.Pause();
        var paused = DriveUntil(greyd, client, "paused", 10, BoundMs, l => IsOutageLine(server, l), "the outage line", RecoveryTimeout, 0);
        // More requests while it stays paused: each still within the bound, and no second outage line.
        for (int i = 0; i < 30; i++)
        {
            string rcpt = $"still-paused{i}@example.org";
            var (reply, ms) = Timed(client, To(rcpt, 10));
            Step(rcpt, Wait(300), reply);
            Assert.True(ms < BoundMs, $"{rcpt} took {ms:0} ms on a paused store (bound {BoundMs} ms)");
        }

        Assert.Equal("down", StatusField(Status(greyd), "shared-state"));
        server.Resume();
        DriveUntil(greyd, client, "resumed", 20, BoundMs, l => l == BackLine(server), "the recovery line", RecoveryTimeout, 0);

        // Replies the resumed server sends for requests greyd gave up on must not be taken for later ones.
        Step("after: new", Wait(300), client.Ask(To("after@example.org", 30)));
        Step("before: an early retry", Wait(200), client.Ask(To("before@example.org", 100)));
        Step($"{paused[0]} (sent while paused): an early retry", Wait(210), client.Ask(To(paused[0], 100)));
        AssertField(server, TripletKey("after@example.org"), "first", Seconds(30), greyd);
        AssertField(server, TripletKey(paused[0]), "first", Seconds(10), greyd);

        Assert.Equal(1, CountOutageLines(greyd, server));
        Assert.Equal(1, CountLines(greyd, BackLine(server)));
        greyd.Process.AssertNoCrashTrace();
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_wrong_password_is_one_clear_error_and_greyd_greylists_from_the_local_store(SharedStoreKind kind)
    {
        const string Right = "Kq8-right-Wd2";
        const string Wrong = "Xq7-wrong-Zt9";
        using var server = SharedStoreServer.Start(kind, password: Right);
        using var wrong = GreydInstance.Start(OptionsWithStore(server.StoreOptionWith(Wrong), "--store-timeout=" + StoreTimeoutMs));
        string error = wrong.ExpectLog("auth error", l => IsOutageLine(server, l), "the outage line at start");
        Assert.True(
            error.Contains("auth", StringComparison.OrdinalIgnoreCase) || error.Contains("password", StringComparison.OrdinalIgnoreCase),
            $"the error should say the password was refused: {error}");

        var client = wrong.Connect();
        for (int t = 0; t < 100; t += 10)
        {
            Step($"wrong password: answered from the local store at {t}", Wait(300 - t), client.Ask(To("local@example.org", t)));
        }

        Assert.Equal(1, CountOutageLines(wrong, server));
        Assert.Equal("down", StatusField(Status(wrong), "shared-state"));

        // The right password from --store-password-file, with none in the URL.
        using var dir = new TempDir();
        string file = dir.WriteFile("store-password", Right);
        using var right = GreydInstance.Start(OptionsWithStore(server.StoreOptionWith(null), "--store-timeout=" + StoreTimeoutMs, "--store-password-file=" + file));
        ExpectConnected(right, server);
        Step("right password: new", Wait(300), right.AskOnce(To("shared@example.org", 0)));
        Assert.Equal("up", StatusField(Status(right), "shared-state"));

        using (var kv = server.Client())
        {
            Assert.Equal(new[] { TripletKey("shared@example.org") }, GreylistKeys(kv));
        }

        foreach (var greyd in new[] { wrong, right })
        {
            Assert.DoesNotContain(greyd.Process.StderrLines, l => l.Contains(Wrong, StringComparison.Ordinal) || l.Contains(Right, StringComparison.Ordinal));
            greyd.Process.AssertNoCrashTrace();
        }
    }

    [Theory]
    [InlineData(SharedStoreKind.Redis)]
    [InlineData(SharedStoreKind.Garnet)]
    public void A_triplet_greylisted_while_the_store_was_down_passes_after_the_delay_once_it_is_back_empty(SharedStoreKind kind)
    {
        using var server = SharedStoreServer.Start(kind);
        using var mx1 = StartGreyd(server);
        server.Kill();

        var client = mx1.Connect();
        Step("MX1, store down: new", Wait(300), client.Ask(D(0)));
        DriveUntil(mx1, client, "down", 0, BoundMs, l => IsOutageLine(server, l), "the outage line", RecoveryTimeout, 0);
        server.Restart();
        DriveUntil(mx1, client, "back", 10, BoundMs, l => l == BackLine(server), "the recovery line", RecoveryTimeout, 0);
        using var mx2 = StartGreyd(server);

        Step("MX1, store back and empty: an early retry", Wait(100), client.Ask(D(200)));
        AssertField(server, TripletKey(Rcpt), "first", Seconds(0), mx1);

        Step("MX2 counts from MX1's sighting while the store was down", Wait(50), mx2.AskOnce(D(250)));
        StepXG("MX1: passes after the delay", 300, client.Ask(D(300)));
        Step("MX2: passed", Dunno, mx2.AskOnce(D(301)));
    }

    private const string Rcpt = "bob@example.org";

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            Thread.Sleep(10);
        }
    }
}
