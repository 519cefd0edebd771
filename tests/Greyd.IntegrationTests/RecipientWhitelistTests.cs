using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// postgrey-behaviour.md §8.9 (V61-V69, M11), §2.2 and §3.3: the recipient whitelist. greyd deviates on purpose in
/// V67 (<c>@atdomain.test</c> whitelists every address at exactly that domain; postgrey's entry matches nothing).
/// </summary>
public sealed class RecipientWhitelistTests
{
    private const string Tail = ", client_name=mail.example.net, client_address=192.0.2.10, sender=alice@example.net";

    private static PolicyRequest To(string recipient) => D(0).With("recipient", recipient);

    [Fact]
    public void The_S17_recipient_whitelist_matches_users_addresses_domains_and_regexes_as_section_8_9_lists()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "example.com");
        string recipients = dir.WriteFile("wl_recipients", "postmaster@", "abuse@example.org", "example.net", "@atdomain.test", @"/^re\d+@rx\.test$/");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        greyd.ExpectLogLine("S17 load summary", $"<5>whitelists loaded: clients {clients} (1 entry); recipients {recipients} (5 entries)");
        var client = greyd.Connect();

        int mark = greyd.Process.StderrLineCount;
        Step("V61", Dunno, client.Ask(To("postmaster+x@any.example")));
        greyd.ExpectLogLine("V61", "<5>action=pass, reason=recipient whitelist" + Tail + ", recipient=postmaster+x@any.example", mark);
        Step("V61' (user@ at any domain)", Dunno, client.Ask(To("PostMaster@other.example")));
        Step("V61'' (an empty +extension is no extension)", GT("any.example"), client.Ask(To("postmaster+@any.example")));
        Step("V62", GT("any.example"), client.Ask(To("xpostmaster@any.example")));
        Step("V63", Dunno, client.Ask(To("ABUSE+foo@example.ORG")));
        Step("V63' (the exact address)", Dunno, client.Ask(To("abuse@example.org")));
        Step("V64", GT("sub.example.org"), client.Ask(To("abuse@sub.example.org")));
        Step("V64' (another user at that domain)", GT(), client.Ask(To("abusers@example.org")));
        Step("V65", Dunno, client.Ask(To("anyone@sub.example.net")));
        Step("V65' (the domain itself)", Dunno, client.Ask(To("anyone@EXAMPLE.net")));
        Step("V66", GT("notexample.net"), client.Ask(To("anyone@notexample.net")));
        Step("V67 (greyd: @domain whitelists that exact domain)", Dunno, client.Ask(To("anyone@atdomain.test")));
        Step("V67' (@domain: exact domain only)", GT("sub.atdomain.test"), client.Ask(To("anyone@sub.atdomain.test")));
        Step("V68 (regex, case-insensitive)", Dunno, client.Ask(To("RE12@rx.test")));
        Step("V68' (the regex is anchored by its author)", GT("rx.test"), client.Ask(To("xre12@rx.test")));

        mark = greyd.Process.StderrLineCount;
        Step("V69", Dunno, client.Ask(D(0).With("client_name", "mx.example.com").With("recipient", "postmaster@x.example")));
        greyd.ExpectLogLine(
            "V69 (the client is checked first)",
            "<5>action=pass, reason=client whitelist, client_name=mx.example.com, client_address=192.0.2.10, sender=alice@example.net, recipient=postmaster@x.example",
            mark);
        Assert.DoesNotContain(greyd.Process.StderrLinesFrom(mark), l => l.Contains("reason=recipient whitelist", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unanchored_recipient_regex_matches_the_raw_recipient_anywhere()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients");
        string recipients = dir.WriteFile("wl_recipients", "/-bounces[+@]/");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("match in the middle", Dunno, client.Ask(To("List-BOUNCES+x=y@lists.example")));
        Step("no match", GT("lists.example"), client.Ask(To("list-bouncesx@lists.example")));
    }

    [Fact]
    public void M11_a_line_with_blanks_is_reported_with_file_and_line_and_ignored()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients");
        string recipients = dir.WriteFile("wl_recipients", "postmaster@", "", "bad entry", "/re gex/", "abuse@");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        greyd.ExpectLogLine("M11 line 3", $"<4>{recipients} line 3: doesn't look like an address");
        greyd.ExpectLogLine("M11 line 4", $"<4>{recipients} line 4: doesn't look like an address");
        greyd.ExpectLogLine("M11 summary", $"<5>whitelists loaded: clients {clients} (0 entries); recipients {recipients} (2 entries)");
        var client = greyd.Connect();
        Step("M11: the entry before works", Dunno, client.Ask(To("postmaster@example.org")));
        Step("M11: the entry after works", Dunno, client.Ask(To("abuse@example.org")));
        Step("M11: 'bad entry' is no entry", GT("example.org"), client.Ask(To("bad@example.org")));
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l.StartsWith("<3>", StringComparison.Ordinal));
    }

    [Fact]
    public void A_whitelisted_recipient_stores_no_triplet()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients");
        string recipients = dir.WriteFile("wl_recipients", "bob@example.org");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("whitelisted at t=0", Dunno, client.Ask(D(0)));

        File.WriteAllText(recipients, "");
        int mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("reload", $"<5>whitelists loaded: clients {clients} (0 entries); recipients {recipients} (0 entries)", mark);
        Step("not whitelisted any more at t=400: new, not a retry", GT(), client.Ask(D(400)));
    }
}
