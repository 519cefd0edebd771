using System.Runtime.InteropServices;
using Greyd.Floor;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;

// The protocol floor: greyd's own listener, connection loop and request reader, answering DUNNO to everything.
// greyd's throughput is measured against this (./build.sh bench).
const string Usage = "usage: greyd-floor --unix=PATH | --inet=[HOST:]PORT";
if (args.Length != 1 || !(args[0].StartsWith("--unix=", StringComparison.Ordinal) || args[0].StartsWith("--inet=", StringComparison.Ordinal)))
{
    Console.Error.WriteLine(Usage);
    return 1;
}

SocketEngine.PreferInlineCompletions();
var log = new GreydLog(Console.OpenStandardError(), LogPriority.Warning);
string value = args[0][(args[0].IndexOf('=', StringComparison.Ordinal) + 1)..];
List<PolicyListener> listeners;
try
{
    listeners = args[0].StartsWith("--unix=", StringComparison.Ordinal)
        ? [PolicyListener.BindUnix(value, 0x1B6, 512)]
        : PolicyListener.BindInet(value, 512);
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"greyd-floor: cannot listen on {value}: {e.Message}");
    return 1;
}

using var shutdown = new CancellationTokenSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
var limits = new ConnectionLimits(log, TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(30));
var server = new PolicyServer(listeners, new DunnoHandler(), log, exim: false, limits, maxConnections: 4096);
log.Write(LogPriority.Warning, $"greyd-floor ready on {string.Join(", ", listeners.Select(l => l.Name))}");
var serving = server.RunAsync(TimeSpan.FromSeconds(1), shutdown.Token);
try
{
    await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
}

// Disposing a listener also removes its socket file.
foreach (var listener in listeners)
{
    listener.Dispose();
}

await serving.ConfigureAwait(false);
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}
