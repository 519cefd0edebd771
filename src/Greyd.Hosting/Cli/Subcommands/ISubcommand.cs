namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>One of <c>greyd list|explain|whitelist|delete|stats|report|import-postgrey</c>, run from the command line.</summary>
public interface ISubcommand
{
    string Name { get; }

    /// <summary>One line for <c>greyd --help</c>.</summary>
    string Summary { get; }

    /// <summary>The full usage, for <c>greyd NAME --help</c> and after a usage error.</summary>
    string Usage { get; }

    /// <summary>Runs with the arguments after the name; returns the exit code.</summary>
    Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken);
}
