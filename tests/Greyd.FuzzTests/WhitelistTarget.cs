using System.Text;
using Greyd.Policy;
using Greyd.Policy.Whitelists;

namespace Greyd.FuzzTests;

/// <summary>
/// Fuzz target for <see cref="WhitelistParser"/>. Invariants: parsing any text never throws; every diagnostic names
/// a real line of the file; no line gives both an entry and a warning, so entries plus warnings never exceed the
/// lines; parsing a file gives the same entries and diagnostics as parsing each of its lines alone; the built lists
/// answer lookups (names, addresses, recipients taken from the same bytes) without throwing.
/// </summary>
public static class WhitelistTarget
{
    public static string Run(byte[] input, Random random)
    {
        string text = random.Next(3) == 0 ? Encoding.Latin1.GetString(input) : Encoding.UTF8.GetString(input);
        var lines = new List<string>();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            lines.Add(line.ToString());
        }

        var clientDiagnostics = new List<WhitelistDiagnostic>();
        var clients = new ClientWhitelist.Builder();
        int clientEntries = WhitelistParser.ParseClients("clients", text, clients, clientDiagnostics);
        CheckCounts("client", clientEntries, clientDiagnostics, lines.Count);

        var recipientDiagnostics = new List<WhitelistDiagnostic>();
        var recipients = new RecipientWhitelist.Builder();
        int recipientEntries = WhitelistParser.ParseRecipients("recipients", text, recipients, recipientDiagnostics);
        CheckCounts("recipient", recipientEntries, recipientDiagnostics, lines.Count);

        // Line by line: the file is the sum of its lines (on one input in four: compiling each regex twice is slow).
        if (random.Next(4) == 0)
        {
            CheckLineByLine(lines, clientEntries, clientDiagnostics, recipientEntries, recipientDiagnostics);
        }

        // Lookups with values cut from the same bytes, so entries and values often nearly match.
        var clientList = clients.Build();
        var recipientList = recipients.Build();
        for (int i = 0; i < 4; i++)
        {
            byte[] value = Slice(input, random);
            _ = ClientAddress.TryParse(Slice(input, random), out var address);
            clientList.IsMatch(value, address);
            recipientList.IsMatch(value);
            if (lines.Count > 0)
            {
                string line = lines[random.Next(lines.Count)].Trim().Trim('/');
                byte[] name = Encoding.UTF8.GetBytes(line);
                clientList.IsMatch(name, address);
                recipientList.IsMatch(name);
                recipientList.IsMatch(Encoding.UTF8.GetBytes("user@" + line));
            }
        }

        return $"{Math.Min(clientEntries, 3)}|{Math.Min(recipientEntries, 3)}|"
            + string.Join(',', clientDiagnostics.Concat(recipientDiagnostics).Select(d => d.Message.Split(':')[0]).Distinct().Order(StringComparer.Ordinal));
    }

    private static void CheckLineByLine(List<string> lines, int clientEntries, List<WhitelistDiagnostic> clientDiagnostics, int recipientEntries, List<WhitelistDiagnostic> recipientDiagnostics)
    {
        int perLineClients = 0, perLineRecipients = 0;
        var perLineClientDiagnostics = new List<WhitelistDiagnostic>();
        var perLineRecipientDiagnostics = new List<WhitelistDiagnostic>();
        for (int i = 0; i < lines.Count; i++)
        {
            var cd = new List<WhitelistDiagnostic>();
            perLineClients += WhitelistParser.ParseClients("clients", lines[i], new ClientWhitelist.Builder(), cd);
            perLineClientDiagnostics.AddRange(cd.Select(d => d with { Line = i + 1 }));
            var rd = new List<WhitelistDiagnostic>();
            perLineRecipients += WhitelistParser.ParseRecipients("recipients", lines[i], new RecipientWhitelist.Builder(), rd);
            perLineRecipientDiagnostics.AddRange(rd.Select(d => d with { Line = i + 1 }));
            if (cd.Any(d => d.Line != 1) || rd.Any(d => d.Line != 1))
            {
                throw new FuzzInvariantException($"a one-line file gave a diagnostic for another line: {string.Join("; ", cd.Concat(rd))}");
            }
        }

        if (perLineClients != clientEntries || !perLineClientDiagnostics.SequenceEqual(clientDiagnostics))
        {
            throw new FuzzInvariantException($"client file parse ({clientEntries} entries) differs from its lines parsed alone ({perLineClients})");
        }

        if (perLineRecipients != recipientEntries || !perLineRecipientDiagnostics.SequenceEqual(recipientDiagnostics))
        {
            throw new FuzzInvariantException($"recipient file parse ({recipientEntries} entries) differs from its lines parsed alone ({perLineRecipients})");
        }
    }

    private static void CheckCounts(string kind, int entries, List<WhitelistDiagnostic> diagnostics, int lineCount)
    {
        foreach (var d in diagnostics)
        {
            if (d.Line < 1 || d.Line > lineCount)
            {
                throw new FuzzInvariantException($"{kind} diagnostic names line {d.Line} of a {lineCount}-line file: {d}");
            }
        }

        if (diagnostics.Select(d => d.Line).Distinct().Count() != diagnostics.Count)
        {
            throw new FuzzInvariantException($"{kind}: two diagnostics for one line");
        }

        if (entries < 0 || entries + diagnostics.Count > lineCount)
        {
            throw new FuzzInvariantException($"{kind}: {entries} entries and {diagnostics.Count} diagnostics from {lineCount} lines");
        }
    }

    private static byte[] Slice(byte[] input, Random random)
    {
        if (input.Length == 0)
        {
            return [];
        }

        int start = random.Next(input.Length);
        return input.AsSpan(start, Math.Min(input.Length - start, random.Next(1, 64))).ToArray();
    }
}
