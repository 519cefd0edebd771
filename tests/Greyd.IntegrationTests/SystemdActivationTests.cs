using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;

namespace Greyd.IntegrationTests;

/// <summary>
/// greyd under systemd's protocols with real or faked peers: listening sockets passed by systemd-socket-activate
/// (Debian package systemd; sd_listen_fds(3)) and readiness sent to a $NOTIFY_SOCKET the test binds (sd_notify(3)).
/// </summary>
public sealed class SystemdActivationTests
{
    private const string GreyIfPermit = "action=DEFER_IF_PERMIT Greylisted by greyd, try again later";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// systemd-socket-activate binds the unix socket, waits for the first connection and execs greyd in its own
    /// process with LISTEN_PID/LISTEN_FDS. greyd must serve on descriptor 3 (also when --unix names the same path, which
    /// it must not bind again), say so in its ready line, stop on SIGTERM, and leave the socket file alone.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Greyd_serves_a_unix_socket_passed_by_systemd_socket_activate_and_leaves_its_file(bool alsoUnixOption)
    {
        string activator = ExternalTool.Require(ExternalTool.SocketActivate, "systemd");
        using var dir = new TempDir();
        string socket = dir.File("greyd.sock");
        var greydArgs = new List<string> { GreydBinary.Path, "--admin-socket=none", "--dbdir=" + dir.Dir("db") };
        if (alsoUnixOption)
        {
            greydArgs.Add("--unix=" + socket);
        }

        using var process = GreydProcess.StartExecutable(activator, ["-l", socket, .. greydArgs]);
        process.WaitForLog(l => l == $"Listening on {socket} as 3.", Wait, "systemd-socket-activate's 'Listening on' line");

        // The first connection makes the activator exec greyd; the request waits in the socket's queue meanwhile.
        using (var client = PolicyClient.ConnectUnix(socket))
        {
            Assert.Equal(GreyIfPermit, client.Ask(DWithoutTime(), Wait));
            Assert.Equal(GreyIfPermit, client.Ask(DWithoutTime().With("recipient", "carol@example.org")));
        }

        string ready = process.WaitForLog(l => l.Contains(" ready on ", StringComparison.Ordinal), Wait, "greyd's ready line");
        Assert.Matches(new Regex($@"^<5>greyd \S+ ready on unix:{Regex.Escape(socket)} \(from systemd\) \(started in \d+ ms\)$"), ready);
        process.WaitForLog(l => l.StartsWith("<5>action=greylist, reason=new, ", StringComparison.Ordinal) && l.EndsWith("recipient=bob@example.org", StringComparison.Ordinal),
            Wait, "the first decision line");

        // A second connection still works: greyd accepts on the passed socket, not only the one that woke it.
        using (var second = PolicyClient.ConnectUnix(socket))
        {
            Assert.Equal(GreyIfPermit, second.Ask(DWithoutTime()));
        }

        // (The reason is 'new' again when the retry falls in the same second as the first sighting, as in postgrey.)
        process.WaitForLog(l => l.StartsWith("<5>action=greylist, reason=", StringComparison.Ordinal) && l.EndsWith("recipient=bob@example.org", StringComparison.Ordinal),
            Wait, "the third decision line", fromLine: 1 + process.StderrLines.ToList().FindIndex(l => l.EndsWith("recipient=carol@example.org", StringComparison.Ordinal)));

        // No exec'd child: the activator's pid is greyd now, so stopping that pid stops greyd.
        Assert.Equal(Path.GetFullPath(GreydBinary.Path), ExternalTool.ExecutableOf(process.Pid));
        Assert.Equal(0, process.Stop());
        Assert.False(ExternalTool.IsAlive(process.Pid), $"pid {process.Pid} still runs after SIGTERM");
        Assert.Contains("<5>greyd stopped", process.StderrLines);
        process.AssertNoCrashTrace();

        // systemd owns the socket file: greyd must not unlink it (nor rebind and unlink it because of --unix).
        Assert.True(File.Exists(socket), $"greyd removed {socket}, which systemd created and owns.\n{process.Describe()}");
        var refused = Assert.Throws<SocketException>(() => PolicyClient.ConnectUnix(socket).Dispose());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>
    /// A TCP socket passed by systemd-socket-activate (-l 127.0.0.1:PORT), with --inet naming the same address and
    /// NOTIFY_SOCKET passed through -E: greyd serves on it, its ready line says inet:...(from systemd), and the notify
    /// socket sees READY=1 and STOPPING=1.
    /// </summary>
    [Fact]
    public void Greyd_serves_a_tcp_socket_passed_by_systemd_socket_activate_and_notifies()
    {
        string activator = ExternalTool.Require(ExternalTool.SocketActivate, "systemd");
        using var dir = new TempDir();
        using var notify = FakeNotifySocket.Abstract();
        int port = FreePort.Pick();
        using var process = GreydProcess.StartExecutable(activator,
        [
            "-l", $"127.0.0.1:{port}", "-E", "NOTIFY_SOCKET=" + notify.EnvironmentValue,
            GreydBinary.Path, "--admin-socket=none", "--dbdir=" + dir.Dir("db"), $"--inet=127.0.0.1:{port}",
        ]);
        process.WaitForLog(l => l == $"Listening on 127.0.0.1:{port} as 3.", Wait, "systemd-socket-activate's 'Listening on' line");
        Assert.Null(notify.TryReceive(TimeSpan.FromMilliseconds(100)));

        using (var client = PolicyClient.ConnectTcp(port))
        {
            Assert.Equal(GreyIfPermit, client.Ask(DWithoutTime(), Wait));
        }

        Assert.Equal("READY=1", notify.Receive(Wait, "READY=1", process).Text);
        string ready = process.WaitForLog(l => l.Contains(" ready on ", StringComparison.Ordinal), Wait, "greyd's ready line");
        Assert.Matches(new Regex($@"^<5>greyd \S+ ready on inet:127\.0\.0\.1:{port} \(from systemd\) \(started in \d+ ms\)$"), ready);
        Assert.Equal(Path.GetFullPath(GreydBinary.Path), ExternalTool.ExecutableOf(process.Pid));

        Native.Signal(process.Pid, Native.SIGTERM);
        Assert.Equal("STOPPING=1", notify.Receive(Wait, "STOPPING=1", process).Text);
        Assert.Equal(0, process.WaitForExit(Wait));
        Assert.Null(notify.TryReceive(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(new[] { "READY=1", "STOPPING=1" }, notify.Received.Select(n => n.Text));
        process.AssertNoCrashTrace();
    }

    /// <summary>
    /// $NOTIFY_SOCKET as a path and as '@name' (abstract namespace): exactly READY=1 once greyd serves, then exactly
    /// STOPPING=1 on SIGTERM, and nothing else.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Greyd_sends_READY_and_STOPPING_to_NOTIFY_SOCKET(bool abstractNamespace)
    {
        using var dir = new TempDir();
        using var notify = abstractNamespace ? FakeNotifySocket.Abstract() : FakeNotifySocket.AtPath(dir.File("notify"));
        string socket = dir.File("greyd.sock");
        using var process = GreydProcess.Start(["--unix=" + socket, "--dbdir=" + dir.Dir("db")],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.EnvironmentValue });

        var readyNotification = notify.Receive(Wait, "READY=1", process);
        Assert.Equal("READY=1", readyNotification.Text);

        // READY=1 promises a bound socket: a request right now is answered.
        using (var client = PolicyClient.ConnectUnix(socket))
        {
            Assert.Equal(GreyIfPermit, client.Ask(DWithoutTime()));
        }

        Assert.Null(notify.TryReceive(TimeSpan.FromMilliseconds(300)));
        process.WaitReady();

        Native.Signal(process.Pid, Native.SIGTERM);
        Assert.Equal("STOPPING=1", notify.Receive(Wait, "STOPPING=1", process).Text);
        Assert.Equal(0, process.WaitForExit(Wait));
        Assert.Null(notify.TryReceive(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(new[] { "READY=1", "STOPPING=1" }, notify.Received.Select(n => n.Text));
        Assert.Contains("<5>greyd stopping", process.StderrLines);
        process.AssertNoCrashTrace();
    }

    /// <summary>
    /// READY=1 comes only after the store is recovered. The store is pre-filled with 20,000 triplets (pipelined on one
    /// connection). greyd is restarted with --delay=1 at least 2 s later, with its stderr going to a file, so when
    /// READY=1 arrives the file shows exactly what greyd had written by then: the 'store: recovered 20000 triplets'
    /// line and the ready line after it. Requests sent right after READY=1 for pre-filled triplets pass with the
    /// X-Greylist header (their first sighting was recovered), while a fresh triplet is greylisted as new.
    /// </summary>
    [Fact]
    public void Greyd_sends_READY_only_after_the_store_is_recovered()
    {
        const int Triplets = 20_000;
        using var dir = new TempDir();
        string socket = dir.File("greyd.sock");
        string db = dir.Dir("db");

        var fill = Stopwatch.StartNew();
        using (var first = GreydProcess.Start(["--unix=" + socket, "--dbdir=" + db]))
        {
            first.WaitReady();
            PrefillPipelined(socket, Triplets);
            Assert.Equal(0, first.Stop());
            first.AssertNoCrashTrace();
        }

        long fillMs = fill.ElapsedMilliseconds;

        // Whole seconds count: two of them must pass for a pre-filled triplet to be past a 1 s delay.
        Thread.Sleep(TimeSpan.FromSeconds(2.1));
        using var notify = FakeNotifySocket.AtPath(dir.File("notify"));
        string logFile = dir.File("greyd.log");
        using var process = GreydProcess.StartExecutable(ExternalTool.Shell,
            ["-c", "log=$1; shift; exec \"$@\" 2>\"$log\"", "sh", logFile, GreydBinary.Path, "--admin-socket=none", "--unix=" + socket, "--dbdir=" + db, "--delay=1", "--hostname=test.host"],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.EnvironmentValue });

        var ready = notify.Receive(Wait, "READY=1", process);
        string[] atReady = ReadShared(logFile).Split('\n');
        string[] replies;
        using (var client = PolicyClient.ConnectUnix(socket))
        {
            replies = [client.Ask(Prefilled(0)), client.Ask(Prefilled(Triplets - 1)), client.Ask(DWithoutTime().With("sender", "never-seen@example.net"))];
        }

        Assert.Equal("READY=1", ready.Text);
        string log = $"stderr file at READY=1:\n  | {string.Join("\n  | ", atReady)}";
        int store = Array.FindIndex(atReady, l => l.StartsWith($"<5>store: recovered {Triplets} triplets ", StringComparison.Ordinal));
        int readyLine = Array.FindIndex(atReady, l => l.Contains(" ready on unix:" + socket, StringComparison.Ordinal));
        Assert.True(store >= 0, $"READY=1 arrived before greyd logged 'store: recovered {Triplets} triplets'.\n{log}");
        Assert.True(readyLine > store, $"READY=1 arrived before the ready line, or the ready line came before the store line.\n{log}");

        // The answers came from the recovered store: both pre-filled triplets were known and are now past the delay.
        var header = new Regex(@"^action=PREPEND X-Greylist: delayed \d+ seconds by greyd-[0-9.]+ at test\.host; ");
        Assert.Matches(header, replies[0]);
        Assert.Matches(header, replies[1]);
        Assert.Equal(GreyIfPermit, replies[2]);
        string decisions = WaitForFileLines(logFile, 3, l => l.StartsWith("<5>action=", StringComparison.Ordinal), process);
        var actions = decisions.Split('\n');
        Assert.Matches(@"^<5>action=pass, reason=triplet found, delay=\d+, .*sender=s0@example\.net, recipient=bob@example\.org$", actions[0]);
        Assert.Matches($@"^<5>action=pass, reason=triplet found, delay=\d+, .*sender=s{Triplets - 1}@example\.net, recipient=bob@example\.org$", actions[1]);
        Assert.StartsWith("<5>action=greylist, reason=new, ", actions[2]);

        Native.Signal(process.Pid, Native.SIGTERM);
        Assert.Equal("STOPPING=1", notify.Receive(Wait, "STOPPING=1", process).Text);
        Assert.Equal(0, process.WaitForExit(Wait));
        Assert.DoesNotContain(ReadShared(logFile).Split('\n'), l => l.Contains("Unhandled exception", StringComparison.Ordinal));
        Console.WriteLine($"pre-fill of {Triplets} triplets (start, fill, stop) took {fillMs} ms; store line: {atReady[store]}");
    }

    private static PolicyRequest Prefilled(int i) => DWithoutTime().With("sender", $"s{i.ToString(CultureInfo.InvariantCulture)}@example.net");

    /// <summary>Sends <paramref name="count"/> distinct requests on one connection without waiting, then reads all replies.</summary>
    private static void PrefillPipelined(string socketPath, int count)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        socket.ReceiveTimeout = 30000;
        socket.SendTimeout = 30000;
        var all = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            all.Write(Prefilled(i).ToBytes());
        }

        byte[] requests = all.ToArray();
        var sender = Task.Run(() =>
        {
            int sent = 0;
            while (sent < requests.Length)
            {
                sent += socket.Send(requests, sent, Math.Min(65536, requests.Length - sent), SocketFlags.None);
            }
        });

        byte[] expected = Encoding.ASCII.GetBytes(GreyIfPermit + "\n\n");
        var buffer = new byte[65536];
        int replies = 0;
        int position = 0; // position inside the expected reply
        while (replies < count)
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                Assert.Fail($"greyd closed the pre-fill connection after {replies} of {count} replies.");
            }

            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != expected[position])
                {
                    Assert.Fail($"pre-fill reply {replies} differs from '{GreyIfPermit}' at byte {position}.");
                }

                if (++position == expected.Length)
                {
                    position = 0;
                    replies++;
                }
            }
        }

        Assert.True(sender.Wait(TimeSpan.FromSeconds(30)), "sending the pre-fill requests did not finish");
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Waits until the file has <paramref name="count"/> lines matching; returns them joined by LF.</summary>
    private static string WaitForFileLines(string path, int count, Func<string, bool> predicate, GreydProcess process)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var lines = ReadShared(path).Split('\n').Where(predicate).ToList();
            if (lines.Count >= count)
            {
                return string.Join("\n", lines);
            }

            if (DateTime.UtcNow >= deadline || process.HasExited)
            {
                Assert.Fail($"{path} has {lines.Count} of {count} expected lines.\n{ReadShared(path)}");
            }

            Thread.Sleep(20);
        }
    }
}
