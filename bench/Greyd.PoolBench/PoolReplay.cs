using System.Diagnostics;
using System.Globalization;
using Greyd.Tests.Shared;

namespace Greyd.PoolBench;

/// <summary>
/// Replays pool senders against the published greyd, with and without --spf-pools: each message is retried on a
/// big sender's schedule, every attempt from a random address of the pool, until greyd lets it through or the
/// sender gives up after two days. Then DNS trouble: how long a request can wait when DNS does not answer.
/// </summary>
internal static class PoolReplay
{
    private const long T0 = 1_800_000_000;
    private const long GiveUp = 2 * 86400;

    // Seconds after the first attempt: quick retries first, then hourly, as the big providers' queues do.
    private static readonly long[] s_retries = [60, 300, 600, 1200, 2400, 3600, .. Enumerable.Range(2, 47).Select(h => h * 3600L)];

    public static int Run(string greyd, int messages, int networks, int budgetMs)
    {
        using var dns = TestDnsServer.Start();
        PoolZones.Serve(dns, networks);
        var inv = CultureInfo.InvariantCulture;
        var off = Replay(greyd, dns, messages, networks, pools: false);
        var on = Replay(greyd, dns, messages, networks, pools: true);
        Console.WriteLine($"| pool sender ({networks} networks, {messages} messages) | delivered | lost (gave up after 2 days) | delay p50 | delay p90 | delay max | attempts per message | request p50 (µs) | request p99 (µs) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        Row("without --spf-pools", off);
        Row("with --spf-pools", on);

        var trouble = Trouble(greyd, dns, budgetMs);
        Console.WriteLine();
        Console.WriteLine($"| DNS trouble (--spf-timeout={budgetMs}) | requests | slowest (ms) | waited ≥ budget | p50 (ms) |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (what, p, slow) in trouble)
        {
            Console.WriteLine(string.Format(inv, "| {0} | {1} | {2:F1} | {3} | {4:F2} |", what, p.Count, p.MaxMicros / 1000, slow, p.Micros(0.5) / 1000));
        }

        Console.WriteLine(string.Format(inv,
            "result: off_delivered={0} off_lost={1} off_p50_s={2} on_delivered={3} on_lost={4} on_p50_s={5} on_max_s={6} added_p99_us={7:F1} trouble_max_ms={8:F0}",
            off.Delays.Count, off.Lost, Quantile(off.Delays, 0.5), on.Delays.Count, on.Lost, Quantile(on.Delays, 0.5), Quantile(on.Delays, 1),
            on.Latency.Micros(0.99) - off.Latency.Micros(0.99), trouble.Max(t => t.Latency.MaxMicros) / 1000));
        return 0;

        void Row(string what, Outcome o) => Console.WriteLine(string.Format(inv, "| {0} | {1} | {2} | {3} | {4} | {5} | {6:F1} | {7:F0} | {8:F0} |",
            what, o.Delays.Count, o.Lost, Duration(Quantile(o.Delays, 0.5)), Duration(Quantile(o.Delays, 0.9)), Duration(Quantile(o.Delays, 1)),
            (double)o.Attempts / messages, o.Latency.Micros(0.5), o.Latency.Micros(0.99)));
    }

    private sealed record Outcome(List<long> Delays, int Lost, int Attempts, Percentiles Latency);

    private static Outcome Replay(string greyd, TestDnsServer dns, int messages, int networks, bool pools)
    {
        var nets = PoolZones.Networks(networks);
        var random = new Random(42);
        using var daemon = Daemon.Start(greyd, pools ? ["--spf-pools", $"--spf-dns={dns.EndPoint}"] : []);
        using var client = PolicyClient.Connect(daemon.Socket, TimeSpan.FromSeconds(10));
        var queue = new PriorityQueue<(int Message, int Attempt), long>();
        for (int m = 0; m < messages; m++)
        {
            queue.Enqueue((m, 0), T0 + (m * 97L));
        }

        var delays = new List<long>();
        int lost = 0, attempts = 0;
        var latency = new Percentiles();
        while (queue.TryDequeue(out var item, out long at))
        {
            attempts++;
            string address = $"{nets[random.Next(nets.Count)]}.{random.Next(1, 255)}";
            long start = Stopwatch.GetTimestamp();
            string action = client.Ask(
            [
                ("client_address", address), ("client_name", "unknown"), ("helo_name", "out.pool.example"),
                ("sender", $"bounce-{item.Message}@pool.example"), ("recipient", $"user{item.Message}@example.org"),
                ("policy_test_time", at.ToString(CultureInfo.InvariantCulture)),
            ]);
            latency.Add(Stopwatch.GetTimestamp() - start);
            long first = T0 + (item.Message * 97L);
            if (!action.StartsWith("DEFER_IF_PERMIT", StringComparison.Ordinal))
            {
                delays.Add(at - first);
            }
            else if (item.Attempt < s_retries.Length && s_retries[item.Attempt] <= GiveUp)
            {
                queue.Enqueue((item.Message, item.Attempt + 1), first + s_retries[item.Attempt]);
            }
            else
            {
                lost++;
            }
        }

        return new Outcome(delays, lost, attempts, latency);
    }

    // Sequential requests on the real clock while DNS misbehaves (a server that never answers, then no server at all),
    // each from a sender domain of its own, so no cached failure shortens the wait: the pause after 5 timeouts must.
    private static List<(string What, Percentiles Latency, int Slow)> Trouble(string greyd, TestDnsServer dns, int budgetMs)
    {
        var result = new List<(string, Percentiles, int)>();
        foreach (var (what, server) in new[]
        {
            ("a resolver that never answers", dns.EndPoint.ToString()),
            ("no resolver listening (port closed)", $"127.0.0.1:{ClosedPort()}"),
        })
        {
            using var daemon = Daemon.Start(greyd, ["--spf-pools", $"--spf-dns={server}", $"--spf-timeout={budgetMs}"]);
            using var client = PolicyClient.Connect(daemon.Socket, TimeSpan.FromSeconds(10));
            var p = new Percentiles();
            int slow = 0;
            for (int i = 0; i < 40; i++)
            {
                long start = Stopwatch.GetTimestamp();
                client.Ask([("client_address", $"198.51.100.{i + 1}"), ("client_name", "unknown"), ("sender", $"a@{PoolZones.DeadDomain(i)}"), ("recipient", $"r{i}@example.org")]);
                long ticks = Stopwatch.GetTimestamp() - start;
                p.Add(ticks);
                if (ticks * 1000.0 / Stopwatch.Frequency >= budgetMs * 0.9)
                {
                    slow++;
                }
            }

            result.Add((what, p, slow));
        }

        return result;
    }

    private static int ClosedPort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static long Quantile(List<long> values, double q)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string Duration(long seconds) => seconds switch
    {
        < 60 => $"{seconds}s",
        < 3600 => $"{seconds / 60}m{seconds % 60:00}s",
        _ => $"{seconds / 3600}h{seconds % 3600 / 60:00}m",
    };
}
