using System.Globalization;
using Greyd.PoolBench;

// greyd-poolbench: what --spf-pools costs a request, and what it saves a pool sender.
const string Usage = """
    Usage: greyd-poolbench latency [--requests=N] [--networks=N]
           greyd-poolbench replay --greyd=PATH [--messages=N] [--networks=N] [--spf-timeout=MS]
    """;

var options = args.Skip(1).Select(a => a.TrimStart('-').Split('=', 2)).ToDictionary(a => a[0], a => a.Length > 1 ? a[1] : "");
int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
switch (args.FirstOrDefault())
{
    case "latency":
        InProcessLatency.Run(Int("requests", 200_000), Int("networks", 12));
        return 0;
    case "replay" when options.TryGetValue("greyd", out var greyd):
        return PoolReplay.Run(greyd, Int("messages", 300), Int("networks", 12), Int("spf-timeout", 2000));
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
