using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.2 (S01): V01-V11 and greyd's own V12 (max-age checked at lookup).</summary>
public sealed class LifecycleVectorTests
{
    private const string LT = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org";

    [Fact]
    public void A_new_triplet_is_greylisted_counted_down_and_passed_with_one_header_after_the_delay()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();

        Step("V01", GT(), client.Ask(D(0)));
        greyd.ExpectLogLine("V01", "<5>action=greylist, reason=new" + LT);

        Step("V02", GT(), client.Ask(D(60)));
        greyd.ExpectLogLine("V02", "<5>action=greylist, reason=early-retry (240s missing)" + LT);

        Step("V03", GT(), client.Ask(D(299)));
        greyd.ExpectLogLine("V03", "<5>action=greylist, reason=early-retry (1s missing)" + LT);

        StepXG("V04", 300, client.Ask(D(300).With("instance", "A1")));
        greyd.ExpectLogLine("V04", "<5>action=pass, reason=triplet found, delay=300" + LT);

        Step("V05", Dunno, client.Ask(D(301).With("instance", "A2")));
        greyd.ExpectLogLine("V05", "<5>action=pass, reason=triplet found" + LT);
    }

    [Fact]
    public void After_the_pass_the_key_is_the_subnet_the_normalised_sender_and_the_raw_lower_cased_recipient()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V01", GT(), client.Ask(D(0)));
        StepXG("V04", 300, client.Ask(D(300).With("instance", "A1")));
        Step("V05", Dunno, client.Ask(D(301).With("instance", "A2")));

        Step("V06 same /24", Dunno, client.Ask(D(400).With("client_address", "192.0.2.99")));
        Step("V07 other /24", GT(), client.Ask(D(400).With("client_address", "198.51.100.10")));
        Step("V08 other recipient", GT(), client.Ask(D(400).With("recipient", "carol@example.org")));
        Step("V09 sender +ext and case", Dunno, client.Ask(D(400).With("sender", "Alice+news@EXAMPLE.net")));
        Step("V10 recipient case", Dunno, client.Ask(D(400).With("recipient", "BOB@Example.ORG")));
        Step("V11 recipient +ext kept", GT(), client.Ask(D(400).With("recipient", "bob+x@example.org")));
    }

    [Fact]
    public void A_passed_triplet_unseen_for_longer_than_max_age_counts_as_absent_and_is_greylisted_as_new()
    {
        // greyd deviation: postgrey's V12 answers DUNNO at 40 days (max-age only enforced by the nightly cleanup).
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V01", GT(), client.Ask(D(0)));
        StepXG("V04", 300, client.Ask(D(300)));
        Step("V05", Dunno, client.Ask(D(400)));
        int mark = greyd.Process.StderrLineCount;

        Step("V12 (greyd: 40 days later)", GT(), client.Ask(D(3456000)));
        greyd.ExpectLogLine("V12", "<5>action=greylist, reason=new" + LT, mark);
        StepXG("V12 then passes again after the delay", 300, client.Ask(D(3456300)));
    }

    [Fact]
    public void A_passed_triplet_seen_again_within_max_age_still_passes()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V01", GT(), client.Ask(D(0)));
        StepXG("V04", 300, client.Ask(D(300)));
        Step("34 days after the last sighting", Dunno, client.Ask(D(300 + (34 * 86400))));
        Step("another 34 days later", Dunno, client.Ask(D(300 + (68 * 86400))));
    }

    [Fact]
    public void A_passed_triplet_stays_passed_when_the_clock_steps_back()
    {
        // greyd deviation: postgrey's V89 re-greylists a passed triplet whose first-seen lies in the future.
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V01", GT(), client.Ask(D(1000)));
        StepXG("pass", 300, client.Ask(D(1300)));
        Step("clock stepped back 1000 s", Dunno, client.Ask(D(300)));
        Step("clock back to normal", Dunno, client.Ask(D(1400)));
    }
}
