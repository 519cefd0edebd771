using System.Text.Json;

namespace Greyd.IntegrationTests.Harness;

/// <summary>Runs <c>greyd COMMAND ...</c> (the published binary) against one daemon's admin socket.</summary>
public sealed class AdminCli(string socketPath)
{
    public string SocketPath { get; } = socketPath;

    /// <summary>Runs a command with --admin-socket added; returns what it printed and its exit code.</summary>
    public ToolResult Run(params string[] args) =>
        ExternalTool.Run(GreydBinary.Path, [.. args, "--admin-socket=" + SocketPath], TimeSpan.FromSeconds(30));

    /// <summary>Runs a command that must succeed and returns its stdout.</summary>
    public string Ok(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result.Stdout;
    }

    /// <summary>Runs a command with --json that must succeed and returns the parsed answer.</summary>
    public JsonElement Json(params string[] args)
    {
        using var document = JsonDocument.Parse(Ok([.. args, "--json"]));
        return document.RootElement.Clone();
    }
}
