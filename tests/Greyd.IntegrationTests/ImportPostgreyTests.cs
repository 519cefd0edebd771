using System.Globalization;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// The cut-over from postgrey: the real postgrey (Debian's) greylists and passes mail, is stopped, and greyd imports
/// its databases; mail postgrey had seen then passes greyd without a new delay, and its AWL clients stay whitelisted.
/// </summary>
public sealed class ImportPostgreyTests : IDisposable
{
    private const string Postgrey = "/usr/sbin/postgrey";
    private const string DbDump = "/usr/bin/db_dump";
    private readonly TempDir _dir = new("greyd-import-");
    private readonly long _t = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1000;

    public ImportPostgreyTests()
    {
        ExternalTool.Require(Postgrey, "postgrey");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("755", 8)); // user postgrey reaches its dbdir
        PgDb = _dir.Dir("pgdb");
        var (uid, gid) = ExternalTool.Account("postgrey", "postgrey");
        Native.Chown(PgDb, uid, gid);
        RunPostgrey();
    }

    private string PgDb { get; }

    public void Dispose() => _dir.Dispose();

    private PolicyRequest At(long t, string client, string sender, string recipient) =>
        PolicyRequest.DWithoutTime().With("policy_test_time", (_t + t).ToString(CultureInfo.InvariantCulture))
            .With("client_address", client).With("sender", sender).With("recipient", recipient);

    // postgrey (which honours policy_test_time): a triplet from A that passed, making A an AWL client, and one from B that waits.
    private void RunPostgrey()
    {
        string socket = _dir.File("pg.sock");
        using var postgrey = GreydProcess.StartExecutable(Postgrey, ["--unix=" + socket, "--dbdir=" + PgDb, "--auto-whitelist-clients=1"]);
        using (var client = WaitForSocket(postgrey, socket))
        {
            Assert.StartsWith("action=DEFER_IF_PERMIT", client.Ask(At(0, "192.0.2.10", "alice@example.net", "bob@example.org")));
            Assert.StartsWith("action=DEFER_IF_PERMIT", client.Ask(At(0, "198.51.100.20", "carol@example.com", "dave@example.org")));
            Assert.StartsWith("action=PREPEND", client.Ask(At(400, "192.0.2.10", "alice@example.net", "bob@example.org")));
        }

        // postgrey may sleep through SIGTERM until its next I/O (Net::Server::Multiplex): a connection wakes it.
        Native.Signal(postgrey.Pid, Native.SIGTERM);
        for (int i = 0; i < 100 && !postgrey.HasExited; i++)
        {
            try
            {
                PolicyClient.ConnectUnix(socket).Dispose();
            }
            catch (System.Net.Sockets.SocketException)
            {
            }

            Thread.Sleep(100);
        }

        Assert.True(postgrey.TryWaitForExit(TimeSpan.FromSeconds(5), out int code) && code == 0, $"postgrey did not stop cleanly.\n{postgrey.Describe()}");
    }

    [Fact]
    public void MailPostgreyHadSeenPassesWithoutANewDelay()
    {
        string admin = _dir.File("admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin, "--auto-whitelist-clients=1");
        var cli = new AdminCli(admin);

        string dry = cli.Ok("import-postgrey", "--dbdir=" + PgDb, "--dry-run");
        Assert.Contains("triplets: 2 read, 2 to import, 0 expired, 0 skipped", dry);
        Assert.Contains("AWL clients: 1 read, 1 to import", dry);
        Assert.Contains("0 entries", cli.Ok("list"));

        string done = cli.Ok("import-postgrey", "--dbdir=" + PgDb);
        Assert.Contains("greyd: 3 added, 0 merged into what greyd had, 0 kept as greyd had them, 0 expired", done);
        greyd.ExpectLog("import logged", l => l.Contains("import from postgrey: 2 triplets and 1 AWL clients", StringComparison.Ordinal), "the import line");

        var alice = cli.Json("list", "--sender=alice@example.net").GetProperty("triplets")[0];
        Assert.Equal("passed", alice.GetProperty("state").GetString());
        Assert.Equal(_t, alice.GetProperty("first").GetInt64());
        Assert.Equal(_t + 400, alice.GetProperty("last").GetInt64());

        // A's pass made it an AWL client in postgrey: greyd passes its new mail at once.
        Assert.Equal("action=DUNNO", greyd.AskOnce(PolicyRequest.DWithoutTime().With("client_address", "192.0.2.10").With("sender", "zed@example.net")));
        greyd.ExpectLog("AWL", l => l.Contains("reason=client AWL", StringComparison.Ordinal), "the AWL pass");
        // B's triplet was first seen 1000 s ago: its retry now is a first pass, not a new greylisting.
        string retry = greyd.AskOnce(PolicyRequest.DWithoutTime().With("client_address", "198.51.100.20").With("sender", "carol@example.com").With("recipient", "dave@example.org"));
        Assert.StartsWith("action=PREPEND X-Greylist: delayed 10", retry);
        // What postgrey never saw is greylisted as ever.
        Assert.StartsWith("action=DEFER_IF_PERMIT", greyd.AskOnce(PolicyRequest.DWithoutTime().With("client_address", "203.0.113.5")));
    }

    [Fact]
    public void ADumpImportsTheSameAndASecondImportChangesNothing()
    {
        string dump = _dir.File("postgrey.dump");
        var result = ExternalTool.RunChecked(ExternalTool.Require(DbDump, "db-util"), ["-p", "-h", PgDb, "postgrey.db"], TimeSpan.FromSeconds(30), "db_dump");
        File.WriteAllText(dump, result.Stdout);
        string admin = _dir.File("admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin);
        var cli = new AdminCli(admin);

        var first = cli.Json("import-postgrey", "--triplets=" + dump);
        Assert.Equal(2, first.GetProperty("store").GetProperty("added").GetInt64());
        var again = cli.Json("import-postgrey", "--triplets=" + Path.Combine(PgDb, "postgrey.db"));
        Assert.Equal(0, again.GetProperty("store").GetProperty("added").GetInt64());
        Assert.Equal(2, again.GetProperty("store").GetProperty("kept").GetInt64());
        Assert.Equal(2, cli.Json("list").GetProperty("triplets").GetArrayLength());
    }

    [Fact]
    public void ADamagedFileIsRefusedWithWhatWasImported()
    {
        string broken = _dir.File("postgrey.db");
        byte[] bytes = File.ReadAllBytes(Path.Combine(PgDb, "postgrey.db"));
        File.WriteAllBytes(broken, bytes[..(bytes.Length / 2 + 100)]);
        string admin = _dir.File("admin.sock");
        using var greyd = GreydInstance.Start("--admin-socket=" + admin);
        var refused = new AdminCli(admin).Run("import-postgrey", "--triplets=" + broken);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("greyd import-postgrey: ", refused.Stderr);
        Assert.False(greyd.Process.HasExited);
    }

    private static PolicyClient WaitForSocket(GreydProcess postgrey, string socket)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            postgrey.AssertAlive("while postgrey starts");
            if (File.Exists(socket))
            {
                try
                {
                    return PolicyClient.ConnectUnix(socket);
                }
                catch (System.Net.Sockets.SocketException)
                {
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"postgrey did not open {socket} within 30 s.\n{postgrey.Describe()}");
            Thread.Sleep(50);
        }
    }
}
