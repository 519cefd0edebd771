using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Reporting;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd list</c>: triplets and AWL clients, newest first, as a table or JSON.</summary>
public sealed class ListSubcommand : AdminSubcommand
{
    public override string Name => "list";

    public override string Summary => "list triplets and auto-whitelisted clients";

    public override string Usage => """
        Usage: greyd list [filters] [--limit=N] [--json] [--admin-socket=PATH]

        Lists what greyd holds, most recently seen first. Filters (all given must match):
          --client=ADDRESS[/LEN]     triplets of this client's network, AWL clients in it
          --sender=ADDRESS           triplets with this sender (as greyd keys it: lower case, tags removed)
          --recipient=ADDRESS        triplets with this recipient
          --domain=DOMAIN            triplets whose sender or recipient is in this domain
          --kind=triplets|clients    only triplets, or only AWL clients
          --state=passed|waiting     triplets that passed, or still wait for a retry
          --limit=N                  show at most N of each kind (default 1000; 0 shows all)
        With --privacy greyd keeps only digests: no sender, recipient or domain filters.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["client", "sender", "recipient", "domain", "kind", "state", "limit"];

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        long? limit = args.Get("limit") is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw new SubcommandUsageException($"--limit: not a number: {text}")
            : null;
        using var answer = await AskAsync(args, client, request =>
        {
            CopyOptions(args, request, "client", "sender", "recipient", "domain", "kind", "state");
            if (limit is { } l)
            {
                request.WriteNumber("limit", l);
            }
        }, output, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return 0;
        }

        var r = answer.RootElement;
        long now = Number(r, "now");
        var triplets = r.GetProperty("triplets");
        var clients = r.GetProperty("clients");
        if (triplets.GetArrayLength() > 0)
        {
            List<string[]> rows = [["STATE", "FIRST SEEN", "LAST SEEN", "CLIENT", "SENDER", "RECIPIENT"]];
            foreach (var t in triplets.EnumerateArray())
            {
                string state = Text(t, "state") == "waiting" ? Number(t, "retry_in") > 0 ? $"wait {ReportText.Duration(Number(t, "retry_in"))}" : "retry due" : "passed";
                rows.Add(t.TryGetProperty("sender", out _)
                    ? [state, Time(Number(t, "first")), Time(Number(t, "last")), Text(t, "client"), Text(t, "sender"), Text(t, "recipient")]
                    : [state, Time(Number(t, "first")), Time(Number(t, "last")), Key(t), string.Empty, string.Empty]);
            }

            TextTable.Write(rows, output);
        }

        if (clients.GetArrayLength() > 0)
        {
            if (triplets.GetArrayLength() > 0)
            {
                output.WriteLine();
            }

            List<string[]> rows = [["AWL CLIENT", "PASSES", "LAST COUNTED", "WHITELISTED"]];
            foreach (var c in clients.EnumerateArray())
            {
                rows.Add([Key(c), Number(c, "count").ToString(CultureInfo.InvariantCulture), Time(Number(c, "last")), c.GetProperty("whitelisted").GetBoolean() ? "yes" : "no"]);
            }

            TextTable.Write(rows, output);
        }

        long shown = triplets.GetArrayLength() + clients.GetArrayLength();
        long matched = Number(r, "matched");
        output.WriteLine(shown == matched
            ? string.Create(CultureInfo.InvariantCulture, $"{matched} {(matched == 1 ? "entry" : "entries")} at {Time(now)} UTC")
            : string.Create(CultureInfo.InvariantCulture, $"{shown} of {matched} entries shown (the most recently seen; --limit=0 shows all)"));
        return 0;
    }

    private static string Key(JsonElement entry) =>
        entry.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString()! : "(key not recorded)";
}
