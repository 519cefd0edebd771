using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Reporting;
using Greyd.Hosting.Admin.Commands;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd stats</c>: what the running daemon holds and how it is doing.</summary>
public sealed class StatsSubcommand : AdminSubcommand
{
    public override string Name => "stats";

    public override string Summary => "what the store holds, its health and greyd's counters";

    public override string Usage => """
        Usage: greyd stats [--json] [--admin-socket=PATH]

        Counts the triplets (passed and waiting) and auto-whitelisted clients greyd holds,
        with the store's health, the last checkpoint and greyd's settings.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => [];

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        using var answer = await AskAsync(args, client, _ => { }, output, cancellationToken).ConfigureAwait(false);
        if (answer is null)
        {
            return 0;
        }

        var r = answer.RootElement;
        long now = Number(r, "now");
        var settings = r.GetProperty("settings");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"greyd {Text(r, "version")}, up {ReportText.Duration(Number(r, "uptime"))}, store {Text(r, "store")} ({Text(r, "state")})"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"triplets:     {Number(r, "triplets")} ({Number(r, "triplets_passed")} passed, {Number(r, "triplets_waiting")} waiting)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"AWL clients:  {Number(r, "awl_clients")} whitelisted ({Number(r, "awl_counting")} more counting passes)"));
        string checkpoint = r.TryGetProperty("last_checkpoint", out var at) ? ExplainCommand.Ago(now, at.GetInt64()) : "none yet";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"store:        {Number(r, "store_bytes") / 1024} KiB on disk, last checkpoint {checkpoint}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"errors:       {Number(r, "failed_requests")} failed requests, {Number(r, "store_errors")} store, {Number(r, "checkpoint_errors")} checkpoint"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connections:  {Number(r, "connections")} open"));
        if (r.TryGetProperty("shared_store", out var shared))
        {
            bool up = r.GetProperty("shared_store_up").GetBoolean();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"shared store: {shared.GetString()} {(up ? "up" : "DOWN, greylisting from the local store")} ({Number(r, "shared_store_failures")} failures)"));
        }

        int awl = (int)Number(settings, "auto_whitelist_clients");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"settings:     delay {ReportText.Duration(Number(settings, "delay"))}, retry window {ReportText.Duration(Number(settings, "retry_window"))}, max-age {ReportText.Duration(Number(settings, "max_age_days") * 86400)}, {(awl > 0 ? $"AWL after {awl} passes" : "AWL off")}{(settings.GetProperty("privacy").GetBoolean() ? ", privacy on" : string.Empty)}"));
        return 0;
    }
}
