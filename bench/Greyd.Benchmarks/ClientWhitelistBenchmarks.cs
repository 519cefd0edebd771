using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Greyd.Policy;
using Greyd.Policy.Whitelists;

namespace Greyd.Benchmarks;

/// <summary>
/// One client-whitelist check against a 500-entry list shaped like a real one (mostly host-name suffixes, some
/// networks and anchored regexes), for a client that matches nothing: the common case and the slowest.
/// </summary>
[MemoryDiagnoser]
public class ClientWhitelistBenchmarks
{
    private ClientWhitelist _list = ClientWhitelist.Empty;
    private byte[] _missName = [];
    private byte[] _hitName = [];
    private ClientAddress _missAddress;

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 500; i++)
        {
            text.AppendLine((i % 10) switch
            {
                0 => string.Create(CultureInfo.InvariantCulture, $"/^mail(out)?{i}\\d*\\.provider{i}\\.example$/"),
                1 => string.Create(CultureInfo.InvariantCulture, $"198.{i % 256}.{i / 256}.0/24"),
                2 => string.Create(CultureInfo.InvariantCulture, $"2001:db8:{i:x}::/48"),
                _ => string.Create(CultureInfo.InvariantCulture, $"outbound.sender{i}.example"),
            });
        }

        var builder = new ClientWhitelist.Builder();
        var diagnostics = new List<WhitelistDiagnostic>();
        WhitelistParser.ParseClients("bench", text.ToString(), builder, diagnostics);
        if (diagnostics.Count > 0)
        {
            throw new InvalidOperationException(diagnostics[0].ToString());
        }

        _list = builder.Build();
        _missName = "mail.some-small-site.example.net"u8.ToArray();
        _hitName = "mx3.outbound.sender497.example"u8.ToArray();
        if (!ClientAddress.TryParse("192.0.2.10"u8, out _missAddress))
        {
            throw new InvalidOperationException("bad benchmark address");
        }
    }

    [Benchmark(Baseline = true)]
    public bool NoMatch() => _list.IsMatch(_missName, _missAddress);

    [Benchmark]
    public bool SuffixMatch() => _list.IsMatch(_hitName, _missAddress);
}
