using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>
/// <c>greyd COMMAND ...</c>: the operations commands of the same binary. The daemon keeps <c>greyd [options]</c>;
/// a first argument that is not an option names a command.
/// </summary>
public static class GreydSubcommands
{
    private static readonly ISubcommand[] s_all =
    [
        new ListSubcommand(),
        new ExplainSubcommand(),
        new WhitelistSubcommand(),
        new DeleteSubcommand(),
        new StatsSubcommand(),
        new ReportSubcommand(),
        new ImportPostgreySubcommand(),
    ];

    public static IEnumerable<string> Names => s_all.Select(c => c.Name);

    /// <summary>True when the command line names a command rather than daemon options.</summary>
    public static bool IsSubcommand(IReadOnlyList<string> args) => args.Count > 0 && !args[0].StartsWith('-');

    /// <summary>Runs the named command; returns the exit code (0 done, 1 refused or failed, 2 wrong usage).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var command = s_all.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            await error.WriteLineAsync($"greyd: unknown command '{AdminLog.Clean(args[0])}' (commands: {string.Join(", ", Names)}; daemon options start with --)").ConfigureAwait(false);
            return 2;
        }

        var rest = args.Skip(1).ToList();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            await output.WriteAsync(command.Usage + "\n").ConfigureAwait(false);
            return 0;
        }

        using var cancel = new CancellationTokenSource();
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });
        try
        {
            return await command.RunAsync(rest, output, cancel.Token).ConfigureAwait(false);
        }
        catch (SubcommandUsageException e)
        {
            await error.WriteLineAsync($"greyd {command.Name}: {AdminLog.Clean(e.Message)}\n\n{command.Usage}").ConfigureAwait(false);
            return 2;
        }
        catch (AdminException e)
        {
            await error.WriteLineAsync($"greyd {command.Name}: {AdminLog.Clean(e.Message)}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync($"greyd {command.Name}: interrupted").ConfigureAwait(false);
            return 1;
        }
    }
}
