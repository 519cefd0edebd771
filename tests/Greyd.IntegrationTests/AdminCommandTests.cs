using System.Text.Json;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// greyd list, explain, whitelist, delete and stats against a running published binary, its clock moved by
/// libfaketime: what they show matches what requests then do, and explain never changes anything.
/// </summary>
public sealed class AdminCommandTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeClock _clock;
    private readonly GreydInstance _greyd;
    private readonly AdminCli _cli;

    public AdminCommandTests()
    {
        _clock = new FakeClock(_dir);
        string admin = _dir.File("admin.sock");
        _greyd = GreydInstance.StartWithEnvironment(_clock.Environment, "--admin-socket=" + admin, "--auto-whitelist-clients=2");
        _cli = new AdminCli(admin);
    }

    public void Dispose()
    {
        _greyd.Dispose();
        _dir.Dispose();
    }

    private static PolicyRequest Mail(string client = "192.0.2.10", string sender = "alice@example.net", string recipient = "bob@example.org") =>
        PolicyRequest.DWithoutTime().With("client_address", client).With("sender", sender).With("recipient", recipient);

    [Fact]
    public void ListShowsTripletsWithTheirPartsAndFiltersThem()
    {
        Assert.Contains("0 entries", _cli.Ok("list"));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail()));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail("198.51.100.7", "carol@example.com", "dave@example.org")));

        var all = _cli.Json("list");
        Assert.Equal(2, all.GetProperty("matched").GetInt64());
        var triplet = all.GetProperty("triplets").EnumerateArray().Single(t => t.GetProperty("sender").GetString() == "alice@example.net");
        Assert.Equal("192.0.2.0/alice@example.net/bob@example.org", triplet.GetProperty("key").GetString());
        Assert.Equal("192.0.2.0", triplet.GetProperty("client").GetString());
        Assert.Equal("bob@example.org", triplet.GetProperty("recipient").GetString());
        Assert.Equal("waiting", triplet.GetProperty("state").GetString());
        Assert.InRange(triplet.GetProperty("retry_in").GetInt64(), 290, 300);

        Assert.Single(_cli.Json("list", "--client=192.0.2.77").GetProperty("triplets").EnumerateArray());
        Assert.Equal(2, _cli.Json("list", "--client=0.0.0.0/0").GetProperty("triplets").GetArrayLength());
        Assert.Empty(_cli.Json("list", "--client=203.0.113.1").GetProperty("triplets").EnumerateArray());
        Assert.Single(_cli.Json("list", "--sender=CAROL@example.com").GetProperty("triplets").EnumerateArray());
        Assert.Equal(2, _cli.Json("list", "--domain=example.org").GetProperty("triplets").GetArrayLength());
        Assert.Single(_cli.Json("list", "--domain=example.net").GetProperty("triplets").EnumerateArray());
        Assert.Empty(_cli.Json("list", "--state=passed").GetProperty("triplets").EnumerateArray());
        Assert.Single(_cli.Json("list", "--limit=1").GetProperty("triplets").EnumerateArray());

        string table = _cli.Ok("list", "--recipient=bob@example.org");
        Assert.Matches(@"wait \d+m.*192\.0\.2\.0\s+alice@example\.net\s+bob@example\.org", table);
        Assert.Contains("1 entry", table);
    }

    [Fact]
    public void ExplainFollowsTheTripletThroughItsLifeWithoutChangingIt()
    {
        string[] request = ["explain", "--client-address=192.0.2.10", "--client-name=mail.example.net", "--sender=alice@example.net", "--recipient=bob@example.org"];
        var unseen = _cli.Json(request);
        Assert.Equal("greylist", unseen.GetProperty("action").GetString());
        Assert.Equal("DEFER_IF_PERMIT", unseen.GetProperty("reply").GetString());
        Assert.Equal("new", unseen.GetProperty("reason").GetString());
        Assert.Contains("0 entries", _cli.Ok("list"));

        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail()));
        var justSeen = _cli.Json(request).GetProperty("steps")[3].GetProperty("detail").GetString();
        Assert.Matches(@"; (299|300)s of the 300s delay left$", justSeen);
        _clock.Set("+2m");
        var early = _cli.Json(request);
        Assert.Matches(@"^early-retry \(1[78]\ds missing\)$", early.GetProperty("reason").GetString());
        string[] rules = [.. early.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("rule").GetString()!)];
        Assert.Equal(["client whitelist", "recipient whitelist", "client AWL", "triplet"], rules);

        _clock.Set("+6m");
        var due = _cli.Json(request);
        Assert.Matches(@"^triplet found, delay=3[67]\d$", due.GetProperty("reason").GetString());
        Assert.Equal("PREPEND", due.GetProperty("reply").GetString());
        // Explain stored nothing: the triplet still waits for its first pass, and the real retry gets the header.
        Assert.Equal("waiting", _cli.Json("list").GetProperty("triplets")[0].GetProperty("state").GetString());
        Assert.StartsWith("action=PREPEND X-Greylist", _greyd.AskOnce(Mail()));
        var passed = _cli.Json(request);
        Assert.Equal("triplet found", passed.GetProperty("reason").GetString());

        string text = _cli.Ok(request);
        Assert.Contains("=> pass (DUNNO): reason=triplet found", text);
        Assert.Matches(@"triplet\s+decides\s+192\.0\.2\.0/alice@example\.net/bob@example\.org: first seen", text);
    }

    [Fact]
    public void ExplainNamesTheWhitelistFileAndLine()
    {
        string whitelist = _dir.File("clients");
        File.WriteAllText(whitelist, "# ours\nmx.partner.example\n192.0.2.0/24\n");
        using var greyd = GreydInstance.Start("--admin-socket=" + _dir.File("admin2.sock"), "--whitelist-clients=" + whitelist);
        var cli = new AdminCli(_dir.File("admin2.sock"));
        var answer = cli.Json("explain", "--client-address=192.0.2.99", "--sender=a@b.example", "--recipient=c@d.example");
        Assert.Equal("client whitelist", answer.GetProperty("reason").GetString());
        var step = answer.GetProperty("steps")[0];
        Assert.Equal(whitelist, step.GetProperty("file").GetString());
        Assert.Equal(3, step.GetProperty("line").GetInt32());
        Assert.Equal("192.0.2.0/24", step.GetProperty("entry").GetString());

        var byName = cli.Json("explain", "--client-address=203.0.113.5", "--client-name=out.mx.partner.example", "--sender=a@b.example", "--recipient=c@d.example");
        Assert.Equal(2, byName.GetProperty("steps")[0].GetProperty("line").GetInt32());
    }

    [Fact]
    public void WhitelistedClientPassesAtOnceAndStaysWhitelistedAfterARestart()
    {
        Assert.Contains("added", _cli.Ok("whitelist", "add", "--client=192.0.2.10", "--comment=partner"));
        Assert.Equal("action=DUNNO", _greyd.AskOnce(Mail()));
        _greyd.ExpectLog("client whitelisted", l => l.Contains("action=pass, reason=client whitelist", StringComparison.Ordinal), "the whitelist pass");
        var explained = _cli.Json("explain", "--client-address=192.0.2.10", "--sender=x@y.example", "--recipient=bob@example.org");
        Assert.EndsWith("whitelist_clients.admin", explained.GetProperty("steps")[0].GetProperty("file").GetString());

        Assert.Contains("192.0.2.10", _cli.Ok("whitelist", "list"));
        _greyd.Process.Stop();
        _greyd.Restart();
        Assert.Equal("action=DUNNO", _greyd.AskOnce(Mail()));

        _cli.Ok("whitelist", "remove", "--client=192.0.2.10");
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "new@example.net")));
        var again = _cli.Run("whitelist", "remove", "--client=192.0.2.10");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("is not in", again.Stderr);
        var bad = _cli.Run("whitelist", "add", "--client=/unclosed(/");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("not a client whitelist entry", bad.Stderr);
    }

    [Fact]
    public void WhitelistedTripletPassesWithoutDelay()
    {
        _cli.Ok("whitelist", "add", "--client-address=192.0.2.10", "--sender=alice@example.net", "--recipient=bob@example.org");
        Assert.Equal("action=DUNNO", _greyd.AskOnce(Mail()));
        Assert.Equal("passed", _cli.Json("list").GetProperty("triplets")[0].GetProperty("state").GetString());
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(recipient: "other@example.org")));
    }

    [Fact]
    public void DeleteForgetsTripletsAndAutoWhitelistedClients()
    {
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail()));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "second@example.net")));
        _cli.Ok("delete", "--client-address=192.0.2.10", "--sender=alice@example.net", "--recipient=bob@example.org");
        string key = _cli.Json("list").GetProperty("triplets")[0].GetProperty("key").GetString()!;
        _cli.Ok("delete", "--key=" + key);
        Assert.Contains("0 entries", _cli.Ok("list"));
        var missing = _cli.Run("delete", "--key=" + key);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such triplet", missing.Stderr);

        // Two passes an hour apart whitelist the client (--auto-whitelist-clients=2); deleting its record undoes that.
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "a1@example.net")));
        _clock.Set("+10m");
        Assert.StartsWith("action=PREPEND", _greyd.AskOnce(Mail(sender: "a1@example.net")));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "a2@example.net")));
        _clock.Set("+80m");
        Assert.StartsWith("action=PREPEND", _greyd.AskOnce(Mail(sender: "a2@example.net")));
        var clients = _cli.Json("list", "--kind=clients").GetProperty("clients");
        Assert.True(clients[0].GetProperty("whitelisted").GetBoolean(), clients.ToString());
        Assert.Equal("action=DUNNO", _greyd.AskOnce(Mail(sender: "a3@example.net")));
        _cli.Ok("delete", "--client-address=192.0.2.10");
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "a4@example.net")));
    }

    [Fact]
    public void StatsCountsWhatTheStoreHolds()
    {
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail()));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "other@example.net")));
        _clock.Set("+6m");
        Assert.StartsWith("action=PREPEND", _greyd.AskOnce(Mail()));
        var stats = _cli.Json("stats");
        Assert.Equal(2, stats.GetProperty("triplets").GetInt64());
        Assert.Equal(1, stats.GetProperty("triplets_passed").GetInt64());
        Assert.Equal(1, stats.GetProperty("triplets_waiting").GetInt64());
        Assert.Equal(1, stats.GetProperty("awl_counting").GetInt64());
        Assert.Equal(300, stats.GetProperty("settings").GetProperty("delay").GetInt64());
        Assert.Matches(@"triplets:\s+2 \(1 passed, 1 waiting\)", _cli.Ok("stats"));
    }

    [Fact]
    public void ReportCountsWhatHappenedToEachSenderDomain()
    {
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "a@example.net")));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(sender: "b@example.net")));
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(client: "198.51.100.7", sender: "c@example.com")));
        _clock.Set("+2m");
        Assert.StartsWith("action=DEFER_IF_PERMIT", _greyd.AskOnce(Mail(client: "198.51.100.7", sender: "c@example.com")));
        _clock.Set("+6m");
        Assert.StartsWith("action=PREPEND", _greyd.AskOnce(Mail(sender: "a@example.net")));
        _clock.Set("+20m");
        Assert.StartsWith("action=PREPEND", _greyd.AskOnce(Mail(client: "198.51.100.7", sender: "c@example.com")));

        // Within the retry window the triplet nobody retried is still waiting, not yet "never retried".
        var early = Rows(_cli.Json("report", "--since=7d"));
        Assert.Equal((2, 1, 1, 0, 1), Counts(early["example.net"]));
        Assert.Equal((1, 1, 1, 0, 0), Counts(early["example.com"]));
        Assert.InRange(early["example.net"].GetProperty("delay_max").GetInt64(), 360, 375);
        Assert.InRange(early["example.com"].GetProperty("delay_max").GetInt64(), 1200, 1215);

        _clock.Set("+3d");
        var report = _cli.Json("report", "--since=7d");
        Assert.Equal((2, 1, 1, 1, 0), Counts(Rows(report)["example.net"]));
        Assert.Equal(3, report.GetProperty("total").GetProperty("greylisted").GetInt64());
        Assert.Single(Rows(_cli.Json("report", "--since=7d", "--domain=example.com")));

        string text = _cli.Ok("report", "--since=7d");
        Assert.Matches(@"example\.net\s+2\s+1\s+1\s+50%\s+1\s", text);
    }

    private static Dictionary<string, JsonElement> Rows(JsonElement report) =>
        report.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("domain").GetString()!, r => r);

    private static (long Greylisted, long Retried, long Passed, long NeverRetried, long Waiting) Counts(JsonElement row) =>
        (row.GetProperty("greylisted").GetInt64(), row.GetProperty("retried").GetInt64(), row.GetProperty("passed").GetInt64(),
         row.GetProperty("never_retried").GetInt64(), row.GetProperty("waiting").GetInt64());
}
