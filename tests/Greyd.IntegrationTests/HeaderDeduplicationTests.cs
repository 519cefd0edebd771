using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.6 (V32-V35): one X-Greylist header per message instance.</summary>
public sealed class HeaderDeduplicationTests
{
    [Fact]
    public void A_second_recipient_of_the_same_message_instance_passes_without_a_second_header()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var carol = D(0).With("recipient", "carol@example.org");
        Step("V32a", GT(), client.Ask(D(0).With("instance", "m1")));
        Step("V32b", GT(), client.Ask(carol.With("instance", "m1")));
        StepXG("V32", 300, client.Ask(D(300).With("instance", "m2")));
        int mark = greyd.Process.StderrLineCount;
        Step("V33", Dunno, client.Ask(carol.At(300).With("instance", "m2")));
        greyd.ExpectLogLine(
            "V33 (no delay=)",
            "<5>action=pass, reason=triplet found, client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=carol@example.org",
            mark);
    }

    [Fact]
    public void Without_an_instance_attribute_every_first_pass_gets_a_header()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        var carol = D(0).With("recipient", "carol@example.org");
        Step("V34a", GT(), client.Ask(D(0)));
        Step("V34b", GT(), client.Ask(carol));
        StepXG("V34", 300, client.Ask(D(300)));
        StepXG("V35", 300, client.Ask(carol.At(300)));
    }
}
