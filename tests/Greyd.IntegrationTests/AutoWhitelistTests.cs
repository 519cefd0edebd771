using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.10 (V70-V77): the client auto-whitelist.</summary>
public sealed class AutoWhitelistTests
{
    private const string ClientTail = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net";

    [Fact]
    public void A_client_is_auto_whitelisted_after_N_counted_passes_at_most_one_per_hour()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=2");
        var client = greyd.Connect();
        PolicyRequest To(string rcpt, long t) => D(t).With("recipient", rcpt);

        Step("V70a", GT(), client.Ask(D(0)));
        StepXG("V70b", 300, client.Ask(D(300)));
        Step("V70c", GT(), client.Ask(To("r2@example.org", 400)));
        StepXG("V70d (second pass within the hour is not counted)", 300, client.Ask(To("r2@example.org", 700)));
        Step("V70e", GT(), client.Ask(To("r3@example.org", 4000)));
        int mark = greyd.Process.StderrLineCount;
        StepXG("V70", 300, client.Ask(To("r3@example.org", 4300)));
        greyd.ExpectLog("V70", l => l.StartsWith("<4>", StringComparison.Ordinal) && l.EndsWith("whitelisted: mail.example.net[192.0.2.10]", StringComparison.Ordinal), "the <4> line 'whitelisted: mail.example.net[192.0.2.10]'", mark);

        mark = greyd.Process.StderrLineCount;
        Step("V71", Dunno, client.Ask(To("r4@example.org", 4301)));
        greyd.ExpectLogLine("V71", "<5>action=pass, reason=client AWL" + ClientTail + ", recipient=r4@example.org", mark);
        Step("V72", Dunno, client.Ask(To("r5@example.org", 7901)));
        Step("V73 (AWL is per IP)", GT(), client.Ask(To("r6@example.org", 7901).With("client_address", "192.0.2.11")));
    }

    [Fact]
    public void Without_the_option_the_auto_whitelist_is_on_with_a_threshold_of_five()
    {
        using var greyd = GreydInstance.StartForVectors();
        AssertThreshold(greyd, 5, "default");
    }

    [Fact]
    public void The_option_without_a_value_means_a_threshold_of_five()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients");
        AssertThreshold(greyd, 5, "V74");
    }

    [Fact]
    public void A_threshold_of_zero_turns_the_auto_whitelist_off()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=0");
        var client = greyd.Connect();
        long t = PassTriplets(client, 7, "V75");
        Step("V75 never auto-whitelisted", GT(), client.Ask(D(t + 1).With("recipient", "late@example.org")));
    }

    [Fact]
    public void With_a_threshold_of_one_the_first_pass_whitelists_the_client()
    {
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=1");
        var client = greyd.Connect();
        Step("V76a", GT(), client.Ask(D(0)));
        StepXG("V76b", 300, client.Ask(D(300)));
        int mark = greyd.Process.StderrLineCount;
        Step("V76", Dunno, client.Ask(D(301).With("recipient", "new@example.org")));
        greyd.ExpectLogLine("V76", "<5>action=pass, reason=client AWL" + ClientTail + ", recipient=new@example.org", mark);
    }

    [Fact]
    public void The_recipient_whitelist_is_checked_before_the_auto_whitelist()
    {
        using var dir = new TempDir();
        string recipients = dir.File("wl_recipients");
        File.WriteAllText(recipients, "postmaster@\n");
        using var greyd = GreydInstance.StartForVectors("--auto-whitelist-clients=1", "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("V76a", GT(), client.Ask(D(0)));
        StepXG("V76b", 300, client.Ask(D(300)));
        int mark = greyd.Process.StderrLineCount;
        Step("V77", Dunno, client.Ask(D(301).With("recipient", "postmaster@example.org")));
        greyd.ExpectLogLine("V77", "<5>action=pass, reason=recipient whitelist" + ClientTail + ", recipient=postmaster@example.org", mark);
    }

    /// <summary>Passes <paramref name="count"/> new triplets from 192.0.2.10, 4000 s apart; returns the last pass time.</summary>
    private static long PassTriplets(PolicyClient client, int count, string id)
    {
        long t = 0;
        for (int k = 1; k <= count; k++)
        {
            t = k * 4000L;
            var request = D(t).With("recipient", $"r{k}@example.org");
            Step($"{id} triplet {k} first sight", GT(), client.Ask(request));
            StepXG($"{id} triplet {k} passes", 300, client.Ask(request.At(t + 300)));
            t += 300;
        }

        return t;
    }

    private static void AssertThreshold(GreydInstance greyd, int threshold, string id)
    {
        var client = greyd.Connect();
        long t = PassTriplets(client, threshold - 1, id);
        Step($"{id}: {threshold - 1} counted passes are not enough", GT(), client.Ask(D(t + 1).With("recipient", "probe1@example.org")));
        var last = D(t + 4000).With("recipient", "last@example.org");
        Step($"{id} triplet {threshold} first sight", GT(), client.Ask(last));
        StepXG($"{id} triplet {threshold} passes", 300, client.Ask(last.At(t + 4300)));
        Step($"{id}: after {threshold} counted passes the client is whitelisted", Dunno, client.Ask(D(t + 4301).With("recipient", "probe2@example.org")));
    }
}
