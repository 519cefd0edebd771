using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Greyd.Benchmarks.RequestPathBenchmarks).Assembly).Run(args);
