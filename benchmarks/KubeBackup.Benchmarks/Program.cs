using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using KubeBackup.Benchmarks;

// dotnet run -c Release --project benchmarks/KubeBackup.Benchmarks -- --filter '*' [--job short]
var config = DefaultConfig.Instance
    .AddColumn(new ThroughputColumn())
    .AddDiagnoser(MemoryDiagnoser.Default);
BenchmarkSwitcher.FromAssembly(typeof(ThroughputColumn).Assembly).Run(args, config);
