using BenchmarkDotNet.Attributes;
using Greyd.Policy;

namespace Greyd.Benchmarks;

/// <summary>The engine's triplet decision (<see cref="GreylistPolicy.Decide"/>) for each of its four outcomes.</summary>
[MemoryDiagnoser]
public class PolicyDecisionBenchmarks
{
    private const long Now = 1_700_000_000;

    private readonly GreylistOptions _options = new();
    private TripletObservation _new;
    private TripletObservation _earlyRetry;
    private TripletObservation _firstPass;
    private TripletObservation _pass;

    [GlobalSetup]
    public void Setup()
    {
        _new = TripletMath.Observe(null, Now, _options);
        _earlyRetry = TripletMath.Observe(new TripletRecord(Now - 60, Now - 60), Now, _options);
        _firstPass = TripletMath.Observe(new TripletRecord(Now - 600, Now - 600), Now, _options);
        _pass = TripletMath.Observe(new TripletRecord(Now - 3600, Now - 600), Now, _options);
        Expect(_new, PolicyOutcome.GreylistNew);
        Expect(_earlyRetry, PolicyOutcome.GreylistEarlyRetry);
        Expect(_firstPass, PolicyOutcome.FirstPass);
        Expect(_pass, PolicyOutcome.Pass);
    }

    [Benchmark(Baseline = true)]
    public PolicyDecision New() => GreylistPolicy.Decide(_new, Now, _options);

    [Benchmark]
    public PolicyDecision EarlyRetry() => GreylistPolicy.Decide(_earlyRetry, Now, _options);

    [Benchmark]
    public PolicyDecision FirstPass() => GreylistPolicy.Decide(_firstPass, Now, _options);

    [Benchmark]
    public PolicyDecision Pass() => GreylistPolicy.Decide(_pass, Now, _options);

    private void Expect(TripletObservation observation, PolicyOutcome outcome)
    {
        var actual = GreylistPolicy.Decide(observation, Now, _options).Outcome;
        if (actual != outcome)
        {
            throw new InvalidOperationException($"benchmark case decides {actual}, not {outcome}");
        }
    }
}
