using System.Text;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>postgrey-behaviour.md §8.11 (V78-V88, M12): lookup by host, IPv6 and CIDR options, privacy.</summary>
public sealed class KeyVariantTests
{
    [Fact]
    public void Lookup_by_host_keys_the_triplet_by_the_full_address()
    {
        using var greyd = GreydInstance.StartForVectors("--lookup-by-host");
        var client = greyd.Connect();
        Step("V78", GT(), client.Ask(D(0)));
        Step("V79 other host in the same /24", GT(), client.Ask(D(300).With("client_address", "192.0.2.11")));
        StepXG("V78 same host passes", 300, client.Ask(D(300)));
        Step("V80", GT(), client.Ask(D(0).With("client_address", "2001:DB8::1")));
        StepXG("V80 same IPv6 host written differently", 300, client.Ask(D(300).With("client_address", "2001:db8:0:0:0:0:0:1")));
    }

    [Fact]
    public void By_default_IPv6_clients_are_grouped_by_their_64_bit_prefix()
    {
        using var greyd = GreydInstance.StartForVectors();
        var client = greyd.Connect();
        Step("V81", GT(), client.Ask(D(0).With("client_address", "2001:DB8:0:0:abcd::1")));
        StepXG("V82 same /64", 300, client.Ask(D(300).With("client_address", "2001:db8::ffff:1")));
        Step("V83 other /64", GT(), client.Ask(D(300).With("client_address", "2001:db8:0:1::1")));
    }

    [Fact]
    public void The_cidr_options_set_the_IPv4_and_IPv6_prefix_lengths()
    {
        using var greyd = GreydInstance.StartForVectors("--ipv4cidr=16", "--ipv6cidr=48");
        var client = greyd.Connect();
        Step("V84", GT(), client.Ask(D(0).With("client_address", "10.1.2.3")));
        StepXG("V85 same /16", 300, client.Ask(D(300).With("client_address", "10.1.200.3")));
        Step("V85 other /16", GT(), client.Ask(D(300).With("client_address", "10.2.2.3")));
        Step("V86", GT(), client.Ask(D(0).With("client_address", "2001:db8:ab:cd::1")));
        StepXG("V86 same /48", 300, client.Ask(D(300).With("client_address", "2001:db8:ab:ffff::2")));
        Step("V86 other /48", GT(), client.Ask(D(300).With("client_address", "2001:db8:ac::1")));
    }

    [Fact]
    public void An_ipv4cidr_of_32_keys_by_the_bare_address()
    {
        using var greyd = GreydInstance.StartForVectors("--ipv4cidr=32");
        var client = greyd.Connect();
        Step("M12", GT(), client.Ask(D(0).With("client_address", "192.0.2.77")));
        Step("M12 neighbour", GT(), client.Ask(D(300).With("client_address", "192.0.2.78")));
        StepXG("M12 same address", 300, client.Ask(D(300).With("client_address", "192.0.2.77")));
    }

    [Fact]
    public void Privacy_mode_decides_the_same_and_writes_no_address_in_clear_to_the_database()
    {
        using var greyd = GreydInstance.StartForVectors("--privacy");
        var client = greyd.Connect();
        Step("V87", GT(), client.Ask(D(0)));
        StepXG("V88", 300, client.Ask(D(300)));
        Step("V88 then DUNNO", Dunno, client.Ask(D(301)));
        Assert.Equal(0, greyd.Process.Stop());

        foreach (string file in Directory.EnumerateFiles(greyd.DbDir, "*", SearchOption.AllDirectories))
        {
            byte[] content = File.ReadAllBytes(file);
            foreach (string secret in new[] { "alice@example.net", "bob@example.org", "192.0.2.10", "192.0.2.0" })
            {
                Assert.False(
                    content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(secret)) >= 0,
                    $"--privacy: the database file {file} contains '{secret}' in clear");
            }
        }
    }
}
