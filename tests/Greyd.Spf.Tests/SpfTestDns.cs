using System.Net;
using Greyd.Spf.Evaluation;
using Greyd.Tests.Shared;

namespace Greyd.Spf.Tests;

/// <summary>Runs check_host() over a <see cref="FakeSpfDns"/> with the tests' usual sender.</summary>
internal static class SpfTestDns
{
    public static ValueTask<SpfCheck> CheckAsync(FakeSpfDns dns, string client, string domain = "example.org", string? sender = null)
        => new SpfEvaluator(dns).CheckHostAsync(IPAddress.Parse(client), domain, sender ?? "user@" + domain, "mail.example.net", CancellationToken.None);

    /// <summary>A record for example.org and a check from <paramref name="client"/>.</summary>
    public static ValueTask<SpfCheck> CheckRecordAsync(string record, string client, FakeSpfDns? dns = null)
    {
        dns ??= new FakeSpfDns();
        dns.AddTxt("example.org", record);
        return CheckAsync(dns, client);
    }
}
