using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// postgrey-behaviour.md §8.8 (V45-V60, M10), §3.1-3.2 and O11: the client whitelist. greyd deviates on purpose in
/// V54 (<c>10.20</c> is 10.20.0.0/16, not /24) and V60 (<c>*.wild.test</c> matches the names below wild.test).
/// </summary>
public sealed class ClientWhitelistTests
{
    /// <summary>Scenario S16's <c>wl_clients</c> file.</summary>
    public static readonly string[] S16Clients =
    [
        "# comment line",
        "example.com   # trailing comment",
        @"/^mx\d+\.regex\.test$/",
        "192.0.2.7",
        "198.51.100",
        "10.20",
        "203.0.113.64/26",
        "2001:db8:1::/48",
        "2001:DB8:2::5",
        "*.wild.test",
    ];

    private static PolicyRequest Client(string name, string address) => D(0).With("client_name", name).With("client_address", address);

    [Fact]
    public void The_S16_client_whitelist_matches_names_addresses_and_networks_as_section_8_8_lists()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", S16Clients);
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        greyd.ExpectLogLine(
            "S16 load summary",
            $"<5>whitelists loaded: clients {clients} (9 entries); recipients {recipients} (0 entries)");
        var client = greyd.Connect();

        int mark = greyd.Process.StderrLineCount;
        Step("V45", Dunno, client.Ask(Client("mx1.EXAMPLE.com", "203.0.113.1")));
        greyd.ExpectLogLine(
            "V45",
            "<5>action=pass, reason=client whitelist, client_name=mx1.EXAMPLE.com, client_address=203.0.113.1, sender=alice@example.net, recipient=bob@example.org",
            mark);
        Step("V46 (the domain itself)", Dunno, client.Ask(Client("example.com", "203.0.113.1")));
        Step("V47", GT(), client.Ask(Client("notexample.com", "203.0.113.1")));
        Step("V48", GT(), client.Ask(Client("example.com.evil.test", "203.0.113.1")));
        Step("V49 (regex, case-insensitive)", Dunno, client.Ask(Client("MX12.regex.test", "203.0.113.1")));
        Step("V49' (the regex is anchored by its author)", GT(), client.Ask(Client("mx12.regex.test.evil", "203.0.113.1")));
        Step("V50", Dunno, client.Ask(Client("unknown", "192.0.2.7")));
        Step("V51", GT(), client.Ask(Client("unknown", "192.0.2.8")));
        Step("V52 (3 octets = /24)", Dunno, client.Ask(Client("unknown", "198.51.100.200")));
        Step("V52' (3 octets = /24)", GT(), client.Ask(Client("unknown", "198.51.101.1")));
        Step("V53", Dunno, client.Ask(Client("unknown", "10.20.0.5")));
        Step("V54 (greyd: 10.20 = 10.20.0.0/16, postgrey's /24 is a bug)", Dunno, client.Ask(Client("unknown", "10.20.5.5")));
        Step("V54' (greyd: 10.20 = 10.20.0.0/16)", GT(), client.Ask(Client("unknown", "10.21.0.5")));
        Step("V55", Dunno, client.Ask(Client("unknown", "203.0.113.100")));
        Step("V55' (/26 lower edge)", Dunno, client.Ask(Client("unknown", "203.0.113.64")));
        Step("V56", GT(), client.Ask(Client("unknown", "203.0.113.130")));
        Step("V56' (just below the /26)", GT(), client.Ask(Client("unknown", "203.0.113.63")));
        Step("V57", Dunno, client.Ask(Client("unknown", "2001:db8:1:ffff::1")));
        Step("V58", Dunno, client.Ask(Client("unknown", "2001:DB8:2:0:0:0:0:5")));
        Step("V59", GT(), client.Ask(Client("unknown", "2001:db8:2::6")));
        Step("V60 (greyd: *.wild.test matches the names below wild.test)", Dunno, client.Ask(Client("a.wild.test", "203.0.113.1")));
        Step("V60' (deeper below wild.test)", Dunno, client.Ask(Client("x.a.WILD.test", "203.0.113.1")));
        Step("V60'' (*.wild.test does not match wild.test itself)", GT(), client.Ask(Client("wild.test", "203.0.113.1")));
        Step("V60''' (nor a name that merely ends in wild.test)", GT(), client.Ask(Client("notwild.test", "203.0.113.1")));

        var lines = greyd.Process.StderrLinesFrom(mark);
        Assert.Equal(13, lines.Count(l => l.StartsWith("<5>action=pass, reason=client whitelist, ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("<4>", StringComparison.Ordinal) || l.StartsWith("<3>", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unanchored_regex_matches_anywhere_in_the_client_name_and_both_checks_log_the_same_reason()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "/OUTBOUND/", "192.0.2.10");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();

        int mark = greyd.Process.StderrLineCount;
        Step("regex in the middle of the name", Dunno, client.Ask(Client("mta7.outbound.example", "203.0.113.1")));
        greyd.ExpectLogLine(
            "name match",
            "<5>action=pass, reason=client whitelist, client_name=mta7.outbound.example, client_address=203.0.113.1, sender=alice@example.net, recipient=bob@example.org",
            mark);
        Step("address match", Dunno, client.Ask(Client("unknown", "192.0.2.10")));
        greyd.ExpectLogLine(
            "address match",
            "<5>action=pass, reason=client whitelist, client_name=unknown, client_address=192.0.2.10, sender=alice@example.net, recipient=bob@example.org",
            mark);
        Step("no match", GT(), client.Ask(Client("mta7.inbound.example", "203.0.113.1")));
    }

    [Fact]
    public void A_regex_that_matches_the_empty_string_whitelists_an_empty_client_name_as_in_postgrey()
    {
        // postgrey runs every name regex on client_name, also when it is empty (checked against Debian's 1.37).
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "/^$/");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("/^$/ and client_name=''", Dunno, client.Ask(Client("", "203.0.113.1")));
        Step("/^$/ and client_name=unknown", GT(), client.Ask(Client("unknown", "203.0.113.2")));
    }

    [Fact]
    public void An_IPv4_mapped_IPv6_client_does_not_match_an_IPv4_entry_as_in_postgrey()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "192.0.2.7");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("::ffff:192.0.2.7", GT(), client.Ask(Client("unknown", "::ffff:192.0.2.7")));
        Step("192.0.2.7", Dunno, client.Ask(Client("unknown", "192.0.2.7")));
    }

    [Fact]
    public void A_whitelisted_client_stores_no_triplet()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "192.0.2.10");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("whitelisted at t=0", Dunno, client.Ask(D(0)));

        // Take the client off the list: had t=0 stored the triplet, t=400 would be its first pass (PREPEND).
        File.WriteAllText(clients, "# empty now\n");
        int mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("reload", $"<5>whitelists loaded: clients {clients} (0 entries); recipients {recipients} (0 entries)", mark);
        mark = greyd.Process.StderrLineCount;
        Step("not whitelisted any more at t=400: new, not a retry", GT(), client.Ask(D(400)));
        greyd.ExpectLog("reason=new", l => l.StartsWith("<5>action=greylist, reason=new, ", StringComparison.Ordinal), "a greylist line with reason=new", mark);
    }

    [Fact]
    public void M10_lines_with_blanks_are_reported_with_file_and_line_and_ignored()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "# M10", "two words here", "example.com", "/bad regex with space/", "192.0.2.99");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        greyd.ExpectLogLine("M10 line 2", $"<4>{clients} line 2: doesn't look like a hostname");
        greyd.ExpectLogLine("M10 line 4", $"<4>{clients} line 4: doesn't look like a hostname");
        greyd.ExpectLogLine("M10 summary", $"<5>whitelists loaded: clients {clients} (2 entries); recipients {recipients} (0 entries)");
        var client = greyd.Connect();
        Step("M10: the other entries work (name)", Dunno, client.Ask(Client("example.com", "203.0.113.1")));
        Step("M10: the other entries work (address)", Dunno, client.Ask(Client("unknown", "192.0.2.99")));
        Step("M10: 'two words here' is no entry", GT(), client.Ask(Client("two", "203.0.113.2")));
        Step("M10: '/bad regex with space/' is no entry", GT(), client.Ask(Client("bad", "203.0.113.3")));
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l.StartsWith("<3>", StringComparison.Ordinal));
    }

    [Fact]
    public void O11_a_missing_explicit_file_is_reported_but_a_missing_dot_local_file_is_not()
    {
        using var dir = new TempDir();
        string missing = dir.File("wl_clients");
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors(
            "--whitelist-clients=" + missing, "--whitelist-clients=" + missing + ".local", "--whitelist-recipients=" + recipients);
        greyd.ExpectLogLine("O11", $"<4>can't open {missing}: No such file or directory");
        greyd.ExpectLogLine(
            "O11 summary",
            $"<5>whitelists loaded: clients {missing} (missing), {missing}.local (missing); recipients {recipients} (0 entries)");
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l.Contains("can't open " + missing + ".local", StringComparison.Ordinal));
        Step("O11: greyd serves without the list", GT(), greyd.AskOnce(D(0)));
    }

    [Fact]
    public void Missing_default_whitelist_files_are_not_reported()
    {
        // Only meaningful where none of the default files exists (true in CI and in the dev container).
        string[] defaults =
        [
            "/etc/greyd/whitelist_clients", "/etc/postfix/postgrey_whitelist_clients", "/etc/greyd/whitelist_recipients",
            "/etc/postfix/postgrey_whitelist_recipients",
        ];
        if (defaults.Any(File.Exists))
        {
            return; // xunit 2 has no dynamic skip; a machine with a default list cannot show this
        }

        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "192.0.2.10");
        string recipients = dir.WriteFile("wl_recipients", "postmaster@");
        using (var neither = GreydInstance.StartForVectors())
        {
            AssertNoCantOpen(neither, "no whitelist option");
        }

        // Giving only one of the options leaves the other list on its defaults, which must stay just as quiet.
        using (var onlyClients = GreydInstance.StartForVectors("--whitelist-clients=" + clients))
        {
            Step("only --whitelist-clients: its file is used", Dunno, onlyClients.AskOnce(D(0)));
            AssertNoCantOpen(onlyClients, "only --whitelist-clients given: the recipient list keeps its default files");
        }

        using (var onlyRecipients = GreydInstance.StartForVectors("--whitelist-recipients=" + recipients))
        {
            Step("only --whitelist-recipients: its file is used", Dunno, onlyRecipients.AskOnce(D(0).With("recipient", "postmaster@example.org")));
            AssertNoCantOpen(onlyRecipients, "only --whitelist-recipients given: the client list keeps its default files");
        }
    }

    private static void AssertNoCantOpen(GreydInstance greyd, string situation)
    {
        var lines = greyd.Process.StderrLines.Where(l => l.Contains("can't open", StringComparison.Ordinal)).ToList();
        if (lines.Count > 0)
        {
            Assert.Fail($"{situation}: missing default files must be silent, but greyd logged:\n  {string.Join("\n  ", lines)}\n{greyd.Process.Describe()}");
        }
    }
}
