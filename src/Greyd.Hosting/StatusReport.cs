using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Storage;

namespace Greyd.Hosting;

/// <summary>
/// greyd's health on demand: SIGUSR1 logs one status line with the store's mode, size, last checkpoint and fault
/// counts, the requests answered DUNNO because of a fault, and the open connections.
/// </summary>
internal static class StatusReport
{
    /// <summary>SIGUSR1 on Linux; .NET passes raw signal numbers through <see cref="PosixSignalRegistration"/>.</summary>
    private const PosixSignal SigUsr1 = (PosixSignal)10;

    public static PosixSignalRegistration Register(IGreylistStore store, PolicyService service, PolicyServer server, GreydLog log, Stopwatch started)
    {
        return PosixSignalRegistration.Create(SigUsr1, context =>
        {
            context.Cancel = true;
            // Off the signal thread: measuring the store directory reads the file system.
            ThreadPool.QueueUserWorkItem(_ => log.Write(LogPriority.Notice, Line(store, service, server, started, DateTimeOffset.UtcNow)));
        });
    }

    public static string Line(IGreylistStore store, PolicyService service, PolicyServer server, Stopwatch started, DateTimeOffset now)
    {
        var health = store is IStoreHealth h ? h.GetHealth() : new StoreHealth("unknown", 0, 0, 0, null, 0, 0, Degraded: false);
        string checkpoint = health.LastCheckpoint is { } at
            ? string.Create(CultureInfo.InvariantCulture, $"{at:yyyy-MM-dd'T'HH:mm:ss'Z'} ({Math.Max(0, (long)(now - at).TotalSeconds)}s ago)")
            : "never";
        string state = health.Mode == "memory" ? "memory-only" : health.Degraded || health.Shared is { Up: false } ? "degraded" : "ok";
        string shared = health.Shared is { } s
            ? string.Create(CultureInfo.InvariantCulture, $" shared={s.Name} shared-state={(s.Up ? "up" : "down")} shared-failures={s.Failures}")
            : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"status: state={state} mode={health.Mode} triplets={health.Triplets} clients={health.Clients} store-bytes={health.DiskBytes} last-checkpoint={checkpoint} checkpoint-errors={health.CheckpointErrors} store-errors={health.WriteErrors} failed-requests={service.FaultCount} connections={server.ActiveConnections} uptime={(long)started.Elapsed.TotalSeconds}s{shared}");
    }
}
