using System.Runtime.CompilerServices;
using System.Text;
using Greyd.Hosting.Import;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Tests.Import;

public sealed class PostgreyImportTests : IDisposable
{
    private const long T0 = 1700000000;
    private const long Day = 86400;
    private const string Header = "VERSION=3\nformat=print\ntype=btree\ndb_pagesize=4096\nHEADER=END\n";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("greyd-import-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text, Encoding.Latin1);
        return path;
    }

    private static string Dump(params (string Key, string Value)[] pairs) =>
        Header + string.Concat(pairs.Select(p => $" {p.Key}\n {p.Value}\n")) + "DATA=END\n";

    private static string Show(ImportRecord record) =>
        $"{(record.IsClient ? "client" : "triplet")} {Encoding.Latin1.GetString(record.Key)} {record.A},{record.B}";

    [Fact]
    public void EveryRecordIsConvertedExpiredOrSkippedWithItsReason()
    {
        string triplets = Write("postgrey.dump", Dump(
            ("192.0.2.0/alice@example.net/bob@example.org", $"{T0},{T0 + 300}"),
            ("192.0.2.0/24/carol@example.net/bob@example.org", $"{T0},{T0}"),
            ("198.51.100.0/old@example.net/bob@example.org", $"{T0 - (40 * Day)},{T0 - (36 * Day)}"),
            ("198.51.100.0/late@example.net/bob@example.org", $"{T0 - (3 * Day)},{T0 - (3 * Day)}"),
            ("b86591028e998a5eb1dc07e4f5df484d7541f3e3", $"{T0},{T0}"),
            ("192.0.2.0/x@example.net/bob@example.org", "garbage"),
            ("192.0.2.0/y@example.net/bob@example.org", $"{T0}"),
            ("2001:db8::1/a@b.example/c@d.example", $"{T0},{T0 + 400},1"),
            ("192.0.2.0/\\c3\\a9#@example.com/\\\\odd", $"{T0},{T0 + 300}")));
        string clients = Write("clients.dump", Dump(
            ("192.0.2.10", $"3,{T0 + 300}"),
            ("2001:db8::ffff:1", $"1,{T0 - (40 * Day)}"),
            ("56adbd712c6632d3ec32ba4e754292656851bbba", $"1,{T0}")));
        var import = new PostgreyImport(new GreylistOptions(), T0 + 1000);

        var records = import.Read(triplets, clients).Select(Show).ToList();

        Assert.Equal(
            [
                $"triplet 192.0.2.0/alice@example.net/bob@example.org {T0},{T0 + 300}",
                $"triplet 192.0.2.0/carol@example.net/bob@example.org {T0},{T0}",
                $"triplet 2001:db8:0:0:0:0:0:0/a@b.example/c@d.example {T0},{T0 + 400}",
                $"triplet 192.0.2.0/\u00c3\u00a9#@example.com/\\odd {T0},{T0 + 300}",
                $"client 192.0.2.10 3,{T0 + 300}",
            ],
            records);
        var summary = import.Summary;
        Assert.Equal((9L, 4L, 2L, 3L), (summary.Triplets.Read, summary.Triplets.Converted, summary.Triplets.Expired, summary.Triplets.Skipped));
        Assert.Equal((3L, 1L, 1L, 1L), (summary.Clients.Read, summary.Clients.Converted, summary.Clients.Expired, summary.Clients.Skipped));
        Assert.Equal(
            $"""
            triplets: 9 read, 4 to import, 2 expired, 3 skipped
            AWL clients: 3 read, 1 to import, 1 expired, 1 skipped
            skipped, --privacy key, greyd runs without --privacy: 2
              {triplets} line 14: b86591028e998a5eb1dc07e4f5df484d7541f3e3
              {clients} line 10: 56adbd712c6632d3ec32ba4e754292656851bbba
            skipped, value not first,last or count,last: 2
              {triplets} line 16: 192.0.2.0/x@example.net/bob@example.org
              {triplets} line 18: 192.0.2.0/y@example.net/bob@example.org

            """,
            summary.Describe());
    }

    [Fact]
    public void UnderPrivacyPlainKeysAreHashedAndDigestsKept()
    {
        string triplets = Write("postgrey.dump", Dump(
            ("192.0.2.0/24/alice@example.net/bob@example.org", $"{T0},{T0 + 300}"),
            ("0123456789abcdef0123456789abcdef01234567", $"{T0},{T0}")));
        var import = new PostgreyImport(new GreylistOptions { Privacy = true }, T0 + 1000);

        var records = import.Read(triplets).Select(Show).ToList();

        Assert.Equal(
            [$"triplet b86591028e998a5eb1dc07e4f5df484d7541f3e3 {T0},{T0 + 300}", $"triplet 0123456789abcdef0123456789abcdef01234567 {T0},{T0}"],
            records);
        Assert.Equal(1, import.Summary.PrivacyKeys);
        Assert.EndsWith(
            "1 --privacy keys taken as they are: they match only if postgrey keyed networks as greyd does (its 1.37 keys, the same cidr and lookup-by-host)\n",
            import.Summary.Describe());
    }

    [Fact]
    public void AGroupKeepsItsFirstExamplesAndCountsTheRest()
    {
        var pairs = Enumerable.Range(0, 10).Select(i => ($"192.0.{i}.0/s@example.net/r@example.org", $"{T0},{T0}")).ToArray();
        var import = new PostgreyImport(new GreylistOptions { IPv4Cidr = 25, AutoWhitelistClients = 0 }, T0 + 1000);

        Assert.Empty(import.Read(Write("postgrey.dump", Dump(pairs)), Write("clients.dump", Dump(("192.0.2.10", $"1,{T0}")))));

        var groups = import.Summary.Skipped;
        Assert.Equal([ImportSkipReason.NetworkTooWide, ImportSkipReason.AutoWhitelistOff], groups.Select(g => g.Reason));
        Assert.Equal([10L, 1L], groups.Select(g => g.Count));
        Assert.Equal(
            Enumerable.Range(0, 3).Select(i => $"{_dir.FullName}/postgrey.dump line {6 + (2 * i)}: 192.0.{i}.0/s@example.net/r@example.org (a /24 network; greyd keys /25)"),
            groups[0].Examples);
    }

    [Fact]
    public void TheOtherDatabaseInPlaceOfOneIsRefused()
    {
        string triplets = Write("postgrey.dump", Dump(("192.0.2.0/a@b.example/c@d.example", $"{T0},{T0}")));
        string clients = Write("clients.dump", Dump(("192.0.2.10", $"1,{T0}")));
        var import = new PostgreyImport(new GreylistOptions(), T0);

        Assert.Equal($"{clients} holds AWL clients (postgrey_clients.db), not triplets", Assert.Throws<PostgreyImportException>(() => import.Read(clients).ToList()).Message);
        Assert.Equal($"{triplets} holds triplets (postgrey.db), not AWL clients", Assert.Throws<PostgreyImportException>(() => import.Read(triplets, triplets).ToList()).Message);
    }

    [Fact]
    public void FilesAndDumpsAreToldApartByTheirFirstBytes()
    {
        string dump = Write("postgrey.dump", Dump(("192.0.2.0/a@b.example/c@d.example", $"{T0},{T0}")));
        string database = Path.Combine(_dir.FullName, "postgrey.db");
        BerkeleyDbTools.Load(File.ReadAllText(dump), database);
        string swapped = Path.Combine(_dir.FullName, "swapped.db");
        BerkeleyDbTools.Load(File.ReadAllText(dump), swapped, "-c", "db_lorder=4321");
        string other = Write("notes.txt", "VERSION 3\n");

        Assert.Equal(PostgreyInputKind.DbDump, PostgreyImport.Detect(dump));
        Assert.Equal(PostgreyInputKind.BerkeleyDb, PostgreyImport.Detect(database));
        Assert.Equal(PostgreyInputKind.BerkeleyDb, PostgreyImport.Detect(swapped));
        Assert.Equal($"{other} is neither a Berkeley DB file nor db_dump text", Assert.Throws<PostgreyImportException>(() => PostgreyImport.Detect(other)).Message);
        string empty = Write("empty", "");
        Assert.Equal($"{empty} is neither a Berkeley DB file nor db_dump text", Assert.Throws<PostgreyImportException>(() => PostgreyImport.Detect(empty)).Message);
        foreach (string path in new[] { dump, database, swapped })
        {
            var import = new PostgreyImport(new GreylistOptions(), T0);
            Assert.Equal([$"triplet 192.0.2.0/a@b.example/c@d.example {T0},{T0}"], import.Read(path).Select(Show));
        }
    }

    [Fact]
    public void AnUnseekableStreamIsReadAsADump()
    {
        var import = new PostgreyImport(new GreylistOptions(), T0);
        using var pipe = new UnseekableStream(Encoding.Latin1.GetBytes(Dump(("192.0.2.10", $"2,{T0}"))));

        Assert.Equal([$"client 192.0.2.10 2,{T0}"], import.ReadClients(pipe, "stdin").Select(Show));
    }

    [Fact]
    public void RecordsStreamOutBeforeADamagedEnd()
    {
        string cut = Write("cut.dump", Header + $" 192.0.2.0/a@b.example/c@d.example\n {T0},{T0}\n 192.0.2.0/e@f.example/g@h.example\n");
        var import = new PostgreyImport(new GreylistOptions(), T0);
        using var records = import.Read(cut).GetEnumerator();

        Assert.True(records.MoveNext());
        Assert.Equal($"triplet 192.0.2.0/a@b.example/c@d.example {T0},{T0}", Show(records.Current));
        Assert.Equal($"{cut} ends at line 8 without DATA=END: the dump is cut short", Assert.Throws<PostgreyImportException>(() => records.MoveNext()).Message);
        Assert.Equal(1, import.Summary.Triplets.Converted);
    }

    [Fact]
    public void DuplicateValuesAreSkippedAndCounted()
    {
        string database = Path.Combine(_dir.FullName, "dup.db");
        BerkeleyDbTools.Load(
            Header.Replace("HEADER=END", "duplicates=1\nHEADER=END", StringComparison.Ordinal) +
            $" 192.0.2.0/a@b.example/c@d.example\n {T0},{T0}\n 192.0.2.0/a@b.example/c@d.example\n {T0},{T0 + 300}\nDATA=END\n",
            database);
        var import = new PostgreyImport(new GreylistOptions(), T0 + 300);

        Assert.Equal([$"triplet 192.0.2.0/a@b.example/c@d.example {T0},{T0}"], import.Read(database).Select(Show));
        var group = Assert.Single(import.Summary.Skipped);
        Assert.Equal(ImportSkipReason.Duplicate, group.Reason);
        Assert.Equal([$"{database} page 1: 192.0.2.0/a@b.example/c@d.example"], group.Examples);
    }

    [Fact]
    public async Task ARecordIsWrittenToItsOwnTable()
    {
        var store = new RecordingStore();

        Assert.Equal(ImportOutcome.Added, await new ImportRecord(false, "t"u8.ToArray(), T0, T0 + 300).WriteAsync(store, T0 + 400));
        Assert.Equal(ImportOutcome.Merged, await new ImportRecord(true, "c"u8.ToArray(), 3, T0 + 300).WriteAsync(store, T0 + 400));

        Assert.Equal([$"triplet t {new TripletRecord(T0, T0 + 300)} {T0 + 400}", $"client c {new ClientRecord(3, T0 + 300)} {T0 + 400}"], store.Calls);
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private sealed class RecordingStore : IStoreAdmin
    {
        public List<string> Calls { get; } = [];

        public ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now)
        {
            Calls.Add($"triplet {Encoding.ASCII.GetString(tripletKey.Span)} {record} {now}");
            return ValueTask.FromResult(ImportOutcome.Added);
        }

        public ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now)
        {
            Calls.Add($"client {Encoding.ASCII.GetString(clientKey.Span)} {record} {now}");
            return ValueTask.FromResult(ImportOutcome.Merged);
        }

        public ValueTask<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now) => throw new NotSupportedException();

        public ValueTask<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now) => throw new NotSupportedException();

        public ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey) => throw new NotSupportedException();

        public ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey) => throw new NotSupportedException();

        public async IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask;
            yield break;
        }
    }
}
