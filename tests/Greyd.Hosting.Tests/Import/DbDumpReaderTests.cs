using System.Text;
using Greyd.Hosting.Import;

namespace Greyd.Hosting.Tests.Import;

public class DbDumpReaderTests
{
    private const string PrintHeader = "VERSION=3\nformat=print\ntype=btree\ndb_pagesize=4096\nHEADER=END\n";
    private const string HexHeader = "VERSION=3\nformat=bytevalue\ntype=btree\ndb_pagesize=4096\nHEADER=END\n";

    internal static List<PostgreyEntry> Read(string text, string name = "test.dump") =>
        new DbDumpReader(new MemoryStream(Encoding.Latin1.GetBytes(text)), name).ReadEntries().ToList();

    private static string Error(string text) =>
        Assert.Throws<PostgreyImportException>(() => Read(text)).Message;

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    [Fact]
    public void PrintFormatKeepsPrintableBytesAndDecodesBothEscapes()
    {
        var entries = Read(PrintHeader +
            " 192.0.2.0/\\c3\\a9#@example.com/bob@example.org\n 1700000000,1700000000\n" +
            " back\\\\slash/\\C3\\A9\n 1,2\n" +
            "  leading blank\n \n" +
            "DATA=END\n");

        Assert.Equal(3, entries.Count);
        Assert.Equal([.. "192.0.2.0/"u8.ToArray(), 0xC3, 0xA9, .. "#@example.com/bob@example.org"u8.ToArray()], entries[0].Key);
        Assert.Equal("1700000000,1700000000", Latin1(entries[0].Value));
        Assert.Equal([.. @"back\slash/"u8.ToArray(), 0xC3, 0xA9], entries[1].Key);
        Assert.Equal(" leading blank", Latin1(entries[2].Key));
        Assert.Empty(entries[2].Value);
        Assert.Equal("test.dump line 6", entries[0].Location);
        Assert.Equal("test.dump line 10", entries[2].Location);
        Assert.All(entries, e => Assert.False(e.IsDuplicate));
    }

    [Fact]
    public void BytevalueFormatIsHexInEitherCase()
    {
        var entries = Read(HexHeader + " 3139322e302e322e3130\n 312C31373030303030333030\nDATA=END\n");

        var entry = Assert.Single(entries);
        Assert.Equal("192.0.2.10", Latin1(entry.Key));
        Assert.Equal("1,1700000300", Latin1(entry.Value));
    }

    [Fact]
    public void DumpsOneAfterTheOtherAreReadAsOneWhateverTheirFormats()
    {
        var reader = new DbDumpReader(
            new MemoryStream(Encoding.Latin1.GetBytes(PrintHeader + " a/b/c\n 1,2\nDATA=END\n\n" + HexHeader + " 642f652f66\n 332c34\nDATA=END\n")),
            "two.dump");

        var entries = reader.ReadEntries().ToList();

        Assert.Equal(["a/b/c", "d/e/f"], entries.Select(e => Latin1(e.Key)));
        Assert.Equal(["1,2", "3,4"], entries.Select(e => Latin1(e.Value)));
        Assert.Equal(2, reader.Databases);
        Assert.Equal("two.dump line 15", entries[1].Location);
    }

    [Fact]
    public void CrLfLineEndsAreTolerated()
    {
        var entry = Assert.Single(Read((PrintHeader + " a/b/c\n 1,2\nDATA=END\n").Replace("\n", "\r\n")));
        Assert.Equal("a/b/c", Latin1(entry.Key));
        Assert.Equal("1,2", Latin1(entry.Value));
    }

    [Fact]
    public void AnEmptyDatabaseGivesNoEntries()
    {
        Assert.Empty(Read(PrintHeader + "DATA=END\n"));
    }

    [Theory]
    [InlineData("", "test.dump holds no dump (it is empty)")]
    [InlineData("hello\n", "test.dump line 1: expected VERSION=3, the start of a db_dump header")]
    [InlineData("VERSION=2\nformat=print\nHEADER=END\nDATA=END\n", "test.dump line 1: dump version 2: greyd reads VERSION=3")]
    [InlineData("VERSION=3\nformat=print\ntype=btree\n", "test.dump ends at line 3 inside a header, without HEADER=END")]
    [InlineData("VERSION=3\ntype=btree\nHEADER=END\nDATA=END\n", "test.dump line 3: the header has no format= line")]
    [InlineData("VERSION=3\nformat=xml\nHEADER=END\n", "test.dump line 2: format xml: expected print or bytevalue")]
    [InlineData("VERSION=3\nformat=print\ntype=recno\nHEADER=END\n", "test.dump line 3: a recno database: postgrey's are btree")]
    [InlineData("VERSION=3\nformat=print\nno equals sign\nHEADER=END\n", "test.dump line 3: expected a header line name=value, or HEADER=END")]
    [InlineData("VERSION=3\nformat=print\ndatabase=one\ntype=btree\nHEADER=END\n", "test.dump line 3: the subdatabase 'one': postgrey's files have none; dump postgrey.db and postgrey_clients.db each on its own")]
    public void AMalformedHeaderIsRefusedNamingTheLine(string text, string message)
    {
        Assert.Equal(message, Error(text));
    }

    [Theory]
    [InlineData(" a/b/c\n 1,2\n", "test.dump ends at line 7 without DATA=END: the dump is cut short")]
    [InlineData(" a/b/c\nDATA=END\n", "test.dump line 7: DATA=END follows a key without its value")]
    [InlineData(" a/b/c\n1,2\nDATA=END\n", "test.dump line 7: expected a key or value line starting with a blank, or DATA=END")]
    [InlineData(" a/b/c\n\n", "test.dump line 7: expected a key or value line starting with a blank, or DATA=END")]
    [InlineData(" a\\q/b\n 1,2\nDATA=END\n", "test.dump line 6: a backslash at column 3 starts no escape (\\\\ or \\ and two hex digits)")]
    [InlineData(" a/b/c\n 1,2\\\nDATA=END\n", "test.dump line 7: a backslash at column 5 starts no escape (\\\\ or \\ and two hex digits)")]
    [InlineData(" a/b/c\n 1,2\nDATA=END\nVERSION=3\nformat=print\nHEADER=END\n", "test.dump ends at line 11 without DATA=END: the dump is cut short")]
    [InlineData(" a/b/c\n 1,2\nDATA=END\ntrailing words\n", "test.dump line 9: expected VERSION=3, the start of a db_dump header")]
    public void MalformedPrintDataIsRefusedNamingTheLine(string data, string message)
    {
        Assert.Equal(message, Error(PrintHeader + data));
    }

    [Theory]
    [InlineData(" 616\n", "test.dump line 6: an odd number of hex digits")]
    [InlineData(" 61zz\n", "test.dump line 6: column 4 is not a hex digit pair (format=bytevalue)")]
    public void MalformedHexIsRefusedNamingTheLine(string data, string message)
    {
        Assert.Equal(message, Error(HexHeader + data));
    }

    [Fact]
    public void TheEntriesBeforeAMalformedLineAreReturnedFirst()
    {
        using var entries = new DbDumpReader(
            new MemoryStream(Encoding.Latin1.GetBytes(PrintHeader + " a/b/c\n 1,2\n d/e/f\n")), "cut.dump").ReadEntries().GetEnumerator();

        Assert.True(entries.MoveNext());
        Assert.Equal("a/b/c", Latin1(entries.Current.Key));
        Assert.Equal("cut.dump ends at line 8 without DATA=END: the dump is cut short", Assert.Throws<PostgreyImportException>(() => entries.MoveNext()).Message);
    }

    [Fact]
    public void AHugeLineIsRefusedWithoutReadingItAll()
    {
        string message = Error(PrintHeader + " " + new string('x', 2 << 20) + "\n");
        Assert.Equal("test.dump line 6 is longer than 1048576 bytes: not a db_dump text", message);
    }
}
