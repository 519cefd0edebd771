using System.Buffers.Binary;
using System.Text;
using Greyd.Hosting.Import;

namespace Greyd.Hosting.Tests.Import;

/// <summary>
/// Reads database files that Berkeley DB's own db_load wrote (every byte order, checksums, page sizes, overflow items,
/// duplicates) and damaged copies of them: each must give the dump's pairs exactly, or a clear refusal.
/// </summary>
public sealed class BerkeleyDbReaderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("greyd-bdb-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>postgrey-like pairs: 1.37, 1.36 and 1.35 keys, bytes past ASCII, and items too long for a page.</summary>
    private static List<(byte[] Key, byte[] Value)> Pairs(int bulk)
    {
        var pairs = new List<(byte[] Key, byte[] Value)>
        {
            (Bytes("192.0.2.0/alice@example.net/bob@example.org"), Bytes("1700000000,1700000300")),
            (Bytes("192.0.2.0/24/carol@example.net/bob@example.org"), Bytes("1700000000,1700000000")),
            (Bytes("2001:db8:0:0:0:0:0:0/a@b.example/c@d.example"), Bytes("1700000000,1700000400,1")),
            ([.. Bytes("203.0.113.0/"), 0xC3, 0xA9, .. Bytes("#@example.com/"), 0xC3, 0x9C, .. Bytes("@x.org")], Bytes("1700000010,1700000010")),
            (Bytes("198.51.100.0/" + new string('s', 512) + "/" + new string('r', 512)), Bytes("1700000020,1700000020")),
            (Bytes("198.51.100.0/long-value@example.net/bob@example.org"), Bytes(new string('9', 3000))),
        };
        for (int i = 0; i < bulk; i++)
        {
            pairs.Add((Bytes($"10.{i / 250}.{i % 250}.0/sender{i}@example.net/user{i}@example.org"), Bytes($"{1700000000 + i},{1700000300 + i}")));
        }

        return pairs;
    }

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    private static string DumpText(IEnumerable<(byte[] Key, byte[] Value)> pairs, string extraHeader = "")
    {
        var text = new StringBuilder("VERSION=3\nformat=bytevalue\ntype=btree\n").Append(extraHeader).Append("HEADER=END\n");
        foreach (var (key, value) in pairs)
        {
            text.Append(' ').Append(Convert.ToHexStringLower(key)).Append("\n ").Append(Convert.ToHexStringLower(value)).Append('\n');
        }

        return text.Append("DATA=END\n").ToString();
    }

    private string Load(IEnumerable<(byte[] Key, byte[] Value)> pairs, params string[] options)
    {
        string path = Path.Combine(_dir.FullName, $"db{Guid.NewGuid():N}.db");
        BerkeleyDbTools.Load(DumpText(pairs), path, options);
        return path;
    }

    private static List<PostgreyEntry> Read(string path)
    {
        using var file = File.OpenRead(path);
        return new BerkeleyDbReader(file, "test.db").ReadEntries().ToList();
    }

    private static List<PostgreyEntry> Read(byte[] bytes) => new BerkeleyDbReader(new MemoryStream(bytes), "test.db").ReadEntries().ToList();

    private static string Refusal(byte[] bytes) => Assert.Throws<PostgreyImportException>(() => Read(bytes)).Message;

    private static void AssertInKeyOrder(List<(byte[] Key, byte[] Value)> expected, List<PostgreyEntry> entries)
    {
        var sorted = expected.OrderBy(p => p.Key, ByteOrder.Instance).ToList();
        Assert.Equal(sorted.Count, entries.Count);
        for (int i = 0; i < sorted.Count; i++)
        {
            Assert.Equal(sorted[i].Key, entries[i].Key);
            Assert.Equal(sorted[i].Value, entries[i].Value);
            Assert.False(entries[i].IsDuplicate);
        }
    }

    [Fact]
    public void ReadsEveryPairInKeyOrderWithItsPage()
    {
        var pairs = Pairs(0);
        var entries = Read(Load(pairs));

        AssertInKeyOrder(pairs, entries);
        Assert.All(entries, e => Assert.Equal("test.db page 1", e.Location));
    }

    [Theory]
    [InlineData(false, new string[0])]
    [InlineData(false, new[] { "-c", "db_lorder=1234" })]
    [InlineData(true, new[] { "-c", "db_lorder=4321" })]
    [InlineData(false, new[] { "-c", "chksum=1" })]
    [InlineData(true, new[] { "-c", "chksum=1", "-c", "db_lorder=4321" })]
    [InlineData(false, new[] { "-c", "db_pagesize=512" })]
    [InlineData(true, new[] { "-c", "db_pagesize=512", "-c", "db_lorder=4321" })]
    [InlineData(false, new[] { "-c", "db_pagesize=65536" })]
    public void EveryByteOrderChecksumAndPageSizeReadsAlike(bool swapped, string[] options)
    {
        var pairs = Pairs(3000);
        string path = Load(pairs, options);
        using var file = File.OpenRead(path);
        var reader = new BerkeleyDbReader(file, "test.db");

        var entries = reader.ReadEntries().ToList();

        AssertInKeyOrder(pairs, entries);
        Assert.Equal(swapped, reader.IsByteSwapped);
        Assert.True(entries.Select(e => e.Location).Distinct().Count() > (reader.PageSize > 4096 ? 1 : 10), "the tree should span many leaf pages");
    }

    [Fact]
    public void DuplicatesOnThePageAndOffItAreMarked()
    {
        var pairs = new List<(byte[] Key, byte[] Value)> { (Bytes("a"), Bytes("1,1")), (Bytes("a"), Bytes("2,2")), (Bytes("b"), Bytes("3,3")) };
        pairs.AddRange(Enumerable.Range(0, 200).Select(i => (Bytes("c"), Bytes($"{i},{i}"))));
        string path = Path.Combine(_dir.FullName, "dup.db");
        BerkeleyDbTools.Load(DumpText(pairs, "duplicates=1\ndb_pagesize=512\n"), path);

        var entries = Read(path);

        Assert.Equal(["a", "a", "b", "c"], entries.Select(e => Encoding.Latin1.GetString(e.Key)));
        Assert.Equal([false, true, false, true], entries.Select(e => e.IsDuplicate));
        Assert.Equal(["1,1", "2,2", "3,3", ""], entries.Select(e => Encoding.Latin1.GetString(e.Value)));
    }

    [Fact]
    public void AnEmptyDatabaseGivesNoEntries()
    {
        Assert.Empty(Read(Load([])));
    }

    [Fact]
    public void OtherKindsOfFileAreRefused()
    {
        var pairs = Pairs(0);
        string hash = Load(pairs, "-t", "hash");
        string encrypted = Load(pairs, "-P", "secret");
        string subdatabases = Path.Combine(_dir.FullName, "sub.db");
        BerkeleyDbTools.Load(DumpText(pairs, "database=one\n"), subdatabases);
        string recno = Path.Combine(_dir.FullName, "recno.db");
        File.WriteAllText(recno + ".txt", "one\ntwo\n");
        BerkeleyDbTools.Run(BerkeleyDbTools.Require(BerkeleyDbTools.DbLoad), ["-T", "-t", "recno", "-f", recno + ".txt", recno]);

        Assert.Equal("test.db is a Berkeley DB hash database; postgrey's databases are B-trees", Refusal(File.ReadAllBytes(hash)));
        Assert.Equal("test.db is encrypted; dump it with db_dump -P and import the dump", Refusal(File.ReadAllBytes(encrypted)));
        Assert.Equal("test.db holds subdatabases; postgrey's files have none", Refusal(File.ReadAllBytes(subdatabases)));
        Assert.Equal("test.db is a Recno database; postgrey's databases are B-trees", Refusal(File.ReadAllBytes(recno)));
        Assert.Equal("test.db is 0 bytes long: too short for a Berkeley DB file", Refusal([]));
        Assert.Equal("test.db is not a Berkeley DB file; postgrey's databases are B-trees", Refusal(new byte[4096]));
    }

    [Fact]
    public void AFileCutShortIsReported()
    {
        byte[] bytes = File.ReadAllBytes(Load(Pairs(3000), "-c", "db_pagesize=512"));

        string message = Refusal(bytes[..(bytes.Length / 2)]);

        Assert.StartsWith("test.db is cut short or damaged: page ", message);
        Assert.Contains($"the file ends after {bytes.Length / 2 / 512} pages ({bytes.Length / 2} bytes)", message);
    }

    [Fact]
    public void DamagedPagesAreReportedNeverLoopedOver()
    {
        byte[] pristine = File.ReadAllBytes(Load(Pairs(3000), "-c", "db_pagesize=512"));
        const int size = 512;
        uint root = BinaryPrimitives.ReadUInt32LittleEndian(pristine.AsSpan(88));
        int leaf = PageOfType(pristine, size, 5, skip: 3);
        int overflow = PageOfType(pristine, size, 7, skip: 0);

        // A leaf linked to itself: the chain loops.
        Assert.Contains($"follows leaf page {leaf} in the tree, but the two are not linked", Damage(pristine, leaf * size + 16, (uint)leaf));
        Assert.Contains($"page {leaf} follows leaf page", Damage(pristine, leaf * size + 12, 0));
        // The root's first child pointed back at the root.
        int firstChild = BinaryPrimitives.ReadUInt16LittleEndian(pristine.AsSpan((int)root * size + 26));
        Assert.Contains($"page {root} points to page {root}, which the tree has already reached", Damage(pristine, (int)root * size + firstChild + 4, root));
        Assert.Contains("test.db is cut short or damaged: page 4000000000 is needed", Damage(pristine, (int)root * size + firstChild + 4, 4_000_000_000));
        // A page that is not the one its parent named.
        Assert.Contains($"page {leaf} calls itself page 7777", Damage(pristine, leaf * size + 8, 7777));
        Assert.Contains("claims 60000 items, more than fit", Damage16(pristine, leaf * size + 20, 60000));
        Assert.Contains("outside the page's item area", Damage16(pristine, leaf * size + 26, 0xffff));
        Assert.Contains("names page 0 as its root", Damage(pristine, 88, 0));
        // An overflow chain that leads back to itself, or runs off the data it claims.
        Assert.Contains("is damaged", Damage(pristine, overflow * size + 16, (uint)overflow));
        Assert.Contains("holds 5000 overflow bytes, more than fit", Damage16(pristine, overflow * size + 22, 5000));
    }

    [Fact]
    public void RandomDamageEndsInAReportOrInPairsNeverInACrash()
    {
        byte[] pristine = File.ReadAllBytes(Load(Pairs(300), "-c", "db_pagesize=512"));
        var random = new Random(20261128);
        int refused = 0;
        for (int round = 0; round < 2000; round++)
        {
            byte[] bytes = (byte[])pristine.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            try
            {
                Read(bytes);
            }
            catch (PostgreyImportException)
            {
                refused++;
            }
        }

        Assert.True(refused > 100, $"only {refused} of 2000 damaged copies were refused");
    }

    private static string Damage(byte[] pristine, int offset, uint value)
    {
        byte[] bytes = (byte[])pristine.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);
        return Refusal(bytes);
    }

    private static string Damage16(byte[] pristine, int offset, ushort value)
    {
        byte[] bytes = (byte[])pristine.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), value);
        return Refusal(bytes);
    }

    private static int PageOfType(byte[] file, int size, byte type, int skip)
    {
        for (int page = 1; page < file.Length / size; page++)
        {
            if (file[(page * size) + 25] == type && skip-- == 0)
            {
                return page;
            }
        }

        Assert.Fail($"no page of type {type}");
        return 0;
    }

    /// <summary>Berkeley DB's default B-tree order: bytes compared unsigned, a prefix first.</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
