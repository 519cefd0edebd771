using System.Net;
using Greyd.Tests.Shared;

namespace Greyd.PoolBench;

/// <summary>
/// A provider-sized SPF tree on the test DNS server, shaped like the big senders' (a domain including a provider
/// record that includes three netblock records, about 70 ranges in all), and the pool's outbound addresses.
/// </summary>
internal static class PoolZones
{
    public const string Domain = "pool.example";

    /// <summary>The pool's outbound networks: the sender retries from any address in any of them.</summary>
    public static IReadOnlyList<string> Networks(int count) =>
        [.. Enumerable.Range(0, count).Select(i => $"100.{64 + (i / 200)}.{i % 200}")];

    public static void Serve(TestDnsServer dns, int networks)
    {
        dns.AddZone(Domain);
        dns.AddZone("provider.example");
        dns.AddTxt(Domain, 3600, "v=spf1 include:spf.provider.example -all");
        dns.AddTxt("spf.provider.example", 3600, "v=spf1 include:_nb1.provider.example include:_nb2.provider.example include:_nb3.provider.example ~all");
        var blocks = Networks(networks).Select(n => $"ip4:{n}.0/24").ToList();
        for (int i = 0; i < 30; i++)
        {
            blocks.Add($"ip4:10.{i}.0.0/16");
            blocks.Add($"ip6:2001:db8:{i:x}::/48");
        }

        int third = (blocks.Count + 2) / 3;
        for (int i = 0; i < 3; i++)
        {
            // Each record in 255-byte character-strings, as large TXT records are published.
            string text = "v=spf1 " + string.Join(' ', blocks.Skip(i * third).Take(third)) + " ~all";
            dns.AddTxt($"_nb{i + 1}.provider.example", 3600, [.. text.Chunk(255).Select(c => new string(c))]);
        }

        // Senders whose domains' servers never answer: each request asks for a name of its own.
        for (int i = 0; i < 40; i++)
        {
            dns.SetDropped(DeadDomain(i));
        }
    }

    public static string DeadDomain(int i) => $"d{i}.dead.example";

    public static IPAddress Address(string network, int host) => IPAddress.Parse($"{network}.{host}");
}
