namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>A subcommand was called wrongly: the message and the usage are printed, and greyd exits with 2.</summary>
public sealed class SubcommandUsageException : Exception
{
    public SubcommandUsageException()
    {
    }

    public SubcommandUsageException(string message)
        : base(message)
    {
    }

    public SubcommandUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
