using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Server;

/// <summary>What a connection may take of greyd's time: its idle, request and write deadlines and the logs of their expiry.</summary>
public sealed class ConnectionLimits
{
    public ConnectionLimits(GreydLog log, TimeSpan idleTimeout, TimeSpan requestTimeout)
    {
        IdleTimeout = idleTimeout;
        RequestTimeout = requestTimeout;
        RequestTimedOut = new RateLimitedLog(log, LogPriority.Warning, $"closing connection: request not complete within {requestTimeout.TotalSeconds:0.###} s of its first byte (--request-timeout)");
        WriteTimedOut = new RateLimitedLog(log, LogPriority.Warning, $"closing connection: client did not read its answer within {requestTimeout.TotalSeconds:0.###} s (--request-timeout)");
    }

    /// <summary>How long a connection may wait between requests (<c>--idle-timeout</c>).</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>
    /// How long a request may take from its first byte to its empty line, and an answer to be taken by the client
    /// (<c>--request-timeout</c>), so that a client trickling bytes or never reading cannot hold a connection for ever.
    /// </summary>
    public TimeSpan RequestTimeout { get; }

    public RateLimitedLog RequestTimedOut { get; }

    public RateLimitedLog WriteTimedOut { get; }
}
