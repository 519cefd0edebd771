using System.Text;

namespace Greyd.FuzzTests;

/// <summary>
/// Named regressions: each input runs through its fuzz target with every invariant checked. A finding of either
/// campaign goes here as a named test (its bytes, and the target seed the report gives). No campaign has found a
/// crash so far but the first below; the others pin the edges the campaigns are meant to reach.
/// </summary>
public class RegressionTests
{
    private static void Protocol(byte[] input)
    {
        var target = new ProtocolTarget();
        for (int seed = 0; seed < 20; seed++)
        {
            target.Run(input, new Random(seed));
        }
    }

    private static void Whitelist(string text)
    {
        for (int seed = 0; seed < 8; seed++)
        {
            WhitelistTarget.Run(Encoding.UTF8.GetBytes(text), new Random(seed));
        }
    }

    private static byte[] Request(string recipientPadding, string newline = "\n") =>
        Encoding.ASCII.GetBytes(string.Join(newline, "request=smtpd_access_policy", "client_address=192.0.2.1", "client_name=x", "sender=a@b", "recipient=c@d", "x=" + recipientPadding, "", ""));

    // whitelist-crash-09C7DC15D7641F1B, target seed 502855122 (in-process campaign): "/a{2147483647}\//" made both
    // regex engines throw OutOfMemoryException out of WhitelistParser.ParseClients. Fixed in WhitelistRegex.TryCreate.
    [Fact]
    public void Whitelist_crash_09C7DC15_huge_counted_repeat_in_a_regex_line()
    {
        byte[] input = Convert.FromHexString("412E302F380A2F756E636C6F73656428" + "2F0A2F617B323134373438333634377D" + "5C2F2F0A312814D33A");
        WhitelistTarget.Run(input, new Random(502855122));
        Whitelist("/a{2147483647}b/\n/x{2147483647}y{2147483647}/\n");
    }

    [Fact]
    public void A_request_of_exactly_the_size_limit_is_read_and_one_byte_more_is_refused()
    {
        int overhead = Request(string.Empty).Length;
        Protocol(Request(new string('p', 64 * 1024 - overhead)));
        Protocol(Request(new string('p', 64 * 1024 - overhead + 1)));
    }

    [Fact]
    public void A_CR_LF_pair_cut_between_segments_and_a_bare_CR_line() =>
        Protocol(Encoding.ASCII.GetBytes("request=smtpd_access_policy\r\nclient_address=192.0.2.1\r\n\r\r\nclient_name=\r\nsender=\r\nrecipient=\r\n\r\n"));

    [Fact]
    public void A_NUL_in_an_unfinished_line_waits_and_a_NUL_in_a_finished_line_closes()
    {
        Protocol(Encoding.ASCII.GetBytes("request=smtpd_access_policy\nsender=a\0"));
        Protocol(Encoding.ASCII.GetBytes("request=smtpd_access_policy\nsender=a\0\n\n"));
    }

    [Fact]
    public void Extreme_policy_test_times_answer_without_an_internal_error() =>
        Protocol(Encoding.ASCII.GetBytes(
            "request=smtpd_access_policy\nclient_address=192.0.2.1\nclient_name=x\nsender=a@b\nrecipient=c@d\npolicy_test_time=-9223372036854775808\n\n" +
            "request=smtpd_access_policy\nclient_address=192.0.2.1\nclient_name=x\nsender=a@b\nrecipient=c@d\npolicy_test_time=9223372036854775807\n\n" +
            "request=smtpd_access_policy\nclient_address=192.0.2.1\nclient_name=x\nsender=a@b\nrecipient=c@d\npolicy_test_time=0\n\n"));

    [Fact]
    public void Huge_counted_repeats_and_unsupported_constructs_in_whitelist_regexes() =>
        Whitelist("/a{2147483647}/\n/(a{1000}){1000}/\n/(?<=x)y/\n/(a)\\1/\n/[/\n/\\p{Foo}/\n/(?i)ü+/\n");

    [Fact]
    public void Whitelist_lines_split_by_every_kind_of_line_break() =>
        Whitelist("a.example\rb.example\r\nc.example\fd.example\u0085e.example\u2028f.example\u2029192.0.2.0/24\v10.0");
}
