using System.Globalization;
using KubeBackup.Benchmarks.Data;

// kubebackup-benchdata: the benchmark dataset, made the same way on every machine.
//   generate OUT [small|standard|million] [--seed N]   create a dataset in OUT (missing or empty)
//   mutate DIR [small|standard|million] [--seed N]     the deterministic ~5% change, in place, once
//   manifest DIR                                       sorted manifest on stdout (type mode size mtime sha256 path)
//   warm DIR                                           read every file once (fills the page cache)
const string Usage =
    "usage: kubebackup-benchdata generate OUT [small|standard|million] [--seed N]\n" +
    "       kubebackup-benchdata mutate DIR [small|standard|million] [--seed N]\n" +
    "       kubebackup-benchdata manifest DIR\n" +
    "       kubebackup-benchdata warm DIR";

var positional = new List<string>();
ulong seed = Generator.DefaultSeed;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--seed" && i + 1 < args.Length)
    {
        seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture);
    }
    else
    {
        positional.Add(args[i]);
    }
}

if (positional.Count < 2)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string command = positional[0], dir = positional[1];
Profile? profile = Profile.Find(positional.Count > 2 ? positional[2] : "standard");
if (profile is null)
{
    Console.Error.WriteLine($"unknown profile: {positional[2]}");
    return 2;
}

try
{
    switch (command)
    {
        case "generate":
            new Generator(dir, profile, seed).Run();
            return 0;
        case "mutate":
            new Mutator(dir, profile, seed).Run();
            return 0;
        case "manifest":
            using (var stdout = new StreamWriter(Console.OpenStandardOutput()) { NewLine = "\n" })
            {
                Manifest.Write(dir, stdout);
            }

            return 0;
        case "warm":
            Console.WriteLine($"warmed {Manifest.Warm(dir)} bytes");
            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
