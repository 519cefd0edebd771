namespace Greyd.IntegrationTests.Harness;

/// <summary>The RESP servers greyd's shared store is tested against.</summary>
public enum SharedStoreKind
{
    /// <summary>redis-server (or valkey-server where only Valkey is packaged).</summary>
    Redis,

    /// <summary>Microsoft Garnet, a .NET RESP server, started with --lua.</summary>
    Garnet,
}
