using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Greyd.IntegrationTests.Harness;
using Xunit.Abstractions;
using static Greyd.IntegrationTests.Harness.PolicyRequest;

namespace Greyd.IntegrationTests;

/// <summary>
/// A flood of unique triplets: resident memory stays within --store-memory + --store-index + a fixed slack (the rest
/// of the store is on disk), and lookups stay correct afterwards. CI writes 1 million triplets; GREYD_SOAK=1 writes
/// 10 million with the index sized for them.
/// </summary>
[Collection(HeavyLoadCollection.Name)]
public sealed class StoreMemoryTests
{
    private const double SlackMiB = 96;

    private readonly ITestOutputHelper _output;

    public StoreMemoryTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void A_flood_of_unique_triplets_keeps_memory_within_the_store_budget_and_lookups_correct()
    {
        bool soak = Environment.GetEnvironmentVariable("GREYD_SOAK") == "1";
        int count = soak ? 10_000_000 : 1_000_000;
        int memoryMiB = soak ? 32 : 8;
        int indexMiB = soak ? 128 : 16;
        using var greyd = GreydInstance.Start("--allow-policy-test-time", "-q", "--delay=300", $"--store-memory={memoryMiB}", $"--store-index={indexMiB}", "--checkpoint-interval=30");
        double baseline = ProcessMemory.RssMiB(greyd.Process.Pid);
        using var rss = new ProcessMemory.Sampler(greyd.Process.Pid);
        var started = Stopwatch.StartNew();
        const int Connections = 4;
        var runs = Enumerable.Range(0, Connections).Select(c => Task.Run(() => Flood(greyd.SocketPath, c, Connections, count))).ToArray();
        Assert.True(Task.WaitAll(runs, TimeSpan.FromMinutes(soak ? 60 : 3)), "the flood did not finish in time");
        double seconds = started.Elapsed.TotalSeconds;
        double peak = rss.MaxMiB;
        double budget = memoryMiB + indexMiB + SlackMiB;
        _output.WriteLine($"{count:N0} unique triplets in {seconds:0.0} s ({count / seconds:N0}/s) with --store-memory={memoryMiB} --store-index={indexMiB}: RSS {baseline:0.0} MiB at start, peak {peak:0.0} MiB, now {ProcessMemory.RssMiB(greyd.Process.Pid):0.0} MiB (bound {budget:0} MiB)");
        greyd.Process.AssertAlive("after the flood");
        Assert.True(peak < budget, $"greyd RSS reached {peak:0.0} MiB writing {count:N0} triplets (bound {budget:0} MiB)");

        // Sampled lookups: triplets from the flood pass after the delay, unseen ones are greylisted.
        var random = new Random(42);
        using var client = greyd.NewClient();
        for (int i = 0; i < 300; i++)
        {
            int n = random.Next(count);
            string reply = client.Ask(Triplet(n, 400));
            Assert.False(reply.StartsWith("action=DEFER_IF_PERMIT", StringComparison.Ordinal), $"triplet {n} written in the flood was forgotten: {reply}");
        }

        for (int i = 0; i < 100; i++)
        {
            string reply = client.Ask(Triplet(count + i, 400));
            Assert.StartsWith("action=DEFER_IF_PERMIT", reply, StringComparison.Ordinal);
        }

        _output.WriteLine($"RSS after the lookups {ProcessMemory.RssMiB(greyd.Process.Pid):0.0} MiB");
        Assert.Equal(0, greyd.Process.Stop());
    }

    private static PolicyRequest Triplet(int n, long t) =>
        DWithoutTime().With("policy_test_time", (T0 + t).ToString(CultureInfo.InvariantCulture)).With("recipient", $"u{n}@flood.example");

    private static void Flood(string socketPath, int connection, int connections, int count)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        int mine = 0;
        for (int n = connection; n < count; n += connections)
        {
            mine++;
        }

        var reading = Task.Run(() =>
        {
            // Every answer must be a greylisting: each triplet is new.
            var buffer = new byte[1 << 16];
            int carry = 0;
            int replies = 0;
            byte[] expected = "action=DEFER_IF_PERMIT"u8.ToArray();
            while (replies < mine)
            {
                int n = socket.Receive(buffer, carry, buffer.Length - carry, SocketFlags.None);
                Assert.True(n > 0, $"connection {connection} closed after {replies} of {mine} replies");
                int end = carry + n;
                int start = 0;
                while (true)
                {
                    int at = buffer.AsSpan(start, end - start).IndexOf("\n\n"u8);
                    if (at < 0)
                    {
                        break;
                    }

                    Assert.True(buffer.AsSpan(start, at).StartsWith(expected), $"reply {replies} on connection {connection}: {Encoding.UTF8.GetString(buffer, start, at)}");
                    replies++;
                    start += at + 2;
                }

                carry = end - start;
                buffer.AsSpan(start, carry).CopyTo(buffer);
            }
        });

        var batch = new StringBuilder();
        for (int n = connection, inBatch = 0; n < count; n += connections)
        {
            batch.Append("request=smtpd_access_policy\npolicy_test_time=").Append(T0.ToString(CultureInfo.InvariantCulture))
                .Append("\nclient_name=mail.example.net\nclient_address=192.0.2.10\nsender=alice@example.net\nrecipient=u")
                .Append(n.ToString(CultureInfo.InvariantCulture)).Append("@flood.example\n\n");
            if (++inBatch == 500 || n + connections >= count)
            {
                socket.Send(Encoding.ASCII.GetBytes(batch.ToString()));
                batch.Clear();
                inBatch = 0;
            }
        }

        reading.GetAwaiter().GetResult();
    }
}
