using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Greyd.Load;

// greyd-load: drives a Postfix policy server the way smtpd processes do and reports throughput and latency.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}

var options = LoadOptions.Parse(args, out string? error);
if (options is null)
{
    Console.Error.WriteLine($"greyd-load: {error}");
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

var inv = CultureInfo.InvariantCulture;
if (options.Threads > 0)
{
    // Before the first socket: continuations run on the socket event threads, which are the generator's threads.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", options.Threads.ToString(inv));
}

double readyMs = -1;
if (options.Wait > 0)
{
    var waited = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            if (LoadWorker.Probe(options))
            {
                readyMs = waited.Elapsed.TotalMilliseconds;
                break;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
        }

        if (waited.Elapsed.TotalSeconds > options.Wait)
        {
            Console.Error.WriteLine($"greyd-load: {options.Target} did not answer within {options.Wait} s");
            return 1;
        }

        Thread.Sleep(1);
    }
}

var workers = new LoadWorker[options.Connections];
try
{
    for (int i = 0; i < workers.Length; i++)
    {
        workers[i] = new LoadWorker(options, i);
        workers[i].Open();
    }
}
catch (SocketException e)
{
    Console.Error.WriteLine($"greyd-load: cannot connect to {options.Target}: {e.Message}");
    return 1;
}

long start = Stopwatch.GetTimestamp();
long measureFrom = start + (long)(options.Warmup * Stopwatch.Frequency);
long end = measureFrom + (long)(options.Duration * Stopwatch.Frequency);
if (options.Threads > 0)
{
    await Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(measureFrom, end)))).ConfigureAwait(false);
}
else
{
    var threads = workers.Select(w => new Thread(() => w.Run(measureFrom, end)) { IsBackground = true }).ToArray();
    foreach (var thread in threads)
    {
        thread.Start();
    }

    foreach (var thread in threads)
    {
        thread.Join();
    }
}

var latency = new LatencyHistogram();
long dunno = 0, prepend = 0, other = 0, lastReply = measureFrom;
var failures = new List<string>();
foreach (var w in workers)
{
    latency.Add(w.Latency);
    dunno += w.Dunno;
    prepend += w.Prepend;
    other += w.Other;
    lastReply = Math.Max(lastReply, w.LastReply);
    if (w.Failure is not null)
    {
        failures.Add(w.Failure);
    }
}

// A run bounded by its request count ends with its last reply, not at the deadline.
double seconds = Math.Max(1e-9, (Math.Min(end, workers.All(w => w.Failure is null) && options.RequestsPerConnection != long.MaxValue ? lastReply : end) - measureFrom) / (double)Stopwatch.Frequency);
double rps = latency.Count / seconds;
string drivers = options.Threads > 0 ? $"{options.Threads} event thread(s)" : "a thread each";
Console.WriteLine(string.Create(inv, $"greyd-load: {options.Target}, {options.Connections} connection(s) on {drivers}, {options.Repeat:P0} repeated triplets, {options.Warmup} s warm-up, {seconds:F2} s measured"));
if (readyMs >= 0)
{
    Console.WriteLine(string.Create(inv, $"  ready      first answer after {readyMs:F1} ms"));
}

Console.WriteLine(string.Create(inv, $"  requests   {latency.Count} ({rps:F0}/s), failed connections {failures.Count}"));
Console.WriteLine(string.Create(inv, $"  replies    DUNNO {dunno}, PREPEND {prepend}, other {other}"));
Console.WriteLine(string.Create(inv, $"  latency    p50 {latency.Percentile(0.5):F1} us, p90 {latency.Percentile(0.9):F1} us, p99 {latency.Percentile(0.99):F1} us, max {latency.MaxNanoseconds / 1000.0:F1} us"));
foreach (var failure in failures.Take(5))
{
    Console.WriteLine("  failed     " + failure);
}

Console.WriteLine(string.Create(inv,
    $"result: label={options.Label} target={options.Target} connections={options.Connections} threads={options.Threads} repeat={options.Repeat} seconds={seconds:F3} requests={latency.Count} rps={rps:F0} " +
    $"p50_us={latency.Percentile(0.5):F1} p90_us={latency.Percentile(0.9):F1} p99_us={latency.Percentile(0.99):F1} max_us={latency.MaxNanoseconds / 1000.0:F1} " +
    $"dunno={dunno} prepend={prepend} other={other} failed={failures.Count} ready_ms={readyMs:F1}"));
return failures.Count == 0 && latency.Count > 0 ? 0 : 1;
