using System.Globalization;
using System.Text;

namespace Greyd.Storage.Faster;

/// <summary>One checkpoint generation: its FASTER token, the first journal file it does not cover, and counts.</summary>
internal readonly record struct Generation(Guid Token, long JournalSeq, long Triplets, long Clients);

/// <summary>
/// DIR/manifest names the checkpoints greyd trusts, so recovery never lets FASTER pick one by directory mtime.
/// Written atomically (temp, fsync, rename, fsync dir), with a CRC so a damaged manifest is recognised.
/// </summary>
internal sealed record Manifest(long IndexSize, long PageSize, Generation Current, Generation? Previous)
{
    public const string FileName = "manifest";
    private const string Header = "greyd-store-manifest 1";

    public static Manifest Parse(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 4 || lines[0] != Header || !lines[^1].StartsWith("crc ", StringComparison.Ordinal))
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
        var current = ParseGeneration(Field(lines[3], "current"))
            ?? throw new InvalidDataException("manifest names no current checkpoint");
        var previous = lines.Length > 5 ? ParseGeneration(Field(lines[4], "previous")) : null;
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

        string temp = Path.Combine(directory, FileName + ".tmp");
        using (var file = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, Path.Combine(directory, FileName), overwrite: true);
        Native.SyncDirectory(directory);
    }

    private static string Field(string line, string name) =>
        line.StartsWith(name + " ", StringComparison.Ordinal)
            ? line[(name.Length + 1)..]
            : throw new InvalidDataException($"manifest line '{name}' missing");

    private static string Format(Generation g) =>
        string.Create(CultureInfo.InvariantCulture, $"{g.Token:D} {g.JournalSeq} {g.Triplets} {g.Clients}");

    private static Generation? ParseGeneration(string text)
    {
        string[] parts = text.Split(' ');
        if (parts.Length != 4)
        {
            throw new InvalidDataException("manifest generation line malformed");
        }

        return new Generation(
            Guid.Parse(parts[0]),
            long.Parse(parts[1], CultureInfo.InvariantCulture),
            long.Parse(parts[2], CultureInfo.InvariantCulture),
            long.Parse(parts[3], CultureInfo.InvariantCulture));
    }
}
