using System.Globalization;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Reporting;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd report</c>: per sender domain, what greylisting cost the mail that came and what it kept out.</summary>
public sealed class ReportSubcommand : AdminSubcommand
{
    public override string Name => "report";

    public override string Summary => "per sender domain: triplets greylisted, passed and after how long, never retried";

    public override string Usage => """
        Usage: greyd report [--since=WHEN] [--until=WHEN] [--domain=DOMAIN] [--top=N] [--json]

        Per sender domain, over whole UTC days of first sighting: how many triplets were greylisted,
        how many retried, how many later passed and after how long (median, 90th percentile, max),
        and how many never retried (counted once their retry window is over; until then: waiting).
          --since=WHEN    first day: YYYY-MM-DD, today, or an age such as 24h, 7d, 2w (default 7d)
          --until=WHEN    last day (default today)
          --domain=DOMAIN only this sender domain and its subdomains
          --top=N         the N domains with most greylisted triplets (default 20; 0 = all)
        greyd counts from its own records as mail arrives; with --privacy all domains are one line.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["since", "until", "domain", "top"];

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        long? top = args.Get("top") is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : throw new SubcommandUsageException($"--top: not a number: {text}")
            : null;
        using var answer = await AskAsync(args, client, request =>
        {
            CopyOptions(args, request, "since", "until", "domain");
            if (top is { } t)
            {
                request.WriteNumber("top", t);
            }
        }, output, cancellationToken).ConfigureAwait(false);
        if (answer is not null)
        {
            await output.WriteAsync(ReportText.Render(answer.RootElement)).ConfigureAwait(false);
        }

        return 0;
    }
}
