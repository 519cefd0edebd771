using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Greyd.IntegrationTests.Harness;
using Xunit.Abstractions;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// reliability.md §4-§6 (#6, #7, #10, #13): slowloris, clients that never read, a thousand concurrent connections,
/// a connection flood beyond --max-connections, log injection; the daemon's memory stays bounded throughout.
/// </summary>
[Collection(HeavyLoadCollection.Name)]
public sealed class HostileClientTests
{
    private readonly ITestOutputHelper _output;

    public HostileClientTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void A_request_trickled_one_byte_a_second_is_closed_at_the_request_timeout_while_an_idle_connection_stays_open()
    {
        using var greyd = GreydInstance.StartForVectors("--request-timeout=2");
        var idle = greyd.Connect();
        var slow = greyd.Connect();
        var used = greyd.Connect();
        int mark = greyd.Process.StderrLineCount;
        byte[] request = D(0).ToBytes();
        var started = Stopwatch.StartNew();
        int sent = 0;
        while (sent < request.Length && slow.TrySend(request.AsSpan(sent, 1).ToArray()))
        {
            sent++;
            var result = slow.TryReadReply(TimeSpan.FromSeconds(1));
            if (result.Kind == ReplyKind.Eof)
            {
                Assert.True(result.Text.Length == 0, $"a timed-out request must get no reply, got {result}");
                break;
            }

            Assert.True(result.Kind == ReplyKind.Timeout, $"a trickled request must get nothing before it is complete, got {result}");
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "--request-timeout=2: the trickling connection was not closed within 10 s");
        }

        Assert.True(sent < request.Length, "the trickled request was sent whole before the request timeout closed it");
        _output.WriteLine($"trickling connection closed after {started.Elapsed.TotalSeconds:0.0} s and {sent} bytes");
        Assert.InRange(started.Elapsed.TotalSeconds, 1.5, 6);
        greyd.ExpectLog("request timeout", l => l.Contains("--request-timeout", StringComparison.Ordinal), "a warning naming --request-timeout", mark);

        // A connection idle between requests keeps the (longer) idle timeout; a request split in two is fine.
        Assert.True(idle.TryReadReply(TimeSpan.FromMilliseconds(200)).Kind == ReplyKind.Timeout, "an idle connection must stay open past the request timeout");
        Step("idle connection still served", GT(), idle.Ask(D(1).With("recipient", "idle@example.org")));
        byte[] split = D(2).With("recipient", "split@example.org").ToBytes();
        used.Send(split.AsSpan(0, 20).ToArray());
        Thread.Sleep(1000);
        used.Send(split.AsSpan(20).ToArray());
        Step("request split over one second", GT(), used.ReadReply());
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void A_client_that_never_reads_its_answers_is_closed_at_the_write_timeout()
    {
        using var greyd = GreydInstance.StartForVectors("--request-timeout=2", "-q");
        using var flooder = greyd.NewClient();
        flooder.Socket.ReceiveBufferSize = 4096;
        flooder.Socket.SendTimeout = 20_000;
        int mark = greyd.Process.StderrLineCount;
        byte[] batch = Enumerable.Range(0, 1000).SelectMany(i => D(0).With("recipient", $"r{i}@example.org").ToBytes()).ToArray();
        var started = Stopwatch.StartNew();
        long sentBytes = 0;
        var sending = Task.Run(() =>
        {
            // Never reads: the answers fill the socket, greyd's write blocks, then times out and closes.
            while (started.Elapsed < TimeSpan.FromSeconds(30))
            {
                try
                {
                    flooder.Socket.Send(batch);
                    sentBytes += batch.Length;
                }
                catch (SocketException)
                {
                    return;
                }
            }
        });
        Assert.True(sending.Wait(TimeSpan.FromSeconds(40)), "the sender never stopped");
        _output.WriteLine($"flooder cut off after {started.Elapsed.TotalSeconds:0.0} s, {sentBytes / 1024} KiB sent");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(25), "a client that never reads must be closed within a few seconds of --request-timeout=2");
        greyd.ExpectLog("write timeout", l => l.Contains("did not read its answer", StringComparison.Ordinal), "a warning about the unread answers", mark);
        Step("others are served", GT(), greyd.AskOnce(D(1).With("recipient", "other@example.org")));
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void A_thousand_connections_half_idle_some_trickling_leave_normal_clients_fast_and_memory_bounded_and_a_flood_is_refused()
    {
        const int Idle = 500;
        const int Slow = 100;
        const int Normal = 400;
        const int MaxConnections = 1100;
        ProcessMemory.RaiseDescriptorLimit(8192);
        using var greyd = GreydInstance.StartTcp(GreydInstance.VectorOptions.Concat(["-q", $"--max-connections={MaxConnections}"]).ToArray());
        int port = greyd.TcpPort!.Value;
        double baseline = ProcessMemory.RssMiB(greyd.Process.Pid);
        using var rss = new ProcessMemory.Sampler(greyd.Process.Pid);
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < Idle + Slow; i++)
            {
                sockets.Add(Connect(port));
            }

            var normal = Enumerable.Range(0, Normal).Select(_ => new RawClient(Connect(port))).ToList();
            sockets.AddRange(normal.Select(c => c.Socket));
            var slow = sockets.Skip(Idle).Take(Slow).ToList();
            byte[] slowRequest = D(0).With("recipient", "slow@example.org").ToBytes();
            using var stop = new CancellationTokenSource();
            var trickle = Task.Run(async () =>
            {
                // One byte a second on each slow connection (never completing a request within the run).
                for (int b = 0; !stop.IsCancellationRequested; b++)
                {
                    foreach (var s in slow)
                    {
                        try
                        {
                            s.Send(slowRequest.AsSpan(b % 20, 1));
                        }
                        catch (SocketException)
                        {
                        }
                    }

                    await Task.Delay(1000, CancellationToken.None).ConfigureAwait(false);
                }
            });

            // Normal clients: one request in flight each (as smtpd), every 400 ms for 8 s: about 1,000 requests a second.
            var latencies = new List<double>[Normal];
            var runs = new Task[Normal];
            var deadline = Stopwatch.StartNew();
            for (int c = 0; c < Normal; c++)
            {
                int client = c;
                latencies[client] = [];
                runs[client] = Task.Run(async () =>
                {
                    var random = new Random(client);
                    await Task.Delay(random.Next(400)).ConfigureAwait(false);
                    for (int n = 0; deadline.Elapsed < TimeSpan.FromSeconds(8); n++)
                    {
                        byte[] request = D(n).With("recipient", $"n{client}x{n}@example.org").ToBytes();
                        long t0 = Stopwatch.GetTimestamp();
                        string reply = await normal[client].AskAsync(request).ConfigureAwait(false);
                        latencies[client].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                        Assert.StartsWith("action=DEFER_IF_PERMIT", reply, StringComparison.Ordinal);
                        await Task.Delay(400).ConfigureAwait(false);
                    }
                });
            }

            Assert.True(Task.WaitAll(runs, TimeSpan.FromSeconds(60)), "normal clients did not finish within 60 s");
            // Each client's first request warms up the test process's own code paths; the rest are measured.
            var all = latencies.SelectMany(l => l.Skip(1)).Order().ToArray();
            double p50 = all[all.Length / 2], p99 = all[(int)(all.Length * 0.99)], max = all[^1];
            var first = latencies.Select(l => l[0]).Order().ToArray();
            _output.WriteLine($"{all.Length} requests from {Normal} normal clients beside {Idle} idle and {Slow} trickling connections: p50 {p50:0.00} ms, p90 {all[(int)(all.Length * 0.9)]:0.00} ms, p99 {p99:0.00} ms, p99.9 {all[(int)(all.Length * 0.999)]:0.00} ms, max {max:0.0} ms; first requests: p50 {first[first.Length / 2]:0.0} ms, max {first[^1]:0.0} ms");
            _output.WriteLine($"greyd RSS: {baseline:0.0} MiB at start, {rss.MaxMiB:0.0} MiB at most with {sockets.Count} connections");

            // The target is p99 < 10 ms (reported above). A shared 2-core CI machine also runs these 1,000 clients and
            // other tests in parallel, so the assertion is only a stall guard: nobody waits for a trickler or an idler.
            Assert.True(p99 < 1000, $"normal clients' p99 {p99:0.00} ms with 1,000 connections open");
            Assert.True(max < 5000, $"a normal request took {max:0.0} ms");

            // A flood beyond --max-connections: the extra connections are closed at once, without a reply.
            int room = MaxConnections - sockets.Count;
            var flood = Enumerable.Range(0, room + 200).Select(_ => Connect(port)).ToList();
            sockets.AddRange(flood);
            // Every connection beyond the limit is accepted and closed at once; the ones within it stay open.
            int refused = 0;
            var floodStarted = Stopwatch.StartNew();
            var pending = flood.ToList();
            while (refused < 200 && floodStarted.Elapsed < TimeSpan.FromSeconds(10))
            {
                foreach (var s in pending.ToList())
                {
                    if (s.Poll(0, SelectMode.SelectRead))
                    {
                        var buffer = new byte[16];
                        int n;
                        try
                        {
                            n = s.Receive(buffer);
                        }
                        catch (SocketException)
                        {
                            n = 0;
                        }

                        Assert.Equal(0, n);
                        refused++;
                        pending.Remove(s);
                    }
                }

                Thread.Sleep(10);
            }

            _output.WriteLine($"flood of {flood.Count} connections over {room} free slots: {refused} refused within {floodStarted.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(200, refused);
            foreach (var s in flood)
            {
                s.Dispose();
            }

            stop.Cancel();
            trickle.Wait();
            Step("normal service after the flood", GT(), RetryAsk(greyd, D(99).With("recipient", "after@example.org")));
            double peak = rss.MaxMiB;
            _output.WriteLine($"greyd RSS peak {peak:0.0} MiB");
            Assert.True(peak < 200, $"greyd RSS reached {peak:0.0} MiB with {MaxConnections} connections (bound 200 MiB)");
        }
        finally
        {
            foreach (var s in sockets)
            {
                s.Dispose();
            }
        }

        Assert.Equal(0, greyd.Process.Stop());
        greyd.Process.AssertNoCrashTrace();
    }

    [Fact]
    public void Log_injection_attempts_in_values_produce_no_forged_log_lines()
    {
        using var greyd = GreydInstance.StartForVectors();
        using var client = greyd.NewClient();
        int mark = greyd.Process.StderrLineCount;
        string[] hostile =
        [
            "a\r<0>FORGED cr line",
            "b\u001b[2J\u001b[31mFORGED ansi",
            "c%n%s%x{0}{FORGED",
            "d, recipient=FORGED@evil, reason=whitelist",
            "e\u000bFORGED\u000cff\u0085nel\u2028ls",
            "f\u00ff\u00c0\u00af invalid utf8 FORGED",
        ];
        for (int i = 0; i < hostile.Length; i++)
        {
            var request = D(0).With("sender", hostile[i] + "@example.net").With("client_name", hostile[i]).With("helo_name", hostile[i]).With("recipient", $"inj{i}@example.org");
            byte[] bytes = i == hostile.Length - 1 ? Encoding.Latin1.GetBytes(request.ToText()) : request.ToBytes();
            client.Send(bytes);
            Step($"hostile value {i}", GT(), client.ReadReply());
        }

        Step("health", GT(), greyd.AskOnce(D(1).With("recipient", "health@example.org")));
        Assert.Equal(0, greyd.Process.Stop());
        var lines = greyd.Process.StderrLines.Skip(mark).ToList();
        foreach (string line in lines)
        {
            Assert.Matches("^<[0-7]>", line);
            Assert.DoesNotContain(line, c => c < 0x20 || c == 0x7f);
            if (line.Contains("FORGED", StringComparison.Ordinal))
            {
                // Only the action lines carry the values, and each starts as greyd wrote it.
                Assert.True(line.StartsWith("<5>action=greylist, reason=new, client_name=", StringComparison.Ordinal), $"a value reached the log outside its action line: '{GreydProcess.Visible(line)}'");
            }
        }

        Assert.Equal(hostile.Length, lines.Count(l => l.Contains("FORGED", StringComparison.Ordinal)));
        Assert.DoesNotContain((byte)0x1b, greyd.Process.RawStderr);
        Assert.DoesNotContain((byte)'\r', greyd.Process.RawStderr);
    }

    private static string RetryAsk(GreydInstance greyd, PolicyRequest request)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            using var client = greyd.NewClient();
            client.TrySend(request.ToBytes());
            var result = client.TryReadReply(TimeSpan.FromSeconds(5));
            if (result.Kind == ReplyKind.Reply || DateTime.UtcNow > deadline)
            {
                return result.Text;
            }

            Thread.Sleep(100);
        }
    }

    private static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>An asynchronous one-request-at-a-time client that holds no thread while it waits.</summary>
    private sealed class RawClient(Socket socket)
    {
        private readonly byte[] _buffer = new byte[4096];
        private int _filled;

        public Socket Socket { get; } = socket;

        public async Task<string> AskAsync(byte[] request)
        {
            await Socket.SendAsync(request).ConfigureAwait(false);
            while (true)
            {
                int end = _buffer.AsSpan(0, _filled).IndexOf("\n\n"u8);
                if (end >= 0)
                {
                    string reply = Encoding.UTF8.GetString(_buffer, 0, end);
                    _buffer.AsSpan(end + 2, _filled - end - 2).CopyTo(_buffer);
                    _filled -= end + 2;
                    return reply;
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                int n = await Socket.ReceiveAsync(_buffer.AsMemory(_filled), timeout.Token).ConfigureAwait(false);
                Assert.True(n > 0, "a normal client's connection was closed");
                _filled += n;
            }
        }
    }
}
