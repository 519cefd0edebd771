namespace Greyd.IntegrationTests.Harness;

/// <summary>Load tests that measure latency and memory run alone, after the parallel tests, so those do not skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyLoadCollection
{
    public const string Name = "heavy load";
}
