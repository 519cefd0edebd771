using System.Text;
using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Whitelists;

/// <summary>Reads the client and recipient whitelist files into a new <see cref="WhitelistSet"/>.</summary>
/// <param name="clientFilesAreDefaults">True when the client files are the defaults, whose absence is not reported.</param>
/// <param name="recipientFilesAreDefaults">The same for the recipient files: each list is judged on its own.</param>
public sealed class WhitelistLoader(IReadOnlyList<string> clientFiles, IReadOnlyList<string> recipientFiles, bool clientFilesAreDefaults, bool recipientFilesAreDefaults, string? adminClientFile = null)
{
    /// <summary>The client files, the admin whitelist (greyd whitelist add) last.</summary>
    public IReadOnlyList<string> ClientFiles { get; } = adminClientFile is null ? clientFiles : [.. clientFiles, adminClientFile];

    public IReadOnlyList<string> RecipientFiles { get; } = recipientFiles;

    public IEnumerable<string> AllFiles => ClientFiles.Concat(RecipientFiles);

    public WhitelistLoadResult Load()
    {
        var warnings = new List<string>();
        var errors = new List<string>();
        var diagnostics = new List<WhitelistDiagnostic>();
        var summary = new StringBuilder("whitelists loaded: clients ");
        var clients = new ClientWhitelist.Builder();
        var recipients = new RecipientWhitelist.Builder();
        Read(clientFiles, clientFilesAreDefaults, summary, warnings, errors, text => WhitelistParser.ParseClients(text.File, text.Content, clients, diagnostics));
        ReadAdmin(summary, errors, text => WhitelistParser.ParseClients(text.File, text.Content, clients, diagnostics));
        summary.Append("; recipients ");
        Read(RecipientFiles, recipientFilesAreDefaults, summary, warnings, errors, text => WhitelistParser.ParseRecipients(text.File, text.Content, recipients, diagnostics));
        foreach (var diagnostic in diagnostics)
        {
            (diagnostic.IsError ? errors : warnings).Add(diagnostic.ToString());
        }

        return new WhitelistLoadResult(new WhitelistSet(clients.Build(), recipients.Build()), warnings, errors, summary.ToString());
    }

    // The admin whitelist is greyd's own: missing means none yet, and the summary names it only when it holds entries.
    private void ReadAdmin(StringBuilder summary, List<string> errors, Func<(string File, string Content), int> parse)
    {
        if (adminClientFile is null || !File.Exists(adminClientFile))
        {
            return;
        }

        try
        {
            int entries = parse((adminClientFile, File.ReadAllText(adminClientFile)));
            if (entries > 0)
            {
                summary.Append(", ").Append(adminClientFile).Append(" (").Append(entries).Append(entries == 1 ? " entry)" : " entries)");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"can't open {adminClientFile}: {e.Message}");
        }
    }

    private static void Read(IReadOnlyList<string> files, bool filesAreDefaults, StringBuilder summary, List<string> warnings, List<string> errors, Func<(string File, string Content), int> parse)
    {
        if (files.Count == 0)
        {
            summary.Append("(none)");
        }

        for (int i = 0; i < files.Count; i++)
        {
            string file = files[i];
            if (i > 0)
            {
                summary.Append(", ");
            }

            summary.Append(file);
            string content;
            try
            {
                content = File.ReadAllText(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // postgrey is silent about a missing ".local" file; greyd also about its own default files.
                if (!filesAreDefaults && !file.EndsWith(".local", StringComparison.Ordinal))
                {
                    warnings.Add($"can't open {file}: No such file or directory");
                }

                summary.Append(" (missing)");
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"can't open {file}: {e.Message}");
                summary.Append(" (unreadable)");
                continue;
            }

            int entries = parse((file, content));
            summary.Append(" (").Append(entries).Append(entries == 1 ? " entry)" : " entries)");
        }
    }
}
