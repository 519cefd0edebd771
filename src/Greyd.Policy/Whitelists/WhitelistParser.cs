using System.Text.RegularExpressions;

namespace Greyd.Policy.Whitelists;

/// <summary>
/// Reads postgrey's whitelist files. Each line loses everything from its first <c>#</c> and its surrounding blanks;
/// the first matching form decides what the line is. A line that fits no form is reported with file and line and
/// skipped; a <c>/regex/</c> that does not compile is an error.
/// </summary>
public static partial class WhitelistParser
{
    /// <summary>Adds the entries of a client whitelist file; returns how many lines became entries.</summary>
    public static int ParseClients(string file, string text, ClientWhitelist.Builder builder, List<WhitelistDiagnostic> diagnostics)
    {
        int entries = 0;
        foreach (var (number, line) in EntryLines(text))
        {
            if (TryRegex(line, file, number, diagnostics, out var regex))
            {
                if (regex is not null)
                {
                    builder.AddRegex(regex);
                    entries++;
                }
            }
            else if (IPv4Line().Match(line) is { Success: true } v4)
            {
                if (TryNetwork(v4.Groups[1].Value, v4.Groups[2].Value, file, number, diagnostics, builder))
                {
                    entries++;
                }
            }
            else if (IPv6Line().Match(line) is { Success: true } v6 && v6.Groups[1].ValueSpan.Count(':') >= 2)
            {
                if (TryNetwork(v6.Groups[1].Value, v6.Groups[2].Value, file, number, diagnostics, builder))
                {
                    entries++;
                }
            }
            else if (line.Contains(' ', StringComparison.Ordinal) || line.Contains('\t', StringComparison.Ordinal))
            {
                diagnostics.Add(new WhitelistDiagnostic(file, number, false, "doesn't look like a hostname"));
            }
            else if (line.StartsWith("*.", StringComparison.Ordinal) && line.Length > 2)
            {
                // postgrey reads "*.example.com" as a literal '*' that never matches; its author meant the subdomains.
                builder.AddSubdomainSuffix(line[2..]);
                entries++;
            }
            else
            {
                builder.AddSuffix(line);
                entries++;
            }
        }

        return entries;
    }

    /// <summary>Adds the entries of a recipient whitelist file; returns how many lines became entries.</summary>
    public static int ParseRecipients(string file, string text, RecipientWhitelist.Builder builder, List<WhitelistDiagnostic> diagnostics)
    {
        int entries = 0;
        foreach (var (number, line) in EntryLines(text))
        {
            if (TryRegex(line, file, number, diagnostics, out var regex))
            {
                if (regex is not null)
                {
                    builder.AddRegex(regex);
                    entries++;
                }

                continue;
            }

            if (line.Contains(' ', StringComparison.Ordinal) || line.Contains('\t', StringComparison.Ordinal))
            {
                diagnostics.Add(new WhitelistDiagnostic(file, number, false, "doesn't look like an address"));
                continue;
            }

            int at = line.IndexOf('@', StringComparison.Ordinal);
            if (at < 0)
            {
                builder.AddDomain(line);
            }
            else if (at == line.Length - 1)
            {
                builder.AddUser(line[..at]);
            }
            else if (at == 0)
            {
                // postgrey's "@domain" matches nothing useful; its author meant every address at that domain.
                builder.AddExactDomain(line[1..]);
            }
            else
            {
                builder.AddAddress(line[..at], line[(at + 1)..]);
            }

            entries++;
        }

        return entries;
    }

    // The lines that hold something once comments and blanks are gone, with their line numbers.
    private static List<(int Number, string Line)> EntryLines(string text)
    {
        var lines = new List<(int, string)>();
        int number = 0;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            number++;
            string line = Clean(raw);
            if (line.Length > 0)
            {
                lines.Add((number, line));
            }
        }

        return lines;
    }

    // "s/#.*$//" then trim: a '#' anywhere starts a comment.
    private static string Clean(ReadOnlySpan<char> line)
    {
        int hash = line.IndexOf('#');
        if (hash >= 0)
        {
            line = line[..hash];
        }

        return line.Trim().ToString();
    }

    // "^/(\S+)/$": returns true when the line is a regex line; regex is null when it did not compile.
    private static bool TryRegex(string line, string file, int number, List<WhitelistDiagnostic> diagnostics, out WhitelistRegex? regex)
    {
        regex = null;
        if (line.Length < 3 || line[0] != '/' || line[^1] != '/' || line.AsSpan(1, line.Length - 2).ContainsAny(" \t"))
        {
            return false;
        }

        regex = WhitelistRegex.TryCreate(line[1..^1], out string? error);
        if (regex is null)
        {
            diagnostics.Add(new WhitelistDiagnostic(file, number, true, $"invalid regular expression: {error}"));
        }

        return true;
    }

    private static bool TryNetwork(string address, string prefixText, string file, int number, List<WhitelistDiagnostic> diagnostics, ClientWhitelist.Builder builder)
    {
        // Partial IPv4 addresses name a network: "a.b.c" is a /24 and "a.b" a /16 (postgrey makes the latter a /24 by mistake).
        int dots = address.Count(c => c == '.');
        bool isIPv4 = !address.Contains(':', StringComparison.Ordinal);
        string full = isIPv4 && dots < 3 ? address + string.Concat(Enumerable.Repeat(".0", 3 - dots)) : address;
        if (!ClientAddress.TryParse(full, out var parsed))
        {
            diagnostics.Add(new WhitelistDiagnostic(file, number, false, "not a valid IP address"));
            return false;
        }

        int prefix = prefixText.Length > 0 ? int.Parse(prefixText, System.Globalization.CultureInfo.InvariantCulture) : isIPv4 ? 8 * (dots + 1) : 128;
        if (prefix > parsed.BitLength || (isIPv4 && dots < 3 && prefixText.Length > 0))
        {
            diagnostics.Add(new WhitelistDiagnostic(file, number, false, "not a valid network"));
            return false;
        }

        builder.AddNetwork(parsed, prefix);
        return true;
    }

    [GeneratedRegex(@"^([0-9]{1,3}(?:\.[0-9]{1,3}){1,3})(?:/([0-9]{1,2}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex IPv4Line();

    // At least two colons, checked in code: "[^/]*:[^/]*:[^/]*" here backtracked for seconds on a long line with a '/'.
    [GeneratedRegex(@"^([^/]*)(?:/([0-9]{1,3}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex IPv6Line();
}
