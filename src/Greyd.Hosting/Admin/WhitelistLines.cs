using Greyd.Policy;
using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Admin;

/// <summary>
/// Finds which file and line of the whitelists matches, for <c>greyd explain</c>: each line is parsed alone and
/// tried with the same matching code the requests use, so the answer cannot disagree with a real decision.
/// </summary>
public static class WhitelistLines
{
    /// <summary>The first client whitelist line matching the client name or address, or null.</summary>
    public static (string File, int Line, string Entry)? FindClient(IEnumerable<string> files, ReadOnlySpan<byte> clientName, ClientAddress address)
    {
        foreach (var (file, line, text) in Lines(files))
        {
            var builder = new ClientWhitelist.Builder();
            if (WhitelistParser.ParseClients(file, text, builder, []) > 0 && builder.Build().IsMatch(clientName, address))
            {
                return (file, line, text);
            }
        }

        return null;
    }

    /// <summary>The first recipient whitelist line matching the recipient, or null.</summary>
    public static (string File, int Line, string Entry)? FindRecipient(IEnumerable<string> files, ReadOnlySpan<byte> recipient)
    {
        foreach (var (file, line, text) in Lines(files))
        {
            var builder = new RecipientWhitelist.Builder();
            if (WhitelistParser.ParseRecipients(file, text, builder, []) > 0 && builder.Build().IsMatch(recipient))
            {
                return (file, line, text);
            }
        }

        return null;
    }

    private static IEnumerable<(string File, int Line, string Text)> Lines(IEnumerable<string> files)
    {
        foreach (string file in files)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string text = lines[i].Trim();
                if (text.Length > 0 && !text.StartsWith('#'))
                {
                    yield return (file, i + 1, text);
                }
            }
        }
    }
}
