using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// The real thing: a private Postfix (Debian package postfix) whose smtpd asks greyd through check_policy_service,
/// swaks (Debian package swaks) as the sending MTA, and greyd's clock moved by libfaketime (Debian package faketime)
/// instead of waiting out the delay. First attempt: 450 from Postfix with greyd's text; two minutes later: accepted,
/// with greyd's X-Greylist header prepended to the message.
/// </summary>
public sealed class PostfixEndToEndTests
{
    private const string Sender = "sender1@example.org";
    private const string Recipient = "user@example.com";
    private const string GreydHost = "e2e.greyd.test";
    private static readonly TimeSpan SwaksTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Postfix_greylists_through_greyd_on_a_unix_socket_and_accepts_the_retry() => GreylistThenAccept(unixSocket: true);

    [Fact]
    public void Postfix_greylists_through_greyd_on_tcp_and_accepts_the_retry() => GreylistThenAccept(unixSocket: false);

    private static void GreylistThenAccept(bool unixSocket)
    {
        var total = Stopwatch.StartNew();
        ExternalTool.Require(ExternalTool.Swaks, "swaks");
        ExternalTool.Require(ExternalTool.Postfix, "postfix");
        using var dir = new TempDir();
        var clock = new FakeClock(dir);

        // smtpd runs as user postfix: the socket's directory must be searchable (PrivatePostfix makes dir 0755) and
        // the socket writable by it.
        string socket = dir.File("greyd.sock");
        int greydPort = FreePort.Pick();
        string listen = unixSocket ? "--unix=" + socket : $"--inet=127.0.0.1:{greydPort}";
        string policyService = unixSocket ? "unix:" + socket : $"inet:127.0.0.1:{greydPort}";
        using var greyd = GreydProcess.Start(
            [listen, "--socketmode=0666", "--dbdir=" + dir.Dir("db"), "--delay=60", "--hostname=" + GreydHost],
            clock.Environment);
        greyd.WaitReady();

        using var postfix = PrivatePostfix.Start(dir, policyService);
        var started = total.Elapsed;

        // 1. First attempt: greyd says greylist, Postfix turns DEFER_IF_PERMIT into a 450 at RCPT.
        var first = Swaks(postfix, quitAfterRcpt: true);
        string deferral = Expect(first, new Regex(@"^<\*\* +450 4\.2\.0 <user@example\.com>: Recipient address rejected: Greylisted by greyd, try again later$"),
            "a 450 reply with greyd's text to RCPT", postfix, greyd);
        greyd.WaitForLog(
            l => l == $"<5>action=greylist, reason=new, client_name=unknown, client_address=127.0.0.1, sender={Sender}, recipient={Recipient}",
            TimeSpan.FromSeconds(5), "greyd's 'action=greylist, reason=new' line for the SMTP session");
        postfix.WaitForMailLog(new Regex(@"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 450 4\.2\.0 <user@example\.com>: Recipient address rejected: Greylisted by greyd"),
            TimeSpan.FromSeconds(5), "NOQUEUE reject with 450");

        // 2. Two minutes later on greyd's clock (the delay is 60 s): the retry passes and the message is queued.
        clock.Set("+2m");
        int passFrom = greyd.StderrLineCount;
        var retry = Swaks(postfix, quitAfterRcpt: false);
        Expect(retry, new Regex(@"^<- +250 2\.1\.5 Ok$"), "250 to RCPT on the retry", postfix, greyd);
        Expect(retry, new Regex(@"^<- +250 2\.0\.0 Ok: queued as \w+$"), "250 queued after DATA", postfix, greyd);
        Assert.True(retry.ExitCode == 0, $"swaks failed on the retry.\n{retry.Describe()}");
        string pass = greyd.WaitForLog(l => l.Contains("action=pass, reason=triplet found, delay=", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), "greyd's 'action=pass, reason=triplet found, delay=' line", passFrom);
        var passLine = Regex.Match(pass,
            $@"^<5>(\w+: )?action=pass, reason=triplet found, delay=(\d+), client_name=unknown, client_address=127\.0\.0\.1, sender={Regex.Escape(Sender)}, recipient={Regex.Escape(Recipient)}$");
        Assert.True(passLine.Success, $"unexpected pass line: {pass}");
        Assert.InRange(long.Parse(passLine.Groups[2].Value, CultureInfo.InvariantCulture), 120, 180);

        // The X-Greylist header greyd asked for reached the message (header_checks WARN logs it), and the message was
        // delivered (discarded).
        postfix.WaitForMailLog(
            new Regex($@"warning: header X-Greylist: delayed \d+ seconds by greyd-[0-9.]+ at {Regex.Escape(GreydHost)}; .*x-greylist-seen"),
            TimeSpan.FromSeconds(10), "the X-Greylist header in the queued message");
        postfix.WaitForMailLog(new Regex(@"to=<user@example\.com>.*status=sent"), TimeSpan.FromSeconds(10), "the delivery (discard) of the message");

        // Every decision greyd logged is one of these two: Postfix asked exactly once per RCPT.
        var actions = greyd.StderrLines.Where(l => l.Contains("action=", StringComparison.Ordinal)).ToList();
        Assert.True(actions.Count == 2, "greyd logged other decisions than the two expected:\n" + string.Join("\n", actions));

        postfix.Stop();
        Assert.Equal(0, greyd.Stop());
        greyd.AssertNoCrashTrace();
        if (unixSocket)
        {
            Assert.False(File.Exists(socket), "greyd left its own --unix socket file behind after SIGTERM");
        }

        Console.WriteLine($"{(unixSocket ? "unix" : "inet")}: greyd+postfix up in {started.TotalMilliseconds:0} ms, total {total.ElapsedMilliseconds} ms; first reply: {deferral}");
    }

    private static ToolResult Swaks(PrivatePostfix postfix, bool quitAfterRcpt)
    {
        var args = new List<string>
        {
            "--server", $"127.0.0.1:{postfix.SmtpPort}", "--helo", "client.example.org", "--from", Sender, "--to", Recipient,
            "--timeout", "20",
        };
        if (quitAfterRcpt)
        {
            args.AddRange(["--quit-after", "RCPT"]);
        }

        return ExternalTool.Run(ExternalTool.Swaks, args, SwaksTimeout);
    }

    private static string Expect(ToolResult swaks, Regex line, string what, PrivatePostfix postfix, GreydProcess greyd)
    {
        string? found = swaks.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(line.IsMatch);
        if (found is null)
        {
            Assert.Fail($"Expected {what} (/{line}/) from Postfix.\n{swaks.Describe()}\n{postfix.DescribeMailLog()}\ngreyd:\n{greyd.Describe()}");
        }

        return found;
    }
}
