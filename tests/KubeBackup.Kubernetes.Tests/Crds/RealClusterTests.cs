using System.Diagnostics;

namespace KubeBackup.Kubernetes.Tests.Crds;

/// <summary>A fact that runs only against a real cluster (KUBECONFIG set): what the fake API server cannot prove,
/// the API server's own CRD schema and RBAC validation.</summary>
public sealed class RealClusterFactAttribute : FactAttribute
{
    public RealClusterFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBECONFIG")))
        {
            Skip = "set KUBECONFIG to run against a real cluster";
        }
    }
}

public sealed class RealClusterTests
{
    [RealClusterFact]
    public async Task The_api_server_accepts_the_manifests_in_a_server_side_dry_run()
    {
        var deploy = Path.Combine(AppContext.BaseDirectory[..AppContext.BaseDirectory.IndexOf("/tests/", StringComparison.Ordinal)], "deploy");
        var psi = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", "--dry-run=server", "-f", Path.Combine(deploy, "crds"), "-f", Path.Combine(deploy, "rbac"), "-f", Path.Combine(deploy, "webhook") })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await stderr + stdout);
        Assert.Contains("repositories.kubebackup.io", stdout, StringComparison.Ordinal);
    }
}
