using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.4: the retry window (V18-V21), --delay (V22, V23).</summary>
public sealed class TimingOptionTests
{
    private const string LT = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org";

    [Fact]
    public void A_first_retry_after_the_two_day_window_starts_over_as_new()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V18a", GT(), client.Ask(D(0)));
        int mark = greyd.Process.StderrLineCount;
        Step("V18", GT(), client.Ask(D(172801)));
        greyd.ExpectLogLine("V18", "<5>action=greylist, reason=new" + LT, mark);
        Step("V18b", GT(), client.Ask(D(173100)));
        greyd.ExpectLogLine("V18b", "<5>action=greylist, reason=early-retry (1s missing)" + LT, mark);
        StepXG("V18c", 300, client.Ask(D(173101)));
    }

    [Fact]
    public void A_retry_exactly_at_the_end_of_the_window_still_passes()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V19a", GT(), client.Ask(D(0)));
        StepXG("V19", 172800, client.Ask(D(172800)));
    }

    [Fact]
    public void A_retry_window_in_hours_is_honoured()
    {
        using var greyd = GreydInstance.StartForVectors("--retry-window=6h");
        var client = greyd.Connect();
        Step("V20a", GT(), client.Ask(D(0)));
        int mark = greyd.Process.StderrLineCount;
        Step("V20", GT(), client.Ask(D(21601)));
        greyd.ExpectLogLine("V20", "<5>action=greylist, reason=new" + LT, mark);
    }

    [Fact]
    public void A_retry_window_with_an_upper_case_H_is_hours_too()
    {
        using var greyd = GreydInstance.StartForVectors("--retry-window=6H");
        var client = greyd.Connect();
        Step("V20c", GT(), client.Ask(D(0)));
        StepMatches("V20d", new Regex("^action=PREPEND X-Greylist: delayed 21600 seconds "), client.Ask(D(21600)));
    }

    [Fact]
    public void A_retry_window_of_a_plain_number_is_days()
    {
        using var greyd = GreydInstance.StartForVectors("--retry-window=1");
        var client = greyd.Connect();
        Step("V21a", GT(), client.Ask(D(0)));
        int mark = greyd.Process.StderrLineCount;
        Step("V21", GT(), client.Ask(D(86401)));
        greyd.ExpectLogLine("V21", "<5>action=greylist, reason=new" + LT, mark);
        StepXG("V21 then passes after the delay", 300, client.Ask(D(86701)));
    }

    [Fact]
    public void The_delay_option_sets_the_greylisting_period()
    {
        using var greyd = GreydInstance.StartForVectors("--delay=60");
        var client = greyd.Connect();
        Step("V22a", GT(), client.Ask(D(0)));
        Step("V22 at 59 s", GT(), client.Ask(D(59)));
        StepXG("V22", 60, client.Ask(D(60)));
    }

    [Fact]
    public void A_delay_of_zero_means_the_default_of_300_seconds()
    {
        using var greyd = GreydInstance.StartForVectors("--delay=0");
        var client = greyd.Connect();
        Step("V23a", GT(), client.Ask(D(0)));
        int mark = greyd.Process.StderrLineCount;
        Step("V23", GT(), client.Ask(D(60)));
        greyd.ExpectLogLine("V23", "<5>action=greylist, reason=early-retry (240s missing)" + LT, mark);
    }
}
