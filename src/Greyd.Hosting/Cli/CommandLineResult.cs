namespace Greyd.Hosting.Cli;

/// <summary>What the command line asks for: run with settings, or print a text and exit with a code.</summary>
public sealed class CommandLineResult
{
    private CommandLineResult(GreydSettings? settings, int exitCode, string? output, string? error)
    {
        Settings = settings;
        ExitCode = exitCode;
        Output = output;
        Error = error;
    }

    /// <summary>The settings to run with, or null when greyd should exit at once.</summary>
    public GreydSettings? Settings { get; }

    public int ExitCode { get; }

    /// <summary>Text for stdout (help, version).</summary>
    public string? Output { get; }

    /// <summary>One line for stderr explaining a bad command line.</summary>
    public string? Error { get; }

    public static CommandLineResult Run(GreydSettings settings) => new(settings, 0, null, null);

    public static CommandLineResult Print(string text) => new(null, 0, text, null);

    public static CommandLineResult Fail(string message) => new(null, 1, null, "greyd: " + message);
}
