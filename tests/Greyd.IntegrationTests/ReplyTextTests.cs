using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.5 (V24-V31): reply text options and substitutions; greyd's own default texts.</summary>
public sealed class ReplyTextTests
{
    private static readonly string[] S09 =
    [
        "--allow-policy-test-time",
        "--delay=60",
        "--greylist-action=451",
        "--greylist-text=Wait %ss for %r (%s %r) 100%% %t",
        "--x-greylist-header=X-Test: %t %t %v %h %d %s %%",
        "--hostname=mx.test",
    ];

    [Fact]
    public void The_greylist_action_text_and_header_substitute_only_the_first_occurrence_of_each_placeholder()
    {
        using var greyd = GreydInstance.Start(S09);
        var client = greyd.Connect();
        var sub = D(0).With("recipient", "bob@sub.example.org");

        Step("V24", "action=451 Wait 60s for sub.example.org (%s %r) 100%% %t", client.Ask(sub));
        Step("V25", "action=451 4.2.0 Wait 50s for sub.example.org (%s %r) 100%% %t", client.Ask(sub.At(10).With("etrn_domain", "")));
        StepMatches(
            "V26",
            new Regex($"^action=PREPEND X-Test: 60 %t {VersionPattern} mx\\.test {DatePattern} %s %%$"),
            client.Ask(sub.At(60)));
        Step("V27", "action=451 Wait 60s for c.example (%s %r) 100%% %t", client.Ask(D(0).With("recipient", "a@b@c.example")));
        Step("V28", "action=451 Wait 60s for local-only (%s %r) 100%% %t", client.Ask(D(0).With("recipient", "local-only")));
    }

    [Fact]
    public void The_4_2_0_prefix_depends_on_etrn_domain_and_an_empty_recipient_gives_an_empty_domain()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V29", "action=DEFER_IF_PERMIT 4.2.0 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html", client.Ask(D(0).With("etrn_domain", "")));

        int mark = greyd.Process.StderrLineCount;
        Step("V30", "action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/.html", client.Ask(D(0).With("recipient", "")));
        greyd.ExpectLogLine(
            "V30 (no recipient= field)",
            "<5>action=greylist, reason=new, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net",
            mark);
    }

    [Fact]
    public void A_greylist_text_starting_with_a_digit_gets_no_4_2_0_prefix()
    {
        using var greyd = GreydInstance.Start("--allow-policy-test-time", "--greylist-text=4.7.1 Try later");
        var client = greyd.Connect();
        Step("V31", "action=DEFER_IF_PERMIT 4.7.1 Try later", client.Ask(D(0).With("etrn_domain", "x")));
    }

    [Fact]
    public void Without_text_options_greyd_uses_its_own_default_text_and_header()
    {
        using var greyd = GreydInstance.Start("--allow-policy-test-time", "--hostname=test.host");
        var client = greyd.Connect();
        Step("default text", "action=DEFER_IF_PERMIT Greylisted by greyd, try again later", client.Ask(D(0)));
        Step("default text with etrn_domain", "action=DEFER_IF_PERMIT 4.2.0 Greylisted by greyd, try again later", client.Ask(D(10).With("etrn_domain", "")));
        StepXG("default header", 300, client.Ask(D(300)));
    }
}
