namespace Greyd.Hosting.Server;

/// <summary>How .NET's socket engine runs greyd's connections.</summary>
public static class SocketEngine
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Answers each request on the socket event thread that saw it arrive instead of handing it to the thread pool,
    /// which saves two thread switches a request; greyd's handler never waits on the network. Call before the
    /// first socket exists; a value already in the environment is kept.
    /// </summary>
    public static void PreferInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }
    }
}
