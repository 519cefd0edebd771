using System.Globalization;

namespace Greyd.Load;

/// <summary>The load to generate, from the command line.</summary>
internal sealed class LoadOptions
{
    public const string Usage =
        """
        usage: greyd-load (--unix=PATH | --inet=HOST:PORT) [options]
          -c, --connections=N   connections, each sending one request at a time (default 1)
          -t, --threads=N       drive the connections from N event threads; 0 gives each connection its own
                                thread with a blocking socket, as Postfix gives each smtpd a process (default 0)
          -n, --requests=N      stop each connection after N requests (default: no limit)
          -d, --duration=SEC    stop after SEC seconds of measurement (default 10)
          -w, --warmup=SEC      send for SEC seconds first without measuring (default 1)
          -r, --repeat=SHARE    share of requests that repeat an earlier triplet, 0 to 1 (default 0.5)
          -l, --label=TEXT      name of the server in the result line (default: the socket)
              --spin            with -t 0: poll for each reply instead of sleeping in recv (use with few connections)
              --seed=N          random seed; a run's triplets are unique to its seed (default: from the clock)
              --wait=SEC        wait up to SEC seconds for the server to answer first, and report how long it took
              --known=N         each connection's first N triplets were sent by an earlier run with the same --seed
                                and -c: repeats may pick them, new triplets come after them
        Prints requests per second and latency percentiles, then one line starting with "result:".
        """;

    public string? UnixPath { get; private set; }

    public string? InetHost { get; private set; }

    public int InetPort { get; private set; }

    public int Connections { get; private set; } = 1;

    public int Threads { get; private set; }

    public long RequestsPerConnection { get; private set; } = long.MaxValue;

    public double Duration { get; private set; } = 10;

    public double Warmup { get; private set; } = 1;

    public double Repeat { get; private set; } = 0.5;

    public string Label { get; private set; } = string.Empty;

    public long Seed { get; private set; } = DateTime.UtcNow.Ticks ^ Environment.ProcessId;

    public double Wait { get; private set; }

    public long Known { get; private set; }

    public bool Spin { get; private set; }

    public string Target => UnixPath is not null ? "unix:" + UnixPath : $"inet:{InetHost}:{InetPort}";

    /// <summary>Parses the arguments; returns null with <paramref name="error"/> set when they are wrong.</summary>
    public static LoadOptions? Parse(string[] args, out string? error)
    {
        var o = new LoadOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }
            else if (arg is "-c" or "-t" or "--threads" or "-n" or "-d" or "-w" or "-r" or "-l" or "--connections" or "--requests" or "--duration" or "--warmup" or "--repeat" or "--label" or "--seed" or "--wait" or "--known" or "--unix" or "--inet")
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{arg} needs a value";
                    return null;
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--unix":
                    o.UnixPath = value;
                    break;
                case "--inet":
                    int colon = value?.LastIndexOf(':') ?? -1;
                    if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                    {
                        error = $"--inet needs HOST:PORT, not '{value}'";
                        return null;
                    }

                    o.InetHost = value![..colon].Trim('[', ']');
                    o.InetPort = port;
                    break;
                case "-c" or "--connections":
                    if (!TryInt(value, 1, 10000, out int connections))
                    {
                        error = $"{name} needs a number from 1 to 10000, not '{value}'";
                        return null;
                    }

                    o.Connections = connections;
                    break;
                case "-t" or "--threads":
                    if (!TryInt(value, 0, 64, out int threads))
                    {
                        error = $"{name} needs a number from 0 to 64, not '{value}'";
                        return null;
                    }

                    o.Threads = threads;
                    break;
                case "-n" or "--requests":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long requests) || requests < 1)
                    {
                        error = $"{name} needs a positive number, not '{value}'";
                        return null;
                    }

                    o.RequestsPerConnection = requests;
                    break;
                case "-d" or "--duration":
                    if (!TryDouble(value, 0.1, 86400, out double duration))
                    {
                        error = $"{name} needs seconds from 0.1 to 86400, not '{value}'";
                        return null;
                    }

                    o.Duration = duration;
                    break;
                case "-w" or "--warmup":
                    if (!TryDouble(value, 0, 3600, out double warmup))
                    {
                        error = $"{name} needs seconds from 0 to 3600, not '{value}'";
                        return null;
                    }

                    o.Warmup = warmup;
                    break;
                case "-r" or "--repeat":
                    if (!TryDouble(value, 0, 1, out double repeat))
                    {
                        error = $"{name} needs a share from 0 to 1, not '{value}'";
                        return null;
                    }

                    o.Repeat = repeat;
                    break;
                case "-l" or "--label":
                    o.Label = value ?? string.Empty;
                    break;
                case "--seed":
                    if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seed))
                    {
                        error = $"--seed needs a number, not '{value}'";
                        return null;
                    }

                    o.Seed = seed;
                    break;
                case "--wait":
                    if (!TryDouble(value, 0, 3600, out double wait))
                    {
                        error = $"--wait needs seconds from 0 to 3600, not '{value}'";
                        return null;
                    }

                    o.Wait = wait;
                    break;
                case "--spin":
                    o.Spin = true;
                    break;
                case "--known":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long known))
                    {
                        error = $"--known needs a number, not '{value}'";
                        return null;
                    }

                    o.Known = known;
                    break;
                default:
                    error = $"unknown option '{arg}'";
                    return null;
            }
        }

        if ((o.UnixPath is null) == (o.InetHost is null))
        {
            error = "give one of --unix=PATH or --inet=HOST:PORT";
            return null;
        }

        if (o.Spin && o.Threads > 0)
        {
            error = "--spin needs -t 0 (a thread for each connection)";
            return null;
        }

        if (o.Label.Length == 0)
        {
            o.Label = o.Target;
        }

        if (o.Label.Any(char.IsWhiteSpace))
        {
            error = "--label must not contain spaces";
            return null;
        }

        return o;
    }

    private static bool TryInt(string? text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static bool TryDouble(string? text, double min, double max, out double value) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
}
