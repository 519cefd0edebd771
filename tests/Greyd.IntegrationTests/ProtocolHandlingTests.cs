using System.Text;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.7 (V36-V44, M04, M06, M08, M09, M15) with greyd's deliberate fixes.</summary>
public sealed class ProtocolHandlingTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(3);

    [Fact]
    public void A_request_missing_a_required_attribute_gets_DUNNO_a_warning_and_stores_nothing()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();

        int mark = greyd.Process.StderrLineCount;
        Step("V36", Dunno, client.Ask(D(0).Without("sender")));
        greyd.ExpectLog("V36", l => l.StartsWith("<4>", StringComparison.Ordinal) && l.Contains("missing", StringComparison.Ordinal) && l.Contains("sender", StringComparison.Ordinal), "a <4> warning naming the missing sender", mark);
        Step("V42", Dunno, client.Ask(D(0).Without("client_name")));
        greyd.ExpectLog("V42", l => l.StartsWith("<4>", StringComparison.Ordinal) && l.Contains("client_name", StringComparison.Ordinal), "a <4> warning naming client_name", mark);
        Step("V43", Dunno, client.Ask(D(0).Without("recipient")));
        Step("missing client_address", Dunno, client.Ask(D(0).Without("client_address")));
        Assert.DoesNotContain(greyd.Process.StderrLines.Skip(mark), l => l.Contains("action=", StringComparison.Ordinal));

        // Nothing was stored: at t=300 the full request is new, not a pass.
        Step("V36 nothing stored", GT(), client.Ask(D(300)));
    }

    [Fact]
    public void An_unknown_request_type_is_logged_and_the_connection_closed_while_new_connections_are_served()
    {
        using var greyd = GreydInstance.StartForVectors();
        var bad = greyd.Connect();
        int mark = greyd.Process.StderrLineCount;
        bad.Send("request=junk\nclient_name=x\n\n");
        Assert.True(bad.WaitForEof(CloseWithin), "V37 (greyd): the connection must be closed at once after request=junk");
        greyd.ExpectLog("V37", l => l.Contains("junk", StringComparison.Ordinal), "a log line naming the request type 'junk'", mark);

        var noType = greyd.Connect();
        noType.Send(D(0).Without("request").ToBytes());
        Assert.True(noType.WaitForEof(CloseWithin), "a request without request= must be closed at once");

        var client = greyd.Connect();
        Step("V38", GT(), client.Ask(D(0)));
        client.Send(D(0).With("recipient", "crlf2@example.org").ToBytes("\r\n"));
        Step("V39 CRLF line ends", GT(), client.ReadReply());
        client.Send(Encoding.ASCII.GetBytes("this is garbage\n").Concat(D(0).ToBytes()).ToArray());
        Step("V40 garbage line ignored", GT(), client.ReadReply());
    }

    [Fact]
    public void A_value_is_everything_after_the_first_equals_sign_and_leading_equals_signs_are_skipped()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var request = D(0).With("sender", "a=b@x.example").Without("recipient").Append("", "recipient=r@b.example");
        int mark = greyd.Process.StderrLineCount;
        Step("V41", GT("b.example"), client.Ask(request));
        greyd.ExpectLogLine(
            "V41",
            "<5>action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, sender=a=b@x.example, recipient=r@b.example",
            mark);
    }

    [Fact]
    public void In_exim_mode_the_connection_is_closed_after_the_first_answer()
    {
        using var greyd = GreydInstance.StartForVectors("--exim");
        var client = greyd.Connect();
        Step("V44a", GT(), client.Ask(D(0)));
        client.TrySend(D(1).ToBytes());
        var second = client.TryReadReply(CloseWithin);
        Assert.True(second.Kind == ReplyKind.Eof && second.Text.Length == 0, $"V44: expected EOF after the first reply in --exim mode, got {second}");
        Step("V44 a new connection is served", GT(), greyd.AskOnce(D(2)));
    }

    [Fact]
    public void Several_requests_on_one_connection_are_answered_in_order()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("M04 #1", GT(), client.Ask(D(0)));
        Step("M04 #2", GT(), client.Ask(D(60)));
        StepXG("M04 #3", 300, client.Ask(D(300)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("1.2.3.256")]
    [InlineData("[192.0.2.10]")]
    [InlineData("192.0.2.10 ")]
    public void An_empty_or_unparseable_client_address_answers_DUNNO_and_the_daemon_keeps_serving(string address)
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step($"M06 client_address='{address}'", Dunno, client.Ask(D(0).With("client_address", address)));
        Step("M06 same connection afterwards", GT(), client.Ask(D(0)));
        Step("M06 new connection afterwards", GT(), greyd.AskOnce(D(1).With("recipient", "other@example.org")));
        greyd.Process.AssertAlive("after an unparseable client_address");
    }

    [Fact]
    public void An_unparseable_client_address_with_the_auto_whitelist_off_answers_DUNNO()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=0");
        var client = greyd.Connect();
        Step("M07", Dunno, client.Ask(D(0).With("client_address", "unknown")));
        Step("M07 afterwards", GT(), client.Ask(D(0)));
    }

    [Fact]
    public void Two_requests_in_one_write_are_both_answered_without_attributes_leaking_between_them()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var first = D(0).With("etrn_domain", "");
        var second = D(0).With("recipient", "carol@example.org");
        client.Send(first.ToBytes().Concat(second.ToBytes()).ToArray());
        Step("M08 #1", "action=DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html", client.ReadReply());
        Step("M08 #2 (no etrn_domain leak)", GT(), client.ReadReply());

        // instance is only in the third request: if it leaked into the fourth, the fourth would get DUNNO.
        var third = D(300).With("instance", "i1");
        var fourth = D(300).With("recipient", "carol@example.org");
        client.Send(third.ToBytes().Concat(fourth.ToBytes()).ToArray());
        StepXG("M08 #3", 300, client.ReadReply());
        StepXG("M08 #4 (instance i1 did not leak)", 300, client.ReadReply());
    }

    [Fact]
    public void A_request_split_across_writes_and_pipelined_behind_another_is_answered()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        byte[] first = D(0).ToBytes();
        byte[] second = D(0).With("recipient", "carol@example.org").ToBytes();
        int half = second.Length / 2;
        client.Send(first.Concat(second.Take(half)).ToArray());
        Step("M09 #1", GT(), client.ReadReply());
        var early = client.TryReadReply(TimeSpan.FromMilliseconds(300));
        Assert.True(early.Kind == ReplyKind.Timeout && early.Text.Length == 0, $"M09: nothing may be answered for half a request, got {early}");
        client.Send(second.Skip(half).ToArray());
        Step("M09 #2", GT("example.org"), client.ReadReply());

        // Byte by byte.
        foreach (byte b in D(300).ToBytes())
        {
            client.Send([b]);
        }

        StepXG("M09 byte by byte", 300, client.ReadReply());
    }

    [Fact]
    public void A_bare_CR_inside_a_value_does_not_wedge_the_connection()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("M15", GT(), client.Ask(D(0).With("client_name", "x\rjunk")));
        Step("M15 next request on the same connection", GT(), client.Ask(D(0).With("recipient", "carol@example.org")));
        StepXG("M15 later", 300, client.Ask(D(300)));
    }

    [Fact]
    public void Duplicate_attributes_take_the_last_value_and_unknown_attributes_are_ignored()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var request = D(0).Append("recipient", "carol@example.org").Append("helo_name", "x").Append("protocol_state", "RCPT").Append("size", "12345");
        Step("duplicates", GT(), client.Ask(request));
        StepXG("the last recipient was keyed", 300, client.Ask(D(300).With("recipient", "carol@example.org")));
        Step("the first recipient was not", GT(), client.Ask(D(300)));
    }

    [Fact]
    public void A_long_recipient_is_answered()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        string reply = client.Ask(D(0).With("recipient", new string('r', 510) + "@dd.example"));
        Assert.StartsWith("action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/", reply, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thousand_pipelined_requests_on_one_connection_are_all_answered_in_order_without_stalling()
    {
        using var greyd = GreydInstance.StartForVectors("--greylist-text=%r");
        var client = greyd.Connect();
        var burst = new List<byte>();
        for (int i = 0; i < 1000; i++)
        {
            burst.AddRange(D(i).With("recipient", $"r@d{i}.example").ToBytes());
        }

        var started = DateTime.UtcNow;
        var sender = Task.Run(() => client.Send(burst.ToArray()));
        for (int i = 0; i < 1000; i++)
        {
            Step($"pipelined reply {i}", $"action=DEFER_IF_PERMIT d{i}.example", client.ReadReply());
        }

        sender.Wait();
        var took = DateTime.UtcNow - started;
        // A stall guard, not a speed target (benchmarks measure speed): CI shares two cores with other work.
        Assert.True(took < TimeSpan.FromSeconds(15), $"1,000 pipelined requests took {took.TotalMilliseconds:0} ms");
    }
}
