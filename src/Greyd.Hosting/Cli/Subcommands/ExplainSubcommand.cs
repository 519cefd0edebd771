using System.Text.Json;
using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd explain</c>: which rule would decide a request, and why, without changing anything.</summary>
public sealed class ExplainSubcommand : AdminSubcommand
{
    public override string Name => "explain";

    public override string Summary => "say which rule decides a request, and why, without changing anything";

    public override string Usage => """
        Usage: greyd explain --client-address=IP [--client-name=NAME] [--helo-name=NAME]
                             --sender=ADDRESS --recipient=ADDRESS [--json]

        Runs the request through greyd's rules in order (client whitelist, recipient whitelist,
        auto-whitelist, sender pool, triplet) and shows each rule's verdict: the whitelist file and
        line that matched, the client's AWL count, with --spf-pools the SPF result and the key it
        chose, the triplet's first and last sighting and the time left. Nothing is stored.
        --client-name is Postfix's verified client name (default: unknown); --helo-name is the
        client's HELO name, for SPF records that use it.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["client-address", "client-name", "helo-name", "sender", "recipient"];

    protected override void Validate(SubcommandArguments args)
    {
        base.Validate(args);
        if (args.Get("client-address") is null)
        {
            throw new SubcommandUsageException("--client-address is required");
        }
    }

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        using var answer = await AskAsync(args, client, request => CopyOptions(args, request, "client-address", "client-name", "helo-name", "sender", "recipient"), output, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return 0;
        }

        var r = answer.RootElement;
        List<string[]> rows = [];
        foreach (var step in r.GetProperty("steps").EnumerateArray())
        {
            rows.Add([Text(step, "rule"), step.GetProperty("decides").GetBoolean() ? "decides" : "-", Text(step, "detail")]);
        }

        TextTable.Write([["RULE", "VERDICT", "DETAIL"], .. rows], output);
        string reply = Text(r, "reply") == "PREPEND" ? "PREPEND X-Greylist header" : Text(r, "reply");
        output.WriteLine(AdminLog.Clean($"=> {Text(r, "action")} ({reply}): reason={Text(r, "reason")}"));
        return 0;
    }
}
