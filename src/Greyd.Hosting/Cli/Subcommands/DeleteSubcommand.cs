using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary><c>greyd delete</c>: forget a triplet or an AWL client on the running daemon.</summary>
public sealed class DeleteSubcommand : AdminSubcommand
{
    public override string Name => "delete";

    public override string Summary => "forget a triplet or an auto-whitelisted client";

    public override string Usage => """
        Usage: greyd delete --client-address=IP --sender=ADDRESS --recipient=ADDRESS
               greyd delete --key=KEY
               greyd delete --client-address=IP

        Forgets a triplet (given as a request would give it, or by its key as greyd list shows it),
        or with --client-address alone the client's auto-whitelist record. Its next mail starts over.
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["client-address", "sender", "recipient", "key"];

    protected override void Validate(SubcommandArguments args)
    {
        base.Validate(args);
        if ((args.Get("key") is null) == (args.Get("client-address") is null))
        {
            throw new SubcommandUsageException("give --key, or --client-address (with --sender and --recipient for a triplet)");
        }
    }

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        using var answer = await AskAsync(args, client, request => CopyOptions(args, request, "client-address", "sender", "recipient", "key"), output, cancellationToken).ConfigureAwait(false);
        if (answer is not null)
        {
            output.WriteLine(AdminLog.Clean(Text(answer.RootElement, "message")));
        }

        return 0;
    }
}
