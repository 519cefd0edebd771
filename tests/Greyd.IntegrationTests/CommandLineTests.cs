using System.Globalization;
using System.Text.RegularExpressions;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-compatible command line, exit codes, the lock, socket mode, pidfile and TCP listening.</summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(15);

    [Fact]
    public void Version_prints_greyd_and_its_version_and_exits_0()
    {
        using var greyd = GreydProcess.Start(["--version"]);
        Assert.Equal(0, greyd.WaitForExit(ExitWithin));
        var lines = greyd.StdoutLines.Where(l => l.Length > 0).ToList();
        Assert.True(
            lines.Count == 2 && Regex.IsMatch(lines[0], @"^greyd [0-9]+(\.[0-9]+)+\S*$") && lines[1].Contains("glibc 2.34", StringComparison.Ordinal),
            $"--version must print 'greyd <version>' and the glibc it needs on stdout.\n{greyd.Describe()}");
    }

    [Fact]
    public void An_unknown_option_prints_one_line_on_stderr_and_exits_non_zero()
    {
        using var greyd = GreydProcess.Start(["--unix=/tmp/greyd-unused.sock", "--no-such-option"]);
        int code = greyd.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"exit code {code}\n{greyd.Describe()}");
        var lines = greyd.StderrLines.Where(l => l.Length > 0).ToList();
        Assert.True(lines.Count == 1 && lines[0].Contains("no-such-option", StringComparison.Ordinal), $"expected one stderr line naming the option.\n{greyd.Describe()}");
    }

    [Theory]
    [InlineData("--retry-window=2d", "retry-window")]
    [InlineData("--retry-window=h", "retry-window")]
    [InlineData("--delay=5m", "delay")]
    [InlineData("--ipv4cidr=33", "ipv4cidr")]
    [InlineData("--ipv6cidr=129", "ipv6cidr")]
    [InlineData("--socketmode=rw", "socketmode")]
    public void An_invalid_option_value_is_rejected(string option, string named)
    {
        using var dir = new TempDir();
        using var greyd = GreydProcess.Start(["--unix=" + dir.File("s.sock"), "--dbdir=" + dir.Dir("db"), option]);
        int code = greyd.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"{option}: exit code {code}\n{greyd.Describe()}");
        Assert.True(greyd.StderrLines.Any(l => l.Contains(named, StringComparison.Ordinal)), $"{option}: the error must name {named}.\n{greyd.Describe()}");
        Assert.False(File.Exists(dir.File("s.sock")), $"{option}: no socket may be left behind");
    }

    [Fact]
    public void Without_unix_or_inet_greyd_refuses_to_start()
    {
        using var dir = new TempDir();
        using var greyd = GreydProcess.Start(["--dbdir=" + dir.Dir("db")]);
        int code = greyd.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"exit code {code}\n{greyd.Describe()}");
        Assert.True(greyd.StderrLines.Any(l => l.Contains("--unix", StringComparison.Ordinal) || l.Contains("--inet", StringComparison.Ordinal)), $"the error must mention --unix/--inet.\n{greyd.Describe()}");
    }

    [Fact]
    public void A_second_greyd_on_the_same_dbdir_and_socket_fails_and_the_first_keeps_answering()
    {
        using var first = GreydInstance.StartForVectors();
        var before = first.Connect();
        Step("first instance", GT(), before.Ask(D(0)));

        using var second = GreydProcess.Start(first.Arguments);
        int code = second.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"the second instance must exit non-zero, got {code}.\n{second.Describe()}");
        Assert.True(second.StderrLines.Any(l => l.Trim().Length > 0), $"the second instance must say why it failed.\n{second.Describe()}");
        Assert.True(
            second.StderrLines.Any(l => Regex.IsMatch(l, "(?i)lock|already|in use|running")),
            $"the error should say that the dbdir or socket is in use.\n{second.Describe()}");

        Assert.True(File.Exists(first.SocketPath), "the first instance's socket file must still exist");
        Step("first instance, existing connection", GT(), before.Ask(D(1)));
        StepXG("first instance, new connection", 300, first.AskOnce(D(300)));
        first.Process.AssertAlive("after the second instance failed");
        Assert.Equal(0, first.Process.Stop());
    }

    [Fact]
    public void A_second_greyd_on_the_same_dbdir_with_another_socket_fails()
    {
        using var first = GreydInstance.StartForVectors();
        string otherSocket = first.Dir.File("other.sock");
        using var second = GreydProcess.Start(["--unix=" + otherSocket, "--dbdir=" + first.DbDir, .. GreydInstance.VectorOptions]);
        int code = second.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"the second instance must exit non-zero, got {code}.\n{second.Describe()}");
        Step("first instance", GT(), first.AskOnce(D(0)));
    }

    [Fact]
    public void Socketmode_sets_the_unix_socket_permissions()
    {
        using var greyd = GreydInstance.StartForVectors("--socketmode=0660");
        var mode = File.GetUnixFileMode(greyd.SocketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, mode);
    }

    [Fact]
    public void SIGTERM_exits_0_and_removes_the_socket_and_the_pidfile()
    {
        using var dir = new TempDir();
        string pidfile = dir.File("greyd.pid");
        using var greyd = GreydInstance.StartForVectors("--pidfile=" + pidfile);
        Assert.True(File.Exists(pidfile), "--pidfile must be written by the time greyd is ready");
        Assert.Equal(greyd.Process.Pid.ToString(CultureInfo.InvariantCulture), File.ReadAllText(pidfile).Trim());
        Step("serving", GT(), greyd.AskOnce(D(0)));

        Assert.Equal(0, greyd.Process.Stop());
        Assert.False(File.Exists(greyd.SocketPath), "SIGTERM must remove the unix socket");
        Assert.False(File.Exists(pidfile), "SIGTERM must remove the pidfile");
    }

    [Fact]
    public void SIGTERM_with_an_open_idle_connection_still_exits_promptly()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("serving", GT(), client.Ask(D(0)));
        client.Send("request=smtpd_access_policy\n");
        Assert.Equal(0, greyd.Process.Stop(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Inet_with_a_host_listens_on_that_TCP_address()
    {
        using var greyd = GreydInstance.StartTcp(GreydInstance.VectorOptions);
        var client = greyd.Connect();
        Step("TCP", GT(), client.Ask(D(0)));
        StepXG("TCP", 300, client.Ask(D(300)));
        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void Inet_with_only_a_port_listens_on_localhost()
    {
        using var dir = new TempDir();
        int port = FreePort.Pick();
        using var greyd = GreydProcess.Start(["--inet=" + port.ToString(CultureInfo.InvariantCulture), "--dbdir=" + dir.Dir("db"), .. GreydInstance.VectorOptions]);
        greyd.WaitReady();
        using var client = PolicyClient.ConnectTcp(port, "127.0.0.1");
        Step("--inet=PORT on 127.0.0.1", GT(), client.Ask(D(0)));
        Assert.Equal(0, greyd.Stop());
    }

    [Fact]
    public void A_TCP_port_already_in_use_is_a_clear_start_up_error()
    {
        using var first = GreydInstance.StartTcp(GreydInstance.VectorOptions);
        using var dir = new TempDir();
        using var second = GreydProcess.Start([$"--inet=127.0.0.1:{first.TcpPort}", "--dbdir=" + dir.Dir("db")]);
        int code = second.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"binding a used port must fail, got exit code {code}.\n{second.Describe()}");
        Step("the first still answers", GT(), first.AskOnce(D(0)));
    }

    [Fact]
    public void Zero_or_empty_option_values_mean_the_default_as_in_postgrey()
    {
        using var greyd = GreydInstance.Start(
            "--allow-policy-test-time", "--hostname=test.host", "--greylist-text=", "--greylist-action=", "--ipv4cidr=0", "--max-age=0", "--delay=0");
        var client = greyd.Connect();
        Step("empty text and action", "action=DEFER_IF_PERMIT Greylisted by greyd, try again later", client.Ask(D(0)));
        StepXG("--ipv4cidr=0 is /24 and --delay=0 is 300", 300, client.Ask(D(300).With("client_address", "192.0.2.99")));
        Step("--max-age=0 is 35 days", Dunno, client.Ask(D(300 + (34 * 86400))));
    }

    [Fact]
    public void A_unix_socket_in_a_missing_directory_is_a_clear_start_up_error()
    {
        using var dir = new TempDir();
        using var greyd = GreydProcess.Start(["--unix=" + dir.File("missing/greyd.sock"), "--dbdir=" + dir.Dir("db")]);
        int code = greyd.WaitForExit(ExitWithin);
        Assert.True(code != 0, $"exit code {code}\n{greyd.Describe()}");
        Assert.True(greyd.StderrLines.Any(l => l.Contains("missing", StringComparison.Ordinal)), $"the error must name the socket path.\n{greyd.Describe()}");
        greyd.AssertNoCrashTrace();
    }
}
