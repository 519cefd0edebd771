using System.Net.Sockets;
using System.Text;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// The admin socket's guard and its behaviour under bad input: only root, greyd's user and the admin group get in;
/// junk gets an error and never disturbs the policy service; the commands say clearly when greyd is not there.
/// </summary>
public sealed class AdminSocketTests : IDisposable
{
    private const string SetPriv = "/usr/bin/setpriv";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ToolResult RunAsNobody(params string[] args)
    {
        ExternalTool.Require(SetPriv, "util-linux");
        return ExternalTool.Run(SetPriv, ["--reuid=nobody", "--regid=nogroup", "--clear-groups", GreydBinary.Path, .. args], TimeSpan.FromSeconds(30));
    }

    private string OpenDirectory()
    {
        // The test's temp dir is private; the socket goes where another user could reach it, as /run/greyd is.
        string path = _dir.Dir("run");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
        return path;
    }

    [Fact]
    public void SocketIsForRootAndTheAdminGroupOnly()
    {
        string admin = Path.Combine(OpenDirectory(), "admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin);
        Assert.Equal((UnixFileMode)Convert.ToInt32("660", 8), File.GetUnixFileMode(admin));

        var refused = RunAsNobody("stats", "--admin-socket=" + admin);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("permission denied on " + admin, refused.Stderr);

        // Even with the mode loosened, greyd checks who is calling.
        File.SetUnixFileMode(admin, (UnixFileMode)Convert.ToInt32("666", 8));
        var checkedByGreyd = RunAsNobody("stats", "--admin-socket=" + admin);
        Assert.Equal(1, checkedByGreyd.ExitCode);
        Assert.Contains("permission denied: run as root or as a member of greyd's admin group", checkedByGreyd.Stderr);
        greyd.ExpectLog("refusal logged", l => l.Contains("admin socket: refused uid 65534", StringComparison.Ordinal), "the refusal");

        Assert.Equal(0, new AdminCli(admin).Run("stats").ExitCode);
    }

    [Fact]
    public void MembersOfTheAdminGroupGetIn()
    {
        string admin = Path.Combine(OpenDirectory(), "admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin, "--admin-group=nogroup");
        var (_, nogroup) = ExternalTool.Account("nobody", "base-passwd");
        Assert.Equal(nogroup.ToString(System.Globalization.CultureInfo.InvariantCulture), ExternalTool.RunChecked("/usr/bin/stat", ["-c", "%g", admin], TimeSpan.FromSeconds(10), "stat").Stdout.Trim());
        var result = RunAsNobody("stats", "--admin-socket=" + admin);
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("triplets:", result.Stdout);
    }

    [Fact]
    public void CommandsSayWhenGreydIsNotRunning()
    {
        var cli = new AdminCli(_dir.File("nothing.sock"));
        var result = cli.Run("stats");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("greyd is not running, or its admin socket is not " + cli.SocketPath, result.Stderr);

        File.WriteAllText(cli.SocketPath, string.Empty);
        Assert.Contains("greyd is not running", cli.Run("list").Stderr);
    }

    [Fact]
    public void UsageErrorsExitWithTwoAndShowTheUsage()
    {
        var cli = new AdminCli(_dir.File("admin.sock"));
        var unknown = ExternalTool.Run(GreydBinary.Path, ["lsit"], TimeSpan.FromSeconds(10));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown command 'lsit'", unknown.Stderr);

        var typo = cli.Run("list", "--sendr=a@b");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("unknown option: --sendr", typo.Stderr);
        Assert.Contains("Usage: greyd list", typo.Stderr);

        var missing = cli.Run("explain", "--sender=a@b");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--client-address is required", missing.Stderr);

        var help = ExternalTool.Run(GreydBinary.Path, ["whitelist", "--help"], TimeSpan.FromSeconds(10));
        Assert.Equal(0, help.ExitCode);
        Assert.StartsWith("Usage: greyd whitelist add|remove", help.Stdout);
        Assert.Contains("greyd list|explain|whitelist|delete|stats", ExternalTool.Run(GreydBinary.Path, ["--help"], TimeSpan.FromSeconds(10)).Stdout);
    }

    [Fact]
    public void JunkOnTheAdminSocketGetsAnErrorAndMailGoesOn()
    {
        string admin = _dir.File("admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin);
        using (var socket = Connect(admin))
        {
            Assert.Equal("{\"ok\":false,\"error\":\"the request is not JSON\"}", Exchange(socket, "hello\n"));
            Assert.Equal("{\"ok\":false,\"error\":\"the request has no \\u0022command\\u0022\"}", Exchange(socket, "[1,2]\n"));
            Assert.Equal("{\"ok\":false,\"error\":\"unknown command: reboot\"}", Exchange(socket, "{\"command\":\"reboot\"}\n"));
            Assert.Contains("\"error\":\"\\u0022limit\\u0022 must be an integer\"", Exchange(socket, "{\"command\":\"list\",\"limit\":\"all\"}\n"));
            Assert.Contains("\"ok\":true", Exchange(socket, "{\"command\":\"stats\"}\n"));
        }

        // A request without end: greyd drops the connection at its size limit and serves everyone else meanwhile.
        using (var flood = Connect(admin))
        {
            var chunk = Encoding.ASCII.GetBytes(new string('x', 1 << 20));
            try
            {
                for (int i = 0; i < 12; i++)
                {
                    flood.Send(chunk);
                }
            }
            catch (SocketException)
            {
                // Closed by greyd: what the test wants.
            }

            Assert.StartsWith("action=DEFER_IF_PERMIT", greyd.AskOnce(PolicyRequest.DWithoutTime()));
            Assert.Equal(0, new AdminCli(admin).Run("stats").ExitCode);
        }

        Assert.False(greyd.Process.HasExited);
    }

    [Fact]
    public void AnUnusableAdminSocketDoesNotStopMail()
    {
        string blocked = _dir.File("file");
        File.WriteAllText(blocked, string.Empty);
        using var greyd = GreydInstance.Start("--admin-socket=" + Path.Combine(blocked, "admin.sock"));
        greyd.ExpectLog("warning", l => l.Contains("admin socket off", StringComparison.Ordinal), "the admin socket warning");
        Assert.StartsWith("action=DEFER_IF_PERMIT", greyd.AskOnce(PolicyRequest.DWithoutTime()));
    }

    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 10000;
        return socket;
    }

    private static string Exchange(Socket socket, string line)
    {
        socket.Send(Encoding.UTF8.GetBytes(line));
        var answer = new List<byte>();
        var one = new byte[1];
        while (socket.Receive(one) == 1 && one[0] != (byte)'\n')
        {
            answer.Add(one[0]);
        }

        return Encoding.UTF8.GetString([.. answer]);
    }
}
