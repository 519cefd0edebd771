using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Greyd.IntegrationTests.Harness;
using Greyd.Tests.Shared;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>--metrics: Prometheus text over HTTP on loopback, moving with the traffic, and nothing else served.</summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(10);

    /// <summary>One HTTP exchange on a fresh connection: sends the bytes, reads until greyd closes.</summary>
    private static (int Status, string Head, string Body) Exchange(int port, byte[] request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        socket.Send(request);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = socket.Receive(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        string text = Encoding.UTF8.GetString(received.ToArray());
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0 && text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal), $"not an HTTP answer: '{GreydProcess.Visible(text)}'");
        string head = text[..split];
        string body = text[(split + 4)..];
        string length = head.Split("\r\n").Single(h => h.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..];
        Assert.Equal(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetByteCount(body));
        return (int.Parse(head.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture), head, body);
    }

    private static (int Status, string Head, string Body) Get(int port, string path) =>
        Exchange(port, Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Prometheus/3.0.0\r\nAccept: text/plain;version=0.0.4\r\n\r\n"));

    private static PrometheusText Scrape(int port)
    {
        var (status, head, body) = Get(port, "/metrics");
        Assert.Equal(200, status);
        Assert.Contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8", head, StringComparison.Ordinal);
        return PrometheusText.Parse(body);
    }

    [Fact]
    public void The_metrics_follow_the_requests_greyd_answers()
    {
        int port = FreePort.Pick();
        using var greyd = GreydInstance.StartForVectors($"--metrics={port}", "--checkpoint-interval=1");
        greyd.ExpectLog("ready line", l => l.Contains($" ready on unix:{greyd.SocketPath}, metrics on http://127.0.0.1:{port}/metrics ", StringComparison.Ordinal), "the ready line naming the metrics address");

        var start = Scrape(port);
        foreach (var (name, type) in new[]
                 {
                     ("greyd_requests_total", "counter"), ("greyd_request_errors_total", "counter"), ("greyd_decisions_total", "counter"),
                     ("greyd_request_duration_seconds", "histogram"), ("greyd_greylist_delay_seconds", "histogram"),
                     ("greyd_store_triplets", "gauge"), ("greyd_store_awl_clients", "gauge"), ("greyd_store_disk_bytes", "gauge"),
                     ("greyd_store_persistent", "gauge"), ("greyd_store_degraded", "gauge"), ("greyd_store_errors_total", "counter"),
                     ("greyd_store_checkpoint_errors_total", "counter"), ("greyd_connections", "gauge"),
                 })
        {
            Assert.Equal(type, start.Types.GetValueOrDefault(name));
        }

        Assert.False(start.Types.ContainsKey("greyd_shared_store_up"), "greyd_shared_store_up without --store");
        Assert.Equal(0, start.Value("greyd_requests_total"));
        Assert.Equal(0, start.Value("greyd_decisions_total", "action=greylist", "reason=new"));
        Assert.Equal(1, start.Value("greyd_store_persistent"));

        var client = greyd.Connect();
        Step("new", GT(), client.Ask(D(0)));
        Step("early retry", GT(), client.Ask(D(100)));
        StepXG("first pass", 400, client.Ask(D(400)));
        Step("pass", Dunno, client.Ask(D(500)));
        Step("unusable", Dunno, client.Ask(D(600).Without("client_address")));

        var after = Scrape(port);
        Assert.Equal(5, after.Value("greyd_requests_total"));
        Assert.Equal(0, after.Value("greyd_request_errors_total"));
        Assert.Equal(1, after.Value("greyd_decisions_total", "action=greylist", "reason=new"));
        Assert.Equal(1, after.Value("greyd_decisions_total", "action=greylist", "reason=early-retry"));
        Assert.Equal(2, after.Value("greyd_decisions_total", "action=pass", "reason=triplet found"));
        Assert.Equal(1, after.Value("greyd_decisions_total", "action=dunno", "reason=unusable"));
        Assert.Equal(0, after.Value("greyd_decisions_total", "action=pass", "reason=client whitelist"));
        Assert.Equal((1, 400), after.Histogram("greyd_greylist_delay_seconds"));
        Assert.Equal(0, after.Bucket("greyd_greylist_delay_seconds", 360));
        Assert.Equal(1, after.Bucket("greyd_greylist_delay_seconds", 420));
        var (count, sum) = after.Histogram("greyd_request_duration_seconds");
        Assert.Equal(5, count);
        Assert.InRange(sum, 1e-7, 5);
        Assert.True(after.Value("greyd_store_triplets") >= 1, "the greylisted triplet is not counted in greyd_store_triplets");
        Assert.Equal(1, after.Value("greyd_connections"));

        // --checkpoint-interval=1: a checkpoint completes within seconds and its age is then small.
        var deadline = Stopwatch.StartNew();
        double? age;
        while ((age = Scrape(port).Find("greyd_store_checkpoint_age_seconds")) is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(200);
        }

        Assert.NotNull(age);
        Assert.InRange(age.Value, 0, 10);
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void Only_GET_metrics_is_served_and_bad_requests_leave_greyd_answering()
    {
        int port = FreePort.Pick();
        using var greyd = GreydInstance.StartForVectors($"--metrics=127.0.0.1:{port}");
        Assert.Equal(404, Get(port, "/").Status);
        Assert.Equal(404, Get(port, "/metricsx").Status);
        Assert.Equal(200, Get(port, "/metrics?name[]=greyd_requests_total").Status);
        var post = Exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        Assert.Equal(405, post.Status);
        Assert.Contains("\r\nAllow: GET", post.Head, StringComparison.Ordinal);
        Assert.Equal(400, Exchange(port, "\x16\x03\x01\x02\x00garbage\r\n\r\n"u8.ToArray()).Status);
        Assert.Equal(400, Exchange(port, "GET /metrics\r\n\r\n"u8.ToArray()).Status);
        Assert.Equal(431, Exchange(port, Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nX-Filler: " + new string('a', 20_000) + "\r\n\r\n")).Status);

        // Connections that send nothing hold every slot; policy answers go on, and the slots come back after the timeout.
        var idle = Enumerable.Range(0, 8).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return s;
        }).ToList();
        try
        {
            var client = greyd.Connect();
            var answered = Stopwatch.StartNew();
            Step("policy answer while scrapers hang", GT(), client.Ask(D(0)));
            Assert.True(answered.Elapsed < TimeSpan.FromSeconds(1), $"a policy answer took {answered.Elapsed} while metrics connections hung");
            Thread.Sleep(TimeSpan.FromSeconds(6));
            Assert.Equal(1, Scrape(port).Value("greyd_requests_total"));
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }

        greyd.Process.AssertAlive("after bad HTTP requests");
        greyd.Process.AssertNoCrashTrace();
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void The_shared_store_state_shows_up_and_down()
    {
        int port = FreePort.Pick();
        using var server = SharedStoreServer.Start(SharedStoreKind.Redis);
        using var greyd = GreydInstance.Start(SharedStoreKit.Options(server, $"--metrics={port}"));
        SharedStoreKit.ExpectConnected(greyd, server);
        var up = Scrape(port);
        Assert.Equal(1, up.Value("greyd_shared_store_up"));
        Assert.Equal(0, up.Value("greyd_shared_store_failures_total"));

        server.Kill();
        int mark = greyd.Process.StderrLineCount;
        greyd.AskOnce(SharedStoreKit.To("down@example.org", 0));
        greyd.ExpectLog("outage", l => SharedStoreKit.IsOutageLine(server, l), "the outage line", mark);
        var down = Scrape(port);
        Assert.Equal(0, down.Value("greyd_shared_store_up"));
        Assert.True(down.Value("greyd_shared_store_failures_total") >= 1, "the failed call is not counted");
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void A_metrics_port_in_use_stops_greyd_at_start_with_one_clear_line()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        using var dir = new TempDir();
        using var greyd = GreydProcess.Start(["--unix=" + dir.File("greyd.sock"), "--dbdir=" + dir.Dir("db"), $"--metrics={port}"]);
        Assert.NotEqual(0, greyd.WaitForExit(ExitWithin));
        Assert.Contains($"<3>fatal: cannot listen on 127.0.0.1:{port} for --metrics: Address already in use", greyd.StderrLines);
        Assert.False(File.Exists(dir.File("greyd.sock")), "the policy socket was left behind");
    }
}
