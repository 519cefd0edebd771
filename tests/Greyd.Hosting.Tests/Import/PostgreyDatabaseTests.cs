using System.Text;
using Greyd.Hosting.Import;
using Greyd.Policy;

namespace Greyd.Hosting.Tests.Import;

/// <summary>
/// Databases written by the real postgrey 1.37 (Debian's), read directly and through <c>db_dump -p</c> and
/// <c>db_dump</c>: the records must be exactly those postgrey's requests made, and the keys they convert to must be
/// the keys greyd builds for the same requests. A 1.36-style database, which no postgrey here can write, is made
/// with db_load from a dump in 1.36's key format.
/// </summary>
public sealed class PostgreyDatabaseTests : IDisposable
{
    private const long T0 = 1700000000;
    private static readonly GreylistOptions Defaults = new();

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("greyd-postgrey-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>One request: time after T0, client address, sender, recipient.</summary>
    private sealed record Sent(long T, string Client, string Sender, string Recipient)
    {
        public Greyd.Protocol.PolicyRequest Request => GreydKeys.Request(Client, Sender, Recipient);
    }

    private static readonly string LongSender = new string('x', 498) + "@long.example";
    private static readonly string LongRecipient = new string('r', 490) + "@example.org";

    /// <summary>New triplets, passes after the delay (which put clients on the AWL), IPv6 clients, bytes past ASCII, a key too long for a page and enough keys for a tree of several pages.</summary>
    private static List<Sent> DefaultScenario()
    {
        var sent = new List<Sent>
        {
            new(0, "192.0.2.10", "Alice+news@EXAMPLE.net", "bob@example.org"),
            new(300, "192.0.2.10", "Alice+news@EXAMPLE.net", "bob@example.org"),
            new(0, "2001:db8::ffff:1", "carol@example.com", "Dave@Example.ORG"),
            new(300, "2001:db8::ffff:1", "carol@example.com", "Dave@Example.ORG"),
            new(10, "2001:db8:0:1::1", "eve@example.com", "dave@example.org"),
            new(20, "198.51.100.7", LongSender, LongRecipient),
            new(30, "203.0.113.5", "\u00c9123@Example.COM", "\u00dc@X.ORG"),
            new(40, "198.51.100.8", "", "postmaster@example.org"),
        };
        for (int i = 0; i < 300; i++)
        {
            sent.Add(new(400 + i, $"10.{i / 100}.{i % 100}.7", $"bulk-{i}@example.net", $"user{i}@example.org"));
        }

        return sent;
    }

    [Fact]
    public void Postgreys137KeysAndAwlReadAlikeEveryWayAndBecomeGreydsKeys()
    {
        var sent = DefaultScenario();
        using var postgrey = new RealPostgrey(_dir.FullName, "--auto-whitelist-clients=1");
        foreach (var s in sent)
        {
            string reply = postgrey.Ask(T0 + s.T, s.Client, s.Sender, s.Recipient);
            Assert.StartsWith(s.T == 300 ? "action=PREPEND X-Greylist: delayed 300 seconds" : "action=DEFER_IF_PERMIT", reply);
        }

        postgrey.Stop();

        // postgrey's records, as the spec gives them, and as greyd's key builder gives postgrey's keys.
        var triplets = ReadAllWays(postgrey.TripletsPath);
        var tripletValues = triplets.ToDictionary(e => Latin1(e.Key), e => Latin1(e.Value));
        Assert.Equal("1700000000,1700000300", tripletValues["192.0.2.0/alice@example.net/bob@example.org"]);
        Assert.Equal("1700000000,1700000300", tripletValues["2001:db8:0:0:0:0:0:0/carol@example.com/dave@example.org"]);
        Assert.Equal("1700000010,1700000010", tripletValues["2001:db8:0:1:0:0:0:0/eve@example.com/dave@example.org"]);
        Assert.Equal("1700000030,1700000030", tripletValues["203.0.113.0/\u00c3\u0089#@example.com/\u00c3\u009c@x.org"]);
        Assert.Equal("1700000040,1700000040", tripletValues["198.51.100.0//postmaster@example.org"]);
        Assert.Equal("1700000400,1700000400", tripletValues["10.0.0.0/bulk-#@example.net/user0@example.org"]);
        Assert.Equal("1700000020,1700000020", tripletValues["198.51.100.0/" + LongSender + "/" + LongRecipient]);
        Assert.Equal(Expected(sent, Defaults), tripletValues);
        var clients = ReadAllWays(postgrey.ClientsPath);
        Assert.Equal(["192.0.2.10 1,1700000300", "2001:DB8:0:0:0:0:FFFF:1 1,1700000300"], clients.Select(e => $"{Latin1(e.Key)} {Latin1(e.Value)}"));

        // The long key sits on overflow pages, and the triplets span several leaf pages.
        Assert.Contains(PageTypes(postgrey.TripletsPath), type => type == 7);
        Assert.True(triplets.Select(e => e.Location).Distinct().Count() > 3);

        // Converted under greyd's options, from the files and from the dumps alike.
        foreach (var options in new[] { Defaults, new GreylistOptions { IPv4Cidr = 16, IPv6Cidr = 48 } })
        {
            var expected = ExpectedRecords(sent, options, [("192.0.2.10", 1, T0 + 300), ("2001:db8::ffff:1", 1, T0 + 300)]);
            foreach (var (tripletFile, clientFile) in Inputs(postgrey.TripletsPath, postgrey.ClientsPath))
            {
                var import = new PostgreyImport(options, T0 + 1000);
                Assert.Equal(expected, import.Read(tripletFile, clientFile).Select(Show).Order(StringComparer.Ordinal));
                Assert.Equal((0L, 0L), (import.Summary.Triplets.Skipped, import.Summary.Triplets.Expired));
            }
        }

        // A /24 network cannot become greyd's /25 key; the /64 ones still convert.
        var narrower = new PostgreyImport(new GreylistOptions { IPv4Cidr = 25 }, T0 + 1000);
        var records = narrower.Read(postgrey.TripletsPath).ToList();
        Assert.Equal(2, records.Count);
        var skipped = Assert.Single(narrower.Summary.Skipped);
        Assert.Equal((ImportSkipReason.NetworkTooWide, (long)tripletValues.Count - 2), (skipped.Reason, skipped.Count));

        // Long after the last sighting, everything has expired by greyd's rules.
        var late = new PostgreyImport(Defaults, T0 + (36 * 86400));
        Assert.Empty(late.Read(postgrey.TripletsPath, postgrey.ClientsPath));
        Assert.Equal((tripletValues.Count, 2L), (late.Summary.Triplets.Expired, late.Summary.Clients.Expired));
    }

    [Fact]
    public void PostgreysPrivacyKeysAreTakenAsTheyAreOnlyUnderPrivacy()
    {
        var sent = new List<Sent>
        {
            new(0, "192.0.2.10", "alice@example.net", "bob@example.org"),
            new(300, "192.0.2.10", "alice@example.net", "bob@example.org"),
            new(4000, "192.0.2.10", "alice@example.net", "r2@example.org"),
            new(4300, "192.0.2.10", "alice@example.net", "r2@example.org"),
            new(0, "2001:db8::ffff:1", "a@b.example", "c@d.example"),
            new(300, "2001:db8::ffff:1", "a@b.example", "c@d.example"),
        };
        using var postgrey = new RealPostgrey(_dir.FullName, "--privacy", "--auto-whitelist-clients=2");
        foreach (var s in sent)
        {
            Assert.StartsWith(s.T % 1000 == 300 ? "action=PREPEND" : "action=DEFER_IF_PERMIT", postgrey.Ask(T0 + s.T, s.Client, s.Sender, s.Recipient));
        }

        postgrey.Stop();

        var privacy = new GreylistOptions { Privacy = true };
        var tripletValues = ReadAllWays(postgrey.TripletsPath).ToDictionary(e => Latin1(e.Key), e => Latin1(e.Value));
        Assert.Equal("1700000000,1700000300", tripletValues["b86591028e998a5eb1dc07e4f5df484d7541f3e3"]);
        Assert.Equal(Expected(sent, privacy), tripletValues);
        var clients = ReadAllWays(postgrey.ClientsPath).ToDictionary(e => Latin1(e.Key), e => Latin1(e.Value));
        Assert.Equal("2,1700004300", clients["56adbd712c6632d3ec32ba4e754292656851bbba"]);
        Assert.Equal("1,1700000300", clients[Latin1(GreydKeys.Client("2001:db8::ffff:1", privacy))]);
        Assert.Equal(2, clients.Count);

        var expected = ExpectedRecords(sent, privacy, [("192.0.2.10", 2, T0 + 4300), ("2001:db8::ffff:1", 1, T0 + 300)]);
        foreach (var (tripletFile, clientFile) in Inputs(postgrey.TripletsPath, postgrey.ClientsPath))
        {
            var import = new PostgreyImport(privacy, T0 + 5000);
            Assert.Equal(expected, import.Read(tripletFile, clientFile).Select(Show).Order(StringComparer.Ordinal));
            Assert.Equal(5, import.Summary.PrivacyKeys);

            var plain = new PostgreyImport(Defaults, T0 + 5000);
            Assert.Empty(plain.Read(tripletFile, clientFile));
            var skipped = Assert.Single(plain.Summary.Skipped);
            Assert.Equal((ImportSkipReason.PrivacyKey, 5L), (skipped.Reason, skipped.Count));
        }
    }

    [Fact]
    public void PostgreysHostKeysBecomeGreydsHostOrNetworkKeys()
    {
        var sent = new List<Sent>
        {
            new(0, "192.0.2.10", "alice@example.net", "bob@example.org"),
            new(300, "192.0.2.10", "alice@example.net", "bob@example.org"),
            new(0, "2001:DB8::1", "a@b.example", "c@d.example"),
        };
        using var postgrey = new RealPostgrey(_dir.FullName, "--lookup-by-host", "--auto-whitelist-clients=0");
        foreach (var s in sent)
        {
            postgrey.Ask(T0 + s.T, s.Client, s.Sender, s.Recipient);
        }

        postgrey.Stop();

        Assert.False(File.Exists(postgrey.ClientsPath));
        Assert.Equal(
            ["192.0.2.10/32/alice@example.net/bob@example.org 1700000000,1700000300", "2001:db8:0:0:0:0:0:1/128/a@b.example/c@d.example 1700000000,1700000000"],
            ReadAllWays(postgrey.TripletsPath).Select(e => $"{Latin1(e.Key)} {Latin1(e.Value)}"));
        foreach (var options in new[] { new GreylistOptions { LookupByHost = true }, Defaults })
        {
            foreach (var (tripletFile, _) in Inputs(postgrey.TripletsPath, postgrey.TripletsPath))
            {
                var import = new PostgreyImport(options, T0 + 1000);
                Assert.Equal(ExpectedRecords(sent, options, []), import.Read(tripletFile).Select(Show).Order(StringComparer.Ordinal));
            }
        }
    }

    [Fact]
    public void APostgrey136DatabaseBecomesGreydsKeys()
    {
        // 1.36 wrote the network with its prefix length and the AWL address as Postfix sent it; 1.35's full-address
        // keys with a third value field may still be in such a database.
        var sent = new List<(Sent Request, string Key136, string Value)>
        {
            (new(0, "192.0.2.10", "Alice+news@EXAMPLE.net", "bob@example.org"), "192.0.2.0/24/alice@example.net/bob@example.org", $"{T0},{T0 + 300}"),
            (new(0, "2001:db8::ffff:1", "carol@example.com", "Dave@Example.ORG"), "2001:db8:0:0:0:0:0:0/64/carol@example.com/dave@example.org", $"{T0},{T0 + 300}"),
            (new(0, "203.0.113.5", "\u00c9123@Example.COM", "\u00dc@X.ORG"), "203.0.113.0/24/\\c3\\89#@example.com/\\c3\\9c@x.org", $"{T0 + 30},{T0 + 30}"),
            (new(0, "198.51.100.8", "", "postmaster@example.org"), "198.51.100.0/24//postmaster@example.org", $"{T0 + 40},{T0 + 40}"),
            (new(0, "198.51.100.9", LongSender, LongRecipient), "198.51.100.0/24/" + LongSender + "/" + LongRecipient, $"{T0 + 50},{T0 + 50}"),
            (new(0, "198.51.100.7", "bounce-123-456@lists.example", "bob@example.org"), "198.51.100.7/bounce-#-#@lists.example/bob@example.org", $"{T0},{T0 + 300},7"),
            (new(0, "2001:db8::1", "a@b.example", "c@d.example"), "2001:db8::1/a@b.example/c@d.example", $"{T0 + 60},{T0 + 60}"),
        };
        string triplets = Path.Combine(_dir.FullName, "postgrey.db");
        string clients = Path.Combine(_dir.FullName, "postgrey_clients.db");
        BerkeleyDbTools.Load(PrintDump(sent.Select(s => (s.Key136, s.Value))), triplets);
        BerkeleyDbTools.Load(PrintDump([("192.0.2.10", $"3,{T0 + 300}"), ("2001:db8::ffff:1", $"1,{T0 + 300}")]), clients);
        Assert.Contains(PageTypes(triplets), type => type == 7);

        var import = new PostgreyImport(Defaults, T0 + 1000);
        var records = import.Read(triplets, clients).Select(Show).Order(StringComparer.Ordinal).ToList();

        var expected = sent.Select(s => Show(new ImportRecord(false, GreydKeys.Triplet(s.Request.Request, Defaults), long.Parse(s.Value.Split(',')[0]), long.Parse(s.Value.Split(',')[1]))))
            .Append($"client 192.0.2.10 3,{T0 + 300}").Append($"client 2001:DB8:0:0:0:0:FFFF:1 1,{T0 + 300}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, records);

        // greyd keyed by host: only the full addresses (1.35, 1.36 --lookup-by-host) can be keyed so.
        var byHost = new GreylistOptions { LookupByHost = true };
        var hostImport = new PostgreyImport(byHost, T0 + 1000);
        Assert.Equal(
            [
                Show(new ImportRecord(false, GreydKeys.Triplet(sent[5].Request.Request, byHost), T0, T0 + 300)),
                Show(new ImportRecord(false, GreydKeys.Triplet(sent[6].Request.Request, byHost), T0 + 60, T0 + 60)),
            ],
            hostImport.Read(triplets).Select(Show).Order(StringComparer.Ordinal));
        Assert.Equal(5, hostImport.Summary.Triplets.Skipped);
    }

    /// <summary>The file read directly, then its db_dump -p and db_dump texts: all three must give the same pairs.</summary>
    private List<PostgreyEntry> ReadAllWays(string database)
    {
        List<PostgreyEntry> direct;
        using (var file = File.OpenRead(database))
        {
            direct = new BerkeleyDbReader(file, database).ReadEntries().ToList();
        }

        foreach (bool print in new[] { true, false })
        {
            var dumped = new DbDumpReader(new MemoryStream(BerkeleyDbTools.Dump(database, print)), "dump").ReadEntries().ToList();
            Assert.Equal(direct.Select(Pair), dumped.Select(Pair));
        }

        return direct;
    }

    /// <summary>The database files themselves, then their db_dump -p texts, then their db_dump texts.</summary>
    private List<(string Triplets, string Clients)> Inputs(string triplets, string clients)
    {
        var inputs = new List<(string, string)> { (triplets, clients) };
        foreach (bool print in new[] { true, false })
        {
            string Save(string database)
            {
                string path = Path.Combine(_dir.FullName, $"{Path.GetFileName(database)}.{(print ? "print" : "hex")}.dump");
                File.WriteAllBytes(path, BerkeleyDbTools.Dump(database, print));
                return path;
            }

            inputs.Add((Save(triplets), Save(clients)));
        }

        return inputs;
    }

    /// <summary>postgrey's triplet records after these requests, keyed as greyd's builder keys them under <paramref name="options"/>.</summary>
    private static Dictionary<string, string> Expected(IEnumerable<Sent> sent, GreylistOptions options) =>
        sent.GroupBy(s => Latin1(GreydKeys.Triplet(s.Request, options)))
            .ToDictionary(g => g.Key, g => $"{T0 + g.Min(s => s.T)},{T0 + g.Max(s => s.T)}");

    private static List<string> ExpectedRecords(IEnumerable<Sent> sent, GreylistOptions options, (string Client, long Count, long Last)[] clients) =>
        [.. Expected(sent, options).Select(p => $"triplet {p.Key} {p.Value}")
            .Concat(clients.Select(c => $"client {Latin1(GreydKeys.Client(c.Client, options))} {c.Count},{c.Last}"))
            .Order(StringComparer.Ordinal)];

    private static string PrintDump(IEnumerable<(string Key, string Value)> pairs) =>
        "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n" + string.Concat(pairs.Select(p => $" {p.Key}\n {p.Value}\n")) + "DATA=END\n";

    private static List<byte> PageTypes(string database)
    {
        byte[] bytes = File.ReadAllBytes(database);
        int size = BitConverter.ToInt32(bytes, 20);
        return [.. Enumerable.Range(1, (bytes.Length / size) - 1).Select(page => bytes[(page * size) + 25])];
    }

    private static string Show(ImportRecord record) =>
        $"{(record.IsClient ? "client" : "triplet")} {Latin1(record.Key)} {record.A},{record.B}";

    private static string Pair(PostgreyEntry entry) => $"{Convert.ToHexString(entry.Key)} {Convert.ToHexString(entry.Value)}";

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);
}
