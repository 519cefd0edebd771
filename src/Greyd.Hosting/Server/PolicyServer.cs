using System.Net.Sockets;
using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Server;

/// <summary>
/// Accepts connections on every listener and serves each on its own task, at most <c>--max-connections</c> at
/// once; connections beyond that are closed at once with a rate-limited warning.
/// </summary>
public sealed class PolicyServer
{
    private readonly IReadOnlyList<PolicyListener> _listeners;
    private readonly IPolicyHandler _handler;
    private readonly GreydLog _log;
    private readonly bool _exim;
    private readonly ConnectionLimits _limits;
    private readonly int _maxConnections;
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];
    private int _active;

    /// <summary>Connections being served now (for the status line).</summary>
    public int ActiveConnections => Volatile.Read(ref _active);
    private readonly RateLimitedLog _refusals;

    public PolicyServer(IReadOnlyList<PolicyListener> listeners, IPolicyHandler handler, GreydLog log, bool exim, ConnectionLimits limits, int maxConnections)
    {
        _listeners = listeners;
        _handler = handler;
        _log = log;
        _exim = exim;
        _limits = limits;
        _maxConnections = maxConnections;
        _refusals = new RateLimitedLog(log, LogPriority.Warning, $"connection refused: {maxConnections} connections already open (--max-connections)");
    }

    /// <summary>Serves until <paramref name="shutdown"/> fires, then waits up to <paramref name="drain"/> for open connections.</summary>
    public async Task RunAsync(TimeSpan drain, CancellationToken shutdown)
    {
        var accepts = _listeners.Select(l => AcceptLoopAsync(l, shutdown)).ToArray();
        await Task.WhenAll(accepts).ConfigureAwait(false);
        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }

        await Task.WhenAny(Task.WhenAll(open), Task.Delay(drain, CancellationToken.None)).ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(PolicyListener listener, CancellationToken shutdown)
    {
        int backoff = 0;
        while (!shutdown.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(shutdown).ConfigureAwait(false);
                backoff = 0;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Shutdown or SocketError.NotSocket)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors or buffers: back off instead of spinning, then accept again.
                backoff = Math.Min(backoff == 0 ? 100 : backoff * 2, 5000);
                _log.Write(LogPriority.Warning, $"accept on {listener.Name} failed, retrying in {backoff} ms: {e.Message}");
                try
                {
                    await Task.Delay(backoff, shutdown).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _active) > _maxConnections)
            {
                Interlocked.Decrement(ref _active);
                client.Dispose();
                LogRefusal();
                continue;
            }

            if (_log.IsEnabled(LogPriority.Info))
            {
                _log.Write(LogPriority.Info, $"connect on {listener.Name}" + (client.RemoteEndPoint is System.Net.IPEndPoint peer ? $" from {peer}" : string.Empty));
            }

            Track(Task.Run(() => new PolicyConnection(client, _handler, _log, _exim, _limits).RunAsync(shutdown), CancellationToken.None));
        }
    }

    private void Track(Task connection)
    {
        lock (_gate)
        {
            _connections.Add(connection);
        }

        connection.ContinueWith(
            t =>
            {
                Interlocked.Decrement(ref _active);
                lock (_gate)
                {
                    _connections.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void LogRefusal() => _refusals.Write();
}
