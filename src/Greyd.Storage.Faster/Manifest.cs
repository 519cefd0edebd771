using System.Globalization;
using System.Text;

namespace Greyd.Storage.Faster;

/// <summary>
/// One checkpoint generation: the FASTER log checkpoint and the (possibly older) index checkpoint it recovers with,
/// the first journal file it does not cover, counts, the log BeginAddress it needs on disk, and when its index was
/// taken (unix seconds).
/// </summary>
internal readonly record struct Generation(Guid LogToken, Guid IndexToken, long JournalSeq, long Triplets, long Clients, long BeginAddress, long IndexTaken)
{
    /// <summary>True when the index checkpoint was taken with this log checkpoint (recovery replays no extra log).</summary>
    public bool HasOwnIndex => IndexToken == LogToken;
}

/// <summary>
/// DIR/manifest names the checkpoints greyd trusts, so recovery never lets FASTER pick one by directory mtime.
/// Written atomically (temp, fsync, rename, fsync dir), with a CRC so a damaged manifest is recognised.
/// </summary>
internal sealed record Manifest(long IndexSize, long PageSize, Generation Current, Generation? Previous)
{
    public const string FileName = "manifest";
    private const string Header = "greyd-store-manifest 2";
    private const string HeaderV1 = "greyd-store-manifest 1";

    /// <summary>The log checkpoints the retained generations recover from.</summary>
    public HashSet<Guid> LogTokens() => Previous is { } previous ? [Current.LogToken, previous.LogToken] : [Current.LogToken];

    /// <summary>The index checkpoints the retained generations recover from (often one shared by both).</summary>
    public HashSet<Guid> IndexTokens() => Previous is { } previous ? [Current.IndexToken, previous.IndexToken] : [Current.IndexToken];

    /// <summary>The lowest log address a retained generation reads on recovery: log segments below it may go.</summary>
    public long RetainedBeginAddress =>
        Previous is { } previous ? Math.Min(Current.BeginAddress, previous.BeginAddress) : Current.BeginAddress;

    public static Manifest Parse(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        bool v1 = lines.Length > 0 && lines[0] == HeaderV1;
        if (lines.Length < 4 || (lines[0] != Header && !v1) || !lines[^1].StartsWith("crc ", StringComparison.Ordinal))
        {
            throw new InvalidDataException("manifest is truncated or not a greyd manifest");
        }

        string body = string.Join('\n', lines[..^1]) + "\n";
        uint crc = uint.Parse(lines[^1].AsSpan(4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (crc != Crc32.Compute(Encoding.UTF8.GetBytes(body)))
        {
            throw new InvalidDataException("manifest checksum mismatch");
        }

        if (lines.Length < 5)
        {
            throw new InvalidDataException("manifest is truncated");
        }

        long indexSize = long.Parse(Field(lines[1], "index-size"), CultureInfo.InvariantCulture);
        long pageSize = long.Parse(Field(lines[2], "page-size"), CultureInfo.InvariantCulture);
        var current = ParseGeneration(Field(lines[3], "current"), v1);
        Generation? previous = lines.Length > 5 ? ParseGeneration(Field(lines[4], "previous"), v1) : null;
        return new Manifest(indexSize, pageSize, current, previous);
    }

    public static Manifest? TryLoad(string directory, out string? error)
    {
        error = null;
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or OverflowException or UnauthorizedAccessException)
        {
            error = $"manifest unreadable: {e.Message}";
            return null;
        }
    }

    public void Write(string directory)
    {
        var body = new StringBuilder();
        body.Append(Header).Append('\n');
        body.Append(CultureInfo.InvariantCulture, $"index-size {IndexSize}\n");
        body.Append(CultureInfo.InvariantCulture, $"page-size {PageSize}\n");
        body.Append("current ").Append(Format(Current)).Append('\n');
        if (Previous is { } previous)
        {
            body.Append("previous ").Append(Format(previous)).Append('\n');
        }

        string text = body.ToString();
        text += "crc " + Crc32.Compute(Encoding.UTF8.GetBytes(text)).ToString("x8", CultureInfo.InvariantCulture) + "\n";

        DurableFile.Write(Path.Combine(directory, FileName), Encoding.UTF8.GetBytes(text));
    }

    private static string Field(string line, string name) =>
        line.StartsWith(name + " ", StringComparison.Ordinal)
            ? line[(name.Length + 1)..]
            : throw new InvalidDataException($"manifest line '{name}' missing");

    private static string Format(Generation g) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{g.LogToken:D} {g.JournalSeq} {g.Triplets} {g.Clients} {g.IndexToken:D} {g.BeginAddress} {g.IndexTaken}");

    private static Generation ParseGeneration(string text, bool v1)
    {
        string[] parts = text.Split(' ');
        if (parts.Length != (v1 ? 4 : 7))
        {
            throw new InvalidDataException("manifest generation line malformed");
        }

        var logToken = Guid.Parse(parts[0]);
        long journalSeq = long.Parse(parts[1], CultureInfo.InvariantCulture);
        long triplets = long.Parse(parts[2], CultureInfo.InvariantCulture);
        long clients = long.Parse(parts[3], CultureInfo.InvariantCulture);
        if (v1)
        {
            // Version 1 took full checkpoints only; its BeginAddress is unknown, so 0 keeps every log segment.
            return new Generation(logToken, logToken, journalSeq, triplets, clients, 0, 0);
        }

        return new Generation(logToken, Guid.Parse(parts[4]), journalSeq, triplets, clients,
            long.Parse(parts[5], CultureInfo.InvariantCulture), long.Parse(parts[6], CultureInfo.InvariantCulture));
    }
}
