using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd whitelist add|remove|list</c>: whitelist a client or a triplet on the running daemon.</summary>
public sealed class WhitelistSubcommand : AdminSubcommand
{
    public override string Name => "whitelist";

    public override string Summary => "whitelist a client or a triplet at once (add, remove, list)";

    public override string Usage => """
        Usage: greyd whitelist add|remove --client=ENTRY [--comment=TEXT]
               greyd whitelist add|remove --client-address=IP --sender=ADDRESS --recipient=ADDRESS
               greyd whitelist list [--json]

        --client takes a whitelist_clients entry: an address, a network (192.0.2.0/24), a host
        name (matches it and its subdomains) or a /regex/ on the client name. greyd keeps these in
        whitelist_clients.admin in its store directory; they apply at once and survive restarts.
        A whitelisted triplet is stored as passed: it expires like one after --max-age without mail.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["client", "comment", "client-address", "sender", "recipient"];

    protected override void Validate(SubcommandArguments args)
    {
        if (args.Words.Count != 1 || args.Words[0] is not ("add" or "remove" or "list"))
        {
            throw new SubcommandUsageException("say add, remove or list");
        }
    }

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        string action = args.Words[0];
        using var answer = await AskAsync(args, client, request =>
        {
            request.WriteString("action", action);
            CopyOptions(args, request, "client", "comment", "client-address", "sender", "recipient");
        }, output, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return 0;
        }

        var r = answer.RootElement;
        if (action != "list")
        {
            output.WriteLine(AdminLog.Clean(Text(r, "message")));
            return 0;
        }

        List<string[]> rows = [["ENTRY", "LINE", "ADDED"]];
        foreach (var entry in r.GetProperty("entries").EnumerateArray())
        {
            rows.Add([Text(entry, "entry"), Number(entry, "line").ToString(System.Globalization.CultureInfo.InvariantCulture), Text(entry, "note").Replace("added ", string.Empty, StringComparison.Ordinal)]);
        }

        if (rows.Count > 1)
        {
            TextTable.Write(rows, output);
        }

        output.WriteLine(AdminLog.Clean($"{rows.Count - 1} {(rows.Count == 2 ? "entry" : "entries")} in {Text(r, "file")}"));
        return 0;
    }
}
