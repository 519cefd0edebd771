using System.Globalization;
using System.Text;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// reliability.md §4: hostile or broken clients. A separate healthy client must get correct answers before, during
/// and after each attack, and the daemon must still be running (and stop cleanly) at the end.
/// </summary>
public sealed class BadInputTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public void A_megabyte_line_without_a_newline_closes_that_connection_with_a_logged_error()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        var bad = greyd.Connect();
        int mark = greyd.Process.StderrLineCount;
        byte[] chunk = Encoding.ASCII.GetBytes("client_name=" + new string('a', (32 * 1024) - 12));
        int sent = 0;
        for (int i = 0; i < 32 && bad.TrySend(chunk); i++)
        {
            sent += chunk.Length;
            if (i == 0)
            {
                health.Probe("during");
            }
        }

        Assert.True(bad.WaitForEof(CloseWithin), $"a line without newline must be closed (sent {sent} bytes, then no EOF within {CloseWithin.TotalSeconds} s)");
        ExpectErrorLogged(greyd, mark, "the oversized line");
        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void More_than_64_KiB_in_one_request_closes_that_connection()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        var bad = greyd.Connect();
        int mark = greyd.Process.StderrLineCount;
        var text = new StringBuilder("request=smtpd_access_policy\n");
        for (int i = 0; i < 10_000; i++)
        {
            text.Append("attribute").Append(i.ToString(CultureInfo.InvariantCulture)).Append("=some value\n");
        }

        bad.TrySend(Encoding.ASCII.GetBytes(text.ToString()));
        health.Probe("during");
        bad.TrySend(D(0).ToBytes());
        var result = bad.TryReadReply(CloseWithin);
        Assert.True(result.Kind == ReplyKind.Eof && result.Text.Length == 0, $"10,000 attributes (> 64 KiB) must close the connection without a reply, got {result}");
        ExpectErrorLogged(greyd, mark, "the oversized request");
        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void Ten_thousand_short_attributes_under_64_KiB_are_answered_or_closed_but_never_misanswered()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        var bad = greyd.Connect();
        int mark = greyd.Process.StderrLineCount;
        var text = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            text.Append("x=1\n");
        }

        bad.Send(Encoding.ASCII.GetBytes(text.ToString()).Concat(D(0).With("recipient", "many@example.org").ToBytes()).ToArray());
        var result = bad.TryReadReply(CloseWithin);
        if (result.Kind == ReplyKind.Reply)
        {
            Step("10,000 unknown attributes", GT(), result.Text);
        }
        else
        {
            Assert.True(result.Kind == ReplyKind.Eof, $"expected a reply or a close, got {result}");
            ExpectErrorLogged(greyd, mark, "the attribute flood");
        }

        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void A_NUL_byte_closes_that_connection_without_a_reply_and_without_a_raw_NUL_in_the_log()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        foreach (string where in new[] { "value", "name" })
        {
            var bad = greyd.Connect();
            int mark = greyd.Process.StderrLineCount;
            var request = where == "value" ? D(0).With("client_name", "mail\0.example.net") : D(0).Append("hel\0o_name", "x");
            bad.Send(request.ToBytes());
            var result = bad.TryReadReply(CloseWithin);
            Assert.True(result.Kind == ReplyKind.Eof && result.Text.Length == 0, $"a NUL byte in an attribute {where} must close without a reply, got {result}");
            ExpectErrorLogged(greyd, mark, $"the NUL byte in an attribute {where}");
            health.Probe("after NUL in " + where);
        }

        Assert.DoesNotContain((byte)0, greyd.Process.RawStderr);
        health.Finish();
    }

    [Fact]
    public void CR_bytes_and_lines_without_an_equals_sign_are_answered_normally()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        var odd = greyd.Connect();
        Step("CR inside values", GT(), odd.Ask(D(0).With("client_name", "a\rb").With("sender", "\r\r@x\r").With("recipient", "cr1@example.org")));
        health.Probe("during");
        odd.Send(Encoding.ASCII.GetBytes("garbage without equals\nno equals either\r\n" + new string('g', 2000) + "\n").Concat(D(0).With("recipient", "cr2@example.org").ToBytes()).ToArray());
        Step("lines without '='", GT(), odd.ReadReply());
        Step("CRLF request", GT(), odd.Ask(D(0).With("recipient", "cr3@example.org")));
        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void Five_hundred_concurrent_connections_each_sending_one_request_are_all_answered()
    {
        using var greyd = GreydInstance.StartForVectors();
        var health = new HealthyClient(greyd);
        health.Probe("before");

        const int Count = 500;
        var clients = new List<PolicyClient>(Count);
        try
        {
            for (int i = 0; i < Count; i++)
            {
                clients.Add(greyd.NewClient());
            }

            health.Probe("with 500 connections open");
            for (int i = 0; i < Count; i++)
            {
                clients[i].Send(D(i).With("recipient", $"u{i}@example.org"));
            }

            health.Probe("during");
            for (int i = 0; i < Count; i++)
            {
                Step($"connection {i}", GT(), clients[i].ReadReply(TimeSpan.FromSeconds(20)));
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void A_client_that_connects_and_sends_nothing_does_not_affect_others()
    {
        using var greyd = GreydInstance.StartForVectors();
        var silent = Enumerable.Range(0, 20).Select(_ => greyd.Connect()).ToList();
        var health = new HealthyClient(greyd);
        health.Probe("with 20 silent connections");
        var halfway = greyd.Connect();
        halfway.Send("request=smtpd_access_policy\nclient_name=slow\n");
        health.Probe("with a half-sent request pending");
        Thread.Sleep(1000);
        health.Probe("a second later");
        var check = silent[0].TryReadReply(TimeSpan.FromMilliseconds(100));
        Assert.True(check.Kind == ReplyKind.Timeout, $"a silent connection must get nothing (and stay open within the idle timeout), got {check}");
        health.Finish();
    }

    [Fact]
    public void An_idle_connection_is_closed_after_the_idle_timeout()
    {
        using var greyd = GreydInstance.StartForVectors("--idle-timeout=1");
        var idle = greyd.Connect();
        var used = greyd.Connect();
        Step("a request before idling", GT(), used.Ask(D(0)));
        Assert.True(idle.WaitForEof(TimeSpan.FromSeconds(6)), "--idle-timeout=1: a silent connection must be closed within a few seconds");
        Step("new connections are served", GT(), greyd.AskOnce(D(1).With("recipient", "other@example.org")));
    }

    [Fact]
    public void Abrupt_disconnects_in_the_middle_of_requests_leave_the_daemon_serving()
    {
        using var greyd = GreydInstance.StartTcp(GreydInstance.VectorOptions);
        var health = new HealthyClient(greyd);
        health.Probe("before");
        byte[] request = D(0).With("recipient", "abrupt@example.org").ToBytes();
        for (int i = 0; i < 100; i++)
        {
            var client = greyd.NewClient();
            int cut = (i * 7) % request.Length;
            client.TrySend(request.AsSpan(0, cut).ToArray());
            if (i % 3 == 0)
            {
                client.Abort();
            }
            else if (i % 3 == 1)
            {
                client.Dispose();
            }
            else
            {
                // A whole request, then gone before the reply is read.
                client.TrySend(request.AsSpan(cut).ToArray());
                client.Abort();
            }

            if (i % 25 == 0)
            {
                health.Probe($"during, after {i} aborted connections");
            }
        }

        health.Probe("after");
        health.Finish();
    }

    [Fact]
    public void Connections_above_max_connections_are_closed_at_once_and_served_again_when_others_leave()
    {
        using var greyd = GreydInstance.StartForVectors("--max-connections=5");
        var open = Enumerable.Range(0, 5).Select(_ => greyd.Connect()).ToList();
        for (int i = 0; i < open.Count; i++)
        {
            Step($"connection {i} within the limit", GT(), open[i].Ask(D(i).With("recipient", $"c{i}@example.org")));
        }

        int mark = greyd.Process.StderrLineCount;
        using (var extra = greyd.NewClient())
        {
            extra.TrySend(D(0).ToBytes());
            var result = extra.TryReadReply(CloseWithin);
            Assert.True(result.Kind == ReplyKind.Eof && result.Text.Length == 0, $"the 6th connection must be closed at once, got {result}");
        }

        ExpectErrorLogged(greyd, mark, "the refused connection");
        open[0].Dispose();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            using var again = greyd.NewClient();
            again.TrySend(D(10).With("recipient", "again@example.org").ToBytes());
            var result = again.TryReadReply(CloseWithin);
            if (result.Kind == ReplyKind.Reply)
            {
                Step("a new connection after one closed", GT(), result.Text);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "a connection slot must become free after a client disconnects");
            Thread.Sleep(100);
        }

        Step("an old connection still works", GT(), open[1].Ask(D(20).With("recipient", "old@example.org")));
        Assert.Equal(0, greyd.Process.Stop());
    }

    private static void ExpectErrorLogged(GreydInstance greyd, int mark, string what) =>
        greyd.ExpectLog(
            what,
            l => l.Length > 3 && l[0] == '<' && l[1] is >= '0' and <= '4' && l[2] == '>',
            $"an error or warning line (<0>..<4>) about {what}",
            mark);

    /// <summary>A well-behaved client: one persistent connection plus a fresh connection per probe.</summary>
    private sealed class HealthyClient
    {
        private readonly GreydInstance _greyd;
        private readonly PolicyClient _persistent;
        private int _probes;

        public HealthyClient(GreydInstance greyd)
        {
            _greyd = greyd;
            _persistent = greyd.Connect();
        }

        public void Probe(string when)
        {
            int n = Interlocked.Increment(ref _probes);
            _greyd.Process.AssertAlive(when);
            var started = DateTime.UtcNow;
            Step($"healthy client {when} (persistent connection)", GT("health.example"), _persistent.Ask(D(n).With("recipient", $"p{n}@health.example"), TimeSpan.FromSeconds(5)));
            Step($"healthy client {when} (new connection)", GT("health.example"), _greyd.AskOnce(D(n).With("recipient", $"q{n}@health.example")));
            var took = DateTime.UtcNow - started;
            Assert.True(took < TimeSpan.FromSeconds(3), $"healthy client {when}: two requests took {took.TotalMilliseconds:0} ms");
        }

        /// <summary>The daemon is still alive, answers, and stops cleanly.</summary>
        public void Finish()
        {
            Probe("at the end");
            Assert.Equal(0, _greyd.Process.Stop());
            _greyd.Process.AssertNoCrashTrace();
        }
    }
}
