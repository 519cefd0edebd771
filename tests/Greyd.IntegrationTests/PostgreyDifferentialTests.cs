using System.Globalization;
using System.Text;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// Sends the same long seeded random request sequence to the real postgrey (Debian package, /usr/sbin/postgrey) and
/// to greyd, and requires byte-identical replies. The sequence avoids greyd's documented deviations: time never
/// moves backwards, and every entry is looked up only while younger than max-age (each "epoch" of at most 30 days
/// uses its own client addresses and recipient domain). The whitelist cases give both daemons the same client and
/// recipient files, free of greyd's documented deviations (no two-octet prefix, no <c>@domain</c>, no <c>*.</c>), and
/// draw client names, addresses and recipients that hit them and just miss them; they also compare the
/// <c>action=..., reason=...</c> log lines of both daemons.
/// </summary>
public sealed class PostgreyDifferentialTests
{
    private const string Postgrey = "/usr/sbin/postgrey";
    private const string Header = "X-Greylist: delayed %t seconds";
    private const int Steps = 4000;

    /// <summary>Entries of every form postgrey and greyd read alike; see <see cref="RequestGenerator"/> for the hits.</summary>
    private static readonly string[] ClientWhitelist =
    [
        "# shared by postgrey and greyd",
        "wl.example            # host-name suffix: wl.example and every name below it",
        @"/^mx\d+\.rx\.example$/",
        "192.0.2.7",
        "198.51.100",
        "203.0.113.70/26       # host bits set: the whole 203.0.113.64/26",
        "10.1.1.10",
        "10.2.2",
        "10.3.1.8/30",
        "2001:db8:4:1::/64",
        "2001:DB8:5::2",
        "2001:db8:ffff::/48",
    ];

    private static readonly string[] RecipientWhitelist =
    [
        "postmaster@",
        "abuse@ex2.example",
        "carol@ex6.example",
        "sub.ex4.example",
        "ex8.example",
        @"/^dave(\+[a-z]+)?@ex[57]\.example$/",
    ];

    [Theory]
    [InlineData("--auto-whitelist-clients=2", 20261127, false)]
    [InlineData("", 4242, false)]
    [InlineData("--delay=120|--retry-window=12h|--auto-whitelist-clients=1|--greylist-text=Wait %s for %r|--lookup-by-host", 99, false)]
    [InlineData("--privacy|--ipv4cidr=16|--ipv6cidr=48|--auto-whitelist-clients=3|--greylist-action=451|--greylist-text=Try in %ss", 31337, false)]
    [InlineData("", 777, true)]
    [InlineData("--auto-whitelist-clients=2", 8086, true)]
    [InlineData("--delay=120|--auto-whitelist-clients=1|--lookup-by-host", 1312, true)]
    [InlineData("--privacy|--ipv4cidr=16|--ipv6cidr=48|--auto-whitelist-clients=3", 2718, true)]
    public void Greyd_answers_a_long_random_request_sequence_exactly_as_postgrey_does(string options, int seed, bool whitelists)
    {
        Assert.True(File.Exists(Postgrey), $"{Postgrey} is missing: install the Debian package (apt-get install -y postgrey).");
        (int uid, int gid) = PostgreyUser();

        using var dir = new TempDir("greyd-diff-");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1ED); // 0755: user postgrey must reach its dbdir and socket
        string pgDb = dir.Dir("pgdb");
        Native.Chown(pgDb, uid, gid);
        string clientList = dir.WriteFile("wl-clients", whitelists ? ClientWhitelist : []);
        string recipientList = dir.WriteFile("wl-recipients", whitelists ? RecipientWhitelist : []);
        File.SetUnixFileMode(clientList, (UnixFileMode)0x1A4); // 0644: postgrey reads them as user postgrey
        File.SetUnixFileMode(recipientList, (UnixFileMode)0x1A4);
        string[] lists = ["--whitelist-clients=" + clientList, "--whitelist-recipients=" + recipientList];
        string pgSocket = dir.File("pg.sock");
        string greydSocket = dir.File("greyd.sock");

        var shared = new List<string>
        {
            "--hostname=test.host",
            "--x-greylist-header=" + Header,
            "--greylist-text=" + Harness.Replies.PostgreyGreylistText,
        };
        shared.AddRange(options.Split('|', StringSplitOptions.RemoveEmptyEntries)); // later options win in both

        using var postgrey = GreydProcess.StartExecutable(
            Postgrey,
            new[] { "--unix=" + pgSocket, "--dbdir=" + pgDb }.Concat(lists).Concat(shared));
        using var greyd = GreydProcess.Start(new[] { "--unix=" + greydSocket, "--dbdir=" + dir.Dir("greyd-db"), "--allow-policy-test-time" }.Concat(lists).Concat(shared));
        try
        {
            greyd.WaitReady();
            using var pgClient = ConnectPostgrey(postgrey, pgSocket);
            using var greydClient = PolicyClient.ConnectUnix(greydSocket);

            var generator = new RequestGenerator(seed, whitelists);
            var history = new Queue<string>();
            var kinds = new Dictionary<string, int>();
            for (int step = 0; step < Steps; step++)
            {
                var request = generator.Next();
                string expected = Ask(pgClient, request, "postgrey", postgrey, step);
                string actual = Ask(greydClient, request, "greyd", greyd, step);
                if (!string.Equals(expected, actual, StringComparison.Ordinal))
                {
                    Assert.Fail(
                        $"First difference at step {step} of {Steps} (seed {seed}, options '{options}'):\n" +
                        $"request:\n{Indent(request.ToString())}\npostgrey: {expected}\ngreyd:    {actual}\n\n" +
                        $"previous steps (t = policy_test_time - {PolicyRequest.T0}):\n{string.Join("\n", history)}\n\n" +
                        $"greyd log:\n{greyd.Describe()}\npostgrey log:\n{postgrey.Describe()}");
                }

                string kind = expected.Split(' ')[0];
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                history.Enqueue($"  #{step}: {Summary(request)} -> {expected}");
                if (history.Count > 25)
                {
                    history.Dequeue();
                }
            }

            // Guard against a vacuous run: the sequence must exercise greylisting, first passes and DUNNO.
            string seen = string.Join(", ", kinds.Select(k => $"{k.Key}: {k.Value}"));
            Assert.True(kinds.Count(k => k.Key.StartsWith("action=PREPEND", StringComparison.Ordinal) && k.Value >= 100) == 1, "too few PREPEND replies: " + seen);
            Assert.True(kinds.GetValueOrDefault("action=DUNNO") >= 100, "too few DUNNO replies: " + seen);
            Assert.True(kinds.Where(k => !k.Key.StartsWith("action=PREPEND", StringComparison.Ordinal) && k.Key != "action=DUNNO").Sum(k => k.Value) >= 100, "too few greylist replies: " + seen);
            Assert.Equal(0, greyd.Stop());
            postgrey.Stop();
            CompareDecisionLogs(greyd, postgrey, seed, options);
            if (whitelists)
            {
                var reasons = greyd.StderrLines.Where(l => l.StartsWith("<5>action=pass, reason=", StringComparison.Ordinal))
                    .GroupBy(l => l.Split(", ")[1]).ToDictionary(g => g.Key, g => g.Count());
                string reasonCounts = string.Join(", ", reasons.Select(r => $"{r.Key}: {r.Value}"));
                Assert.True(reasons.GetValueOrDefault("reason=client whitelist") >= 100, "too few client whitelist hits: " + reasonCounts);
                Assert.True(reasons.GetValueOrDefault("reason=recipient whitelist") >= 100, "too few recipient whitelist hits: " + reasonCounts);
                Console.WriteLine($"seed {seed}, options '{options}': {seen}; passes {reasonCounts}");
            }
        }
        finally
        {
            postgrey.Stop();
        }
    }

    /// <summary>
    /// Both daemons must log the same decision lines in the same order: greyd's <c>&lt;5&gt;action=...</c> against
    /// postgrey's <c>action=...</c> on stderr (postgrey's own start-up probe left out).
    /// </summary>
    private static void CompareDecisionLogs(GreydProcess greyd, GreydProcess postgrey, int seed, string options)
    {
        var ours = greyd.StderrLines.Where(l => l.StartsWith("<5>action=", StringComparison.Ordinal)).Select(l => l[3..]).ToList();
        var theirs = postgrey.StderrLines.Where(l => l.StartsWith("action=", StringComparison.Ordinal) && !l.Contains("probe@probe.invalid", StringComparison.Ordinal)).ToList();
        Assert.True(theirs.Count >= Steps / 2, $"only {theirs.Count} decision lines from postgrey for {Steps} requests:\n{postgrey.Describe()}");
        for (int i = 0; i < Math.Max(ours.Count, theirs.Count); i++)
        {
            string? mine = i < ours.Count ? ours[i] : null;
            string? other = i < theirs.Count ? theirs[i] : null;
            if (!string.Equals(mine, other, StringComparison.Ordinal))
            {
                Assert.Fail(
                    $"First difference in the decision log at line {i} (seed {seed}, options '{options}'; {ours.Count} lines from greyd, {theirs.Count} from postgrey):\n" +
                    $"postgrey: {other ?? "(none)"}\ngreyd:    {mine ?? "(none)"}\nbefore it:\n  {string.Join("\n  ", theirs.Skip(Math.Max(0, i - 5)).Take(Math.Min(i, 5)))}");
            }
        }
    }

    private static string Ask(PolicyClient client, PolicyRequest request, string who, GreydProcess process, int step)
    {
        client.Send(request);
        var result = client.TryReadReply(TimeSpan.FromSeconds(10));
        if (result.Kind != ReplyKind.Reply)
        {
            Assert.Fail($"{who} gave {result} at step {step} for:\n{Indent(request.ToString())}\n{process.Describe()}");
        }

        return result.Text;
    }

    private static PolicyClient ConnectPostgrey(GreydProcess postgrey, string socket)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (postgrey.HasExited)
            {
                postgrey.TryWaitForExit(TimeSpan.FromSeconds(2), out _);
                Assert.Fail($"postgrey could not be started here; it exited.\n{postgrey.Describe()}");
            }

            if (File.Exists(socket))
            {
                try
                {
                    var client = PolicyClient.ConnectUnix(socket);
                    client.Send(PolicyRequest.D(0).With("client_address", "203.0.113.250").With("recipient", "probe@probe.invalid"));
                    var result = client.TryReadReply(TimeSpan.FromSeconds(20));
                    if (result.Kind == ReplyKind.Reply)
                    {
                        return client;
                    }

                    client.Dispose();
                    Assert.Fail($"postgrey did not answer a probe request ({result}).\n{postgrey.Describe()}");
                }
                catch (System.Net.Sockets.SocketException)
                {
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"postgrey did not open {socket} within 30 s.\n{postgrey.Describe()}");
            }

            Thread.Sleep(50);
        }
    }

    private static (int Uid, int Gid) PostgreyUser()
    {
        foreach (string line in File.ReadLines("/etc/passwd"))
        {
            string[] fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == "postgrey")
            {
                return (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
            }
        }

        Assert.Fail("There is no user 'postgrey' (the Debian package creates it: apt-get install -y postgrey).");
        return default;
    }

    private static string Indent(string text) => string.Join("\n", text.TrimEnd('\n').Split('\n').Select(l => "    " + l));

    private static string Summary(PolicyRequest request)
    {
        var text = new StringBuilder();
        long time = long.Parse(request["policy_test_time"] ?? "0", CultureInfo.InvariantCulture) - PolicyRequest.T0;
        text.Append("t=").Append(time);
        foreach (string name in new[] { "client_name", "client_address", "sender", "recipient", "instance", "etrn_domain" })
        {
            string? value = request[name];
            text.Append(' ').Append(name).Append('=').Append(value is null ? "(absent)" : $"'{value}'");
        }

        return text.ToString();
    }

    /// <summary>Seeded random Postfix-like requests; see the class comment for what it avoids.</summary>
    private sealed class RequestGenerator
    {
        private const long EpochSpan = 30L * 86400;

        private static readonly string[] ClientNames = ["mail.example.net", "mail.example.net", "unknown", ""];

        /// <summary>Client names that hit or just miss the shared client whitelist.</summary>
        private static readonly string[] WhitelistClientNames =
        [
            "wl.example", "Mx3.WL.example", "a.b.wl.example", "notwl.example", "wl.example.evil", "mx12.rx.example", "MX7.RX.EXAMPLE",
            "mxa.rx.example", "mx1.rx.example.evil", "xmx1.rx.example",
        ];
        private static readonly string[] Senders =
        [
            "alice@example.net", "Alice+news@EXAMPLE.net", "bounce-{n}-{n}@lists.example", "", "prvs=1234567890=carl@example.net",
            "MAILER-DAEMON", "user{n}@example.com",
        ];

        private static readonly string[] RecipientUsers = ["bob", "carol", "BOB", "bob+x", "dave"];

        /// <summary>Local parts that hit or just miss the shared recipient whitelist (with the epoch's domains).</summary>
        private static readonly string[] WhitelistRecipientUsers =
        [
            "postmaster", "PostMaster+x", "xpostmaster", "postmaster+", "abuse", "ABUSE+y", "abusers", "carol", "carol+z", "dave", "dave+news",
            "dave+N3ws", "bob",
        ];

        private readonly Random _random;
        private readonly bool _whitelistTargets;
        private readonly List<(string Address, string Sender, string Recipient)> _recent = [];
        private long _time;
        private long _epochStart;
        private int _epoch;
        private int _instances;

        public RequestGenerator(int seed, bool whitelistTargets)
        {
            _random = new Random(seed);
            _whitelistTargets = whitelistTargets;
        }

        public PolicyRequest Next()
        {
            long step = _random.NextDouble() switch
            {
                < 0.45 => _random.Next(0, 61),
                < 0.70 => _random.Next(60, 401),
                < 0.85 => _random.Next(400, 4001),
                < 0.95 => _random.Next(4000, 86401),
                _ => _random.Next(86400, (3 * 86400) + 1),
            };
            _time += step;
            if (_time - _epochStart > EpochSpan)
            {
                _epoch++;
                _epochStart = _time;
                _recent.Clear();
            }

            (string address, string sender, string recipient) triplet;
            if (_recent.Count > 0 && _random.NextDouble() < 0.5)
            {
                triplet = _recent[_random.Next(Math.Max(0, _recent.Count - 8), _recent.Count)];
            }
            else
            {
                string[] users = _whitelistTargets && _random.Next(3) == 0 ? WhitelistRecipientUsers : RecipientUsers;
                triplet = (Address(), Sender(), $"{Pick(users)}@{(_random.Next(4) == 0 ? "sub." : "")}ex{_epoch}.example");
                _recent.Add(triplet);
            }

            var request = PolicyRequest.D(_time)
                .With("client_name", Pick(_whitelistTargets && _random.Next(4) == 0 ? WhitelistClientNames : ClientNames))
                .With("client_address", triplet.address)
                .With("sender", triplet.sender)
                .With("recipient", triplet.recipient);

            double instance = _random.NextDouble();
            if (instance >= 0.3)
            {
                if (instance >= 0.65 || _instances == 0)
                {
                    _instances++;
                }

                request = request.With("instance", $"{_instances:X}.{_epoch}");
            }

            if (_random.NextDouble() < 0.3)
            {
                request = request.With("etrn_domain", "");
            }

            if (_random.NextDouble() < 0.1)
            {
                request = request.With("queue_id", $"Q{_random.Next(1000, 9999)}");
            }

            if (_random.NextDouble() < 0.02)
            {
                request = request.Without(Pick(["sender", "recipient", "client_name"]));
            }

            return request;
        }

        private string Address()
        {
            int e = _epoch;
            if (_whitelistTargets && _random.Next(5) == 0)
            {
                // Always whitelisted, so never stored: safe to reuse in every epoch. The epoch-bound addresses below
                // hit the entries for 10.1-10.3 and 2001:db8:4-5 only in those epochs, and just miss them otherwise.
                return _random.Next(4) switch
                {
                    0 => "192.0.2.7",
                    1 => $"198.51.100.{_random.Next(256)}",
                    2 => $"203.0.113.{_random.Next(64, 128)}",
                    _ => $"2001:db8:ffff:{_random.Next(65536):x}::{_random.Next(1, 65536):x}",
                };
            }

            return _random.Next(8) switch
            {
                0 => $"10.{e}.1.10",
                1 => $"10.{e}.1.11",
                2 => $"10.{e}.2.5",
                3 => $"10.{e}.3.7",
                4 => $"2001:db8:{e:x}::1",
                5 => $"2001:DB8:{e:x}:0::2",
                6 => $"2001:db8:{e:x}:1::5",
                _ => $"10.{e}.1.10",
            };
        }

        private string Sender() => Pick(Senders).Replace("{n}", _random.Next(1, 999).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        private string Pick(string[] choices) => choices[_random.Next(choices.Length)];
    }
}
