using System.Globalization;
using System.Text;
using Greyd.Policy.Whitelists;
using Greyd.Storage.Faster;

namespace Greyd.Hosting.Admin;

/// <summary>
/// The clients whitelisted with <c>greyd whitelist add</c>: a whitelist_clients file of greyd's own in the store
/// directory, read with the other whitelist files (so a match shows its file and line), rewritten atomically.
/// </summary>
public sealed class AdminWhitelist
{
    public const string FileName = "whitelist_clients.admin";

    private const string Header = "# greyd: clients added with \"greyd whitelist add --client\"; same syntax as whitelist_clients.\n";
    private readonly Lock _gate = new();

    private AdminWhitelist(string? path) => Path = path;

    /// <summary>The file, or null when greyd has no store directory (then entries cannot be added).</summary>
    public string? Path { get; }

    /// <summary>The admin whitelist in <paramref name="directory"/>; the file is made by the first entry.</summary>
    public static AdminWhitelist In(string directory) => new(System.IO.Path.Combine(directory, FileName));

    /// <summary>No store directory: entries cannot be kept.</summary>
    public static AdminWhitelist None { get; } = new(null);

    /// <summary>The entries, each with its line number.</summary>
    public IReadOnlyList<(int Line, string Entry, string? Note)> Entries()
    {
        if (Path is null)
        {
            return [];
        }

        lock (_gate)
        {
            var result = new List<(int, string, string?)>();
            string[] lines = File.Exists(Path) ? File.ReadAllLines(Path) : [];
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                string? note = i > 0 && lines[i - 1].StartsWith("# added ", StringComparison.Ordinal) ? lines[i - 1][2..] : null;
                result.Add((i + 1, line, note));
            }

            return result;
        }
    }

    /// <summary>Adds a client entry after checking it parses as exactly one whitelist entry; false when it was there.</summary>
    public bool Add(string entry, string note)
    {
        entry = entry.Trim();
        var diagnostics = new List<WhitelistDiagnostic>();
        if (entry.Length == 0 || entry.StartsWith('#') || entry.Contains('\n', StringComparison.Ordinal)
            || WhitelistParser.ParseClients(FileName, entry, new ClientWhitelist.Builder(), diagnostics) != 1 || diagnostics.Count > 0)
        {
            string why = diagnostics.Count > 0 ? diagnostics[0].Message : "expected one address, network, host name or /regex/";
            throw new AdminException($"not a client whitelist entry: {entry} ({why})");
        }

        string path = Path ?? throw new AdminException("greyd has no store directory, so it cannot keep whitelist entries; add them to a whitelist file");
        lock (_gate)
        {
            if (Entries().Any(e => e.Entry == entry))
            {
                return false;
            }

            string text = File.Exists(path) ? File.ReadAllText(path) : Header;
            if (text.Length > 0 && !text.EndsWith('\n'))
            {
                text += "\n";
            }

            string comment = note.Replace('\n', ' ').Replace('\r', ' ');
            DurableFile.Write(path, Encoding.UTF8.GetBytes(text + string.Create(CultureInfo.InvariantCulture, $"# added {comment}\n{entry}\n")));
            return true;
        }
    }

    /// <summary>Removes an entry (and its "added" note); false when it was not there.</summary>
    public bool Remove(string entry)
    {
        entry = entry.Trim();
        string path = Path ?? throw new AdminException("greyd has no store directory, so it keeps no whitelist entries");
        lock (_gate)
        {
            var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
            int index = lines.FindIndex(l => l.Trim() == entry);
            if (index < 0)
            {
                return false;
            }

            lines.RemoveAt(index);
            if (index > 0 && lines[index - 1].StartsWith("# added ", StringComparison.Ordinal))
            {
                lines.RemoveAt(index - 1);
            }

            var text = new StringBuilder();
            foreach (string line in lines)
            {
                text.Append(line).Append('\n');
            }

            DurableFile.Write(path, Encoding.UTF8.GetBytes(text.ToString()));
            return true;
        }
    }
}
