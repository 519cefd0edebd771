using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// postgrey-behaviour.md §5.1 decision lines on stderr, and reliability.md §4: one event is one log line and no raw
/// control character from a request reaches the log.
/// </summary>
public sealed class LogFormatTests
{
    private const string LT = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org";

    [Fact]
    public void A_queue_id_prefixes_the_decision_line()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("queue_id", GT(), client.Ask(D(0).With("queue_id", "ABC123")));
        greyd.ExpectLogLine("queue_id", "<5>ABC123: action=greylist, reason=new" + LT);
        Step("empty queue_id", GT(), client.Ask(D(1).With("queue_id", "")));
        greyd.ExpectLogLine("empty queue_id", "<5>action=greylist, reason=early-retry (299s missing)" + LT);
    }

    [Fact]
    public void A_TAB_in_a_recipient_does_not_reach_the_log_raw()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("O19 TAB", GT("d.example"), client.Ask(D(0).With("recipient", "tab\tx@d.example")));
        string line = greyd.ExpectLog("O19", l => l.Contains("action=greylist", StringComparison.Ordinal) && l.Contains("recipient=tab", StringComparison.Ordinal), "the decision line for recipient tab<TAB>x@d.example");
        Assert.DoesNotContain('\t', line);
        Assert.True(line.EndsWith("x@d.example", StringComparison.Ordinal), $"the recipient must be logged in full (escaped), got '{GreydProcess.Visible(line)}'");
        Assert.DoesNotContain((byte)'\t', greyd.Process.RawStderr);
    }

    [Fact]
    public void A_CR_or_escape_sequence_in_a_value_does_not_start_a_new_log_line()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var request = D(0).With("client_name", "evil\rforged: action=pass, reason=x").With("sender", "s\u001b[2Jx@example.net");
        Step("CR in client_name", GT(), client.Ask(request));
        string line = greyd.ExpectLog("CR", l => l.Contains("action=greylist", StringComparison.Ordinal), "the decision line");
        Assert.Contains("forged", line, StringComparison.Ordinal);
        Assert.Contains("client_address=192.0.2.10", line, StringComparison.Ordinal);
        Assert.DoesNotContain((byte)'\r', greyd.Process.RawStderr);
        Assert.DoesNotContain((byte)0x1b, greyd.Process.RawStderr);
        Assert.Single(greyd.Process.StderrLines, l => l.Contains("reason=", StringComparison.Ordinal));
    }

    [Fact]
    public void Percent_signs_and_braces_in_values_are_logged_as_data_not_as_a_format()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("O19 %", GT(), client.Ask(D(0).With("sender", "a%b%s%n{0}{@c")));
        string line = greyd.ExpectLog("O19", l => l.Contains("action=greylist", StringComparison.Ordinal), "the decision line");
        Assert.Contains("sender=a%", line, StringComparison.Ordinal);
        Assert.Contains("{0}{@c", line, StringComparison.Ordinal);
        greyd.Process.AssertAlive("after a sender with format characters");
    }

    [Fact]
    public void Quiet_mode_writes_no_decision_lines()
    {
        using var greyd = GreydInstance.StartForVectors("-q");
        var client = greyd.Connect();
        Step("-q", GT(), client.Ask(D(0)));
        StepXG("-q", 300, client.Ask(D(300)));
        Step("-q", GT(), client.Ask(D(300).With("sender", "x@y")));
        Thread.Sleep(300);
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l.Contains("reason=", StringComparison.Ordinal));
    }
}
